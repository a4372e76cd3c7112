"""Odoo-independent logic of l10n_cl_dte_async.

Nothing in this package imports ``odoo``: it is used by the addon (models and
controller) and, unchanged, by the plain tests and the command-line tools under
``odoo/tools`` (which put the addon directory on ``sys.path`` and import
``dtelib`` directly). Every module uses relative imports only.

Modules:

- ``decimals``: exact decimal arithmetic with the SII's rounding (half up).
- ``texts``: ISO-8859-1 sanitising and truncation to the SII's lengths.
- ``rut``: Chilean RUT normalisation and módulo-11 check.
- ``jsonenc``: the canonical JSON encoding of a request (exact decimals).
- ``builder``: plain invoice data -> DTE request (the repo's JSON Schema).
- ``signature``: the ``X-DTE-Signature`` HMAC header, both directions.
- ``transitions``: the document status machine (out-of-order safe).
- ``enqueue_client``: the HTTP POST to enqueue and the outcome of it.
- ``problems``: enqueue's 400 field errors, worded in Spanish.
- ``messages``: user-facing Spanish texts (chatter, errors).
- ``callback``: the ``/api/dte/callback`` decision logic behind a store.
"""
