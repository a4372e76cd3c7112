"""The document's status machine, safe against events that arrive out of order.

Statuses (the Odoo field ``dte_async_status``; the pipeline reports all but
``not_sent``)::

    not_sent < queued < signed < sent < final
    final = accepted | objected (accepted with objections) | rejected
    error: the pipeline gave up (dead letter or permanent failure)
    retrying: a stage failed transiently and retries by itself later

Rules (docs/design.md, "Odoo callback"):

- a final status never changes;
- ``error`` is applied whenever the current status is not final (from
  ``error`` itself only when the new error is newer, so a late copy of an old
  failure does not overwrite a newer reason);
- from ``error``, a final status (the SII's word, whenever it comes) or a
  later event (by ``occurred_at``) of any other status moves the status on: a
  replayed dead letter completes the document; an event no newer than the
  error is stale and ignored;
- ``retrying`` is applied over any status that is not final when it happened
  no earlier than the current one (a stale retry of an earlier stage does not
  hide progress); from ``retrying``, a final status, or any event that
  happened no earlier, moves the status on (the retry succeeded; times have a
  resolution of one second, and a retry forced by an operator can succeed
  within the second it was reported);
- otherwise an event is applied only when it moves the status forward:
  ``sent`` after ``accepted`` is ignored, ``signed`` after ``sent`` is ignored,
  ``queued`` twice is ignored.

Duplicates (the same event id twice) never reach this function: the callback
drops them first.
"""

from collections import namedtuple

NOT_SENT = "not_sent"
QUEUED = "queued"
SIGNED = "signed"
SENT = "sent"
ACCEPTED = "accepted"
OBJECTED = "objected"
REJECTED = "rejected"
ERROR = "error"
RETRYING = "retrying"

STATUSES = (NOT_SENT, QUEUED, SIGNED, SENT, ACCEPTED, OBJECTED, REJECTED, ERROR, RETRYING)
EVENT_STATUSES = (QUEUED, SIGNED, SENT, ACCEPTED, OBJECTED, REJECTED, ERROR, RETRYING)
FINAL = frozenset({ACCEPTED, OBJECTED, REJECTED})
IN_FLIGHT = frozenset({QUEUED, SIGNED, SENT, RETRYING})
SENDABLE = frozenset({NOT_SENT, ERROR})
# A rejected document may be cancelled in Odoo and issued again as a new
# document (a new folio): the SII never accepted it.
REISSUABLE = frozenset({REJECTED})
# Every status a document reaches once the pipeline has it, except those
# above: its folio is bound to the content that was sent, so reset to
# draft, cancel, delete and edits of what is in the DTE are refused. A status
# added later (for example a retrying state) is frozen unless listed above.
FROZEN = frozenset(STATUSES) - {NOT_SENT} - REISSUABLE

RANK = {NOT_SENT: 0, QUEUED: 1, SIGNED: 2, SENT: 3, ACCEPTED: 4, OBJECTED: 4, REJECTED: 4}

Decision = namedtuple("Decision", "applied status reason")


def decide(current, current_at, incoming, incoming_at):
    """Decide what an incoming event does to a document.

    ``current``: the document's status (a value of STATUSES; falsy = not_sent).
    ``current_at``: when the current status happened (aware datetime) or None.
    ``incoming``/``incoming_at``: the event's status and occurred_at.

    Returns ``Decision(applied, status, reason)`` where ``status`` is the
    status after the event.
    """
    if incoming not in EVENT_STATUSES:
        raise ValueError(f"unknown status {incoming!r}")
    current = current or NOT_SENT
    if current not in STATUSES:
        raise ValueError(f"unknown current status {current!r}")
    if current in FINAL:
        return Decision(False, current, "final")
    if incoming == ERROR:
        if current == ERROR and current_at is not None and incoming_at <= current_at:
            return Decision(False, current, "older-error")
        return Decision(True, ERROR, "error")
    if current == ERROR:
        # A final status is the SII's word: it applies whenever it comes.
        if incoming in FINAL or current_at is None or incoming_at > current_at:
            return Decision(True, incoming, "after-error")
        return Decision(False, current, "older-than-error")
    if incoming == RETRYING:
        if current == NOT_SENT or current_at is None or incoming_at >= current_at:
            return Decision(True, RETRYING, "retrying")
        return Decision(False, current, "older-retry")
    if current == RETRYING:
        if incoming in FINAL or current_at is None or incoming_at >= current_at:
            return Decision(True, incoming, "after-retrying")
        return Decision(False, current, "older-than-retrying")
    if RANK[incoming] > RANK[current]:
        return Decision(True, incoming, "forward")
    return Decision(False, current, "not-forward")


def is_frozen(status):
    """True when the document's DTE content may no longer change in Odoo."""
    return (status or NOT_SENT) in FROZEN


def folio_bound(status):
    """True once the folio reached the pipeline (it can never carry other content)."""
    return (status or NOT_SENT) != NOT_SENT


def can_send(status):
    """True when the document may be (re)sent: never sent, or failed."""
    return (status or NOT_SENT) in SENDABLE
