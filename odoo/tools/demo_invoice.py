"""Post a factura (33) and send it through the pipeline, then follow its status.

An ``odoo-bin shell`` script (odoo/README.md, "Try it"), the same as posting
an invoice in the web client and clicking «Enviar DTE (async)»::

    python3 "$ODOO_SRC/odoo-bin" shell -d dte_demo --addons-path=... < odoo/tools/demo_invoice.py

It prints each status the pipeline reports (read back from the database, as
the form shows it) and exits 0 once the SII simulator accepted the document,
1 when it settles otherwise or DTE_WAIT seconds (default 120) pass.
"""
import os
import sys
import time

from odoo import Command, fields

WAIT = float(os.environ.get('DTE_WAIT') or 120)

customer = env['res.partner'].search([('vat', '=', '77654321-7')], limit=1)  # noqa: F821
vat = env.company.account_sale_tax_id  # 19 % IVA of the Chilean chart  # noqa: F821
if not customer:
    raise SystemExit('demo_invoice: run odoo/tools/demo_setup.py first (no customer 77654321-7)')
move = env['account.move'].create({  # noqa: F821
    'move_type': 'out_invoice',
    'partner_id': customer.id,
    'invoice_date': fields.Date.context_today(customer),
    'invoice_line_ids': [
        Command.create({'name': 'Desarrollo de módulo', 'quantity': 1, 'price_unit': 150000,
                        'tax_ids': [Command.set(vat.ids)]}),
        Command.create({'name': 'Soporte mensual', 'quantity': 2, 'price_unit': 12500,
                        'tax_ids': [Command.set(vat.ids)]}),
    ],
})
move.action_post()
env.cr.commit()  # noqa: F821
print(f'demo_invoice: posted {move.name} (id {move.id}), total {move.amount_total:.0f} CLP')
start = time.monotonic()
move.action_dte_async_send()
env.cr.commit()  # noqa: F821
print(f'demo_invoice: {time.monotonic() - start:5.2f}s  {move.dte_async_status} ({move.dte_async_dtekey})')
seen = move.dte_async_status
while time.monotonic() - start < WAIT:
    env.cr.rollback()  # a new snapshot: what the callbacks committed  # noqa: F821
    env.invalidate_all()  # noqa: F821
    status = move.dte_async_status
    if status != seen:
        seen = status
        track = f' TrackID {move.dte_async_track_id}' if move.dte_async_track_id else ''
        sii = f' SII {move.dte_async_sii_code}' if move.dte_async_sii_code else ''
        print(f'demo_invoice: {time.monotonic() - start:5.2f}s  {status}{track}{sii}')
    if status in ('accepted', 'objected', 'rejected'):
        break
    time.sleep(0.2)
for message in move.message_ids.sorted('id'):
    if message.author_id and message.body:
        print(f'demo_invoice: chatter [{message.author_id.name}] {message.body.striptags() if hasattr(message.body, "striptags") else message.body}')
sys.exit(0 if seen == 'accepted' else 1)
