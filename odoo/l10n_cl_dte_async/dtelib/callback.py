"""What ``POST /api/dte/callback`` answers, independent of Odoo.

The controller hands the raw request to :func:`process` together with a
*store*, the small interface to the database that the Odoo controller
implements with the ORM (and the plain tests with dicts)::

    store.callback_secrets() -> [(scope, secret), ...]   # one per company
    store.load_move(move_id) -> MoveState | None         # locks the move
    store.event_seen(event_id) -> bool
    store.record(move, event, decision) -> bool          # False: lost a race
                                                         # to the same event id

Checks, in this order, each with its answer:

1. ``X-Odoo-Database`` names another database            -> 404
2. signature missing, malformed, stale (±5 min) or wrong -> 401
3. body is not a valid event                             -> 400
4. ``move_id`` unknown                                    -> 404
5. signed with another company's secret                  -> 401
6. ``dtekey`` is not the move's                           -> 409
7. event id already seen                                 -> 200 duplicate
8. status would move backwards / after final             -> 200 ignored
9. otherwise                                             -> 200 applied

Every event that passes 1-6 is recorded, applied or ignored, so that a replay
of it is a duplicate.
"""

import base64
import binascii
import datetime
import hashlib
import json
import re
from collections import namedtuple

from . import signature, transitions

DB_HEADER = "X-Odoo-Database"
MAX_TEXT = 4000

Event = namedtuple("Event", "event_id dtekey move_id status track_id sii_state message occurred_at trace_id "
                           "attachments attachments_error", defaults=((), ""))
# One file of an accepted document (docs/design.md, "What the customer
# receives"): kind "pdf" (the printed DTE) or "receiver_envelope" (the
# EnvioDTE addressed to the receiver); data is the decoded bytes, b"" when
# the pipeline sent it without (attachments_error says why).
Attachment = namedtuple("Attachment", "kind name mimetype archive_key sha256 size data")
ATTACHMENT_KINDS = {"pdf": "application/pdf", "receiver_envelope": "application/xml"}
ACCEPTED_STATUSES = ("accepted", "objected")
MoveState = namedtuple("MoveState", "move_id scope dtekey status status_at")
Response = namedtuple("Response", "status body")

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_DTEKEY = re.compile(r"^[1-9][0-9]{0,7}-[0-9K]-[0-9]{1,3}-[0-9]{1,10}$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


class PayloadError(ValueError):
    """The body is not a callback event."""


def parse_time(text):
    """RFC 3339 text (Go's RFC3339 or RFC3339Nano) -> aware datetime in UTC."""
    match = _RFC3339.match(str(text or "").strip())
    if not match:
        raise PayloadError(f"occurred_at {text!r} is not an RFC 3339 time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if zone in ("Z", "z"):
        tz = datetime.timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        value = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute),
                                  min(int(second), 59), micro, tzinfo=tz)
    except ValueError as err:
        raise PayloadError(f"occurred_at {text!r}: {err}") from None
    return value.astimezone(datetime.timezone.utc)


def _text(doc, key, required=False, limit=MAX_TEXT):
    value = doc.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise PayloadError(f"{key} must be a string")
    value = value.strip()
    if required and not value:
        raise PayloadError(f"{key} is required")
    return value[:limit]


def parse_event(raw):
    """Read and check the callback body; raise PayloadError."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("the body is not JSON") from None
    if not isinstance(doc, dict):
        raise PayloadError("the body is not a JSON object")
    event_id = _text(doc, "event_id", required=True, limit=MAX_TEXT)
    if len(event_id) > 255:
        raise PayloadError("event_id is longer than 255 characters")
    dtekey = _text(doc, "dtekey", required=True, limit=64)
    if not _DTEKEY.match(dtekey):
        raise PayloadError(f"dtekey {dtekey!r} is not {{rut}}-{{type}}-{{folio}}")
    move_id = doc.get("move_id")
    if isinstance(move_id, str) and move_id.strip().isdigit():
        move_id = int(move_id.strip())
    if isinstance(move_id, bool) or not isinstance(move_id, int) or move_id < 1:
        raise PayloadError("move_id must be a positive integer")
    status = _text(doc, "status", required=True, limit=32)
    if status not in transitions.EVENT_STATUSES:
        raise PayloadError(f"status {status!r} is not one of {', '.join(transitions.EVENT_STATUSES)}")
    occurred_at = parse_time(doc.get("occurred_at"))
    # The document's trace (docs/design.md, "Odoo callback"); optional, "" for none.
    trace_id = _text(doc, "trace_id", limit=64)
    if trace_id and (not _TRACE_ID.match(trace_id) or not int(trace_id, 16)):
        raise PayloadError(f"trace_id {trace_id!r} is not 32 lowercase hex digits")
    attachments = parse_attachments(doc.get("attachments"), status)
    return Event(event_id, dtekey, move_id, status, _text(doc, "track_id", limit=64),
                 _text(doc, "sii_state", limit=64), _text(doc, "message"), occurred_at, trace_id,
                 attachments, _text(doc, "attachments_error"))


_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def parse_attachments(value, status):
    """The callback's optional ``attachments``: a tuple of Attachment.

    Only accepted and objected carry them; each file's data must be base64
    whose size and SHA-256 are the ones announced, and its kind, name and
    mimetype those the contract allows. Raise PayloadError otherwise.
    """
    if value is None or value == []:
        return ()
    if not isinstance(value, list):
        raise PayloadError("attachments must be a list")
    if status not in ACCEPTED_STATUSES:
        raise PayloadError(f"attachments come with accepted or objected, not {status}")
    if len(value) > len(ATTACHMENT_KINDS):
        raise PayloadError(f"at most {len(ATTACHMENT_KINDS)} attachments")
    out, kinds = [], set()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise PayloadError(f"attachments[{i}] must be an object")
        kind = _text(item, "kind", required=True, limit=32)
        if kind not in ATTACHMENT_KINDS or kind in kinds:
            raise PayloadError(f"attachments[{i}].kind {kind!r}: one each of {', '.join(sorted(ATTACHMENT_KINDS))}")
        kinds.add(kind)
        name = _text(item, "name", required=True, limit=200)
        if not _FILE_NAME.match(name):
            raise PayloadError(f"attachments[{i}].name {name!r} is not a plain file name")
        mimetype = _text(item, "mimetype", required=True, limit=64)
        if mimetype != ATTACHMENT_KINDS[kind]:
            raise PayloadError(f"attachments[{i}].mimetype {mimetype!r}: a {kind} is {ATTACHMENT_KINDS[kind]}")
        digest = _text(item, "sha256", required=True, limit=64).lower()
        size = item.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise PayloadError(f"attachments[{i}].size must be a non-negative integer")
        data = b""
        encoded = item.get("data") or ""
        if encoded:
            if not isinstance(encoded, str):
                raise PayloadError(f"attachments[{i}].data must be a string")
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise PayloadError(f"attachments[{i}].data is not base64") from None
            if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
                raise PayloadError(f"attachments[{i}] ({name}): its data does not match its size and sha256")
        out.append(Attachment(kind, name, mimetype, _text(item, "archive_key", limit=200), digest, size, data))
    return tuple(out)


def attachments_to_create(existing, attachments):
    """Which of ``attachments`` (with data) a move does not hold yet.

    ``existing`` are the move's attachments as (name, sha1 hex) pairs, sha1
    being what Odoo's ir.attachment stores as its checksum: a replayed
    callback, or the same files under another event, adds nothing.
    """
    have = {(name, checksum) for name, checksum in existing}
    return [a for a in attachments
            if a.data and (a.name, hashlib.sha1(a.data).hexdigest()) not in have]


def _header(headers, name):
    value = headers.get(name)
    if value is None and hasattr(headers, "items"):
        lower = name.lower()
        for key, item in headers.items():
            if key.lower() == lower:
                return item
    return value


def process(store, headers, raw, now, current_db):
    """Decide the answer to one callback request (see the module docstring)."""
    database = _header(headers, DB_HEADER)
    if database and database.strip() != current_db:
        return Response(404, {"error": "unknown database", "detail": f"this server answers for {current_db!r}"})

    scopes = [(scope, secret) for scope, secret in store.callback_secrets() if secret]
    if not scopes:
        return Response(401, {"error": "invalid signature", "detail": "no callback secret is configured in Odoo"})
    try:
        matched = signature.verify([secret for _scope, secret in scopes],
                                   _header(headers, signature.HEADER), raw, now)
    except signature.SignatureError as err:
        return Response(401, {"error": "invalid signature", "detail": err.kind})
    # Two companies may share a secret: any scope signed with it is acceptable.
    allowed = {s for s, secret in scopes if secret == scopes[matched][1]}

    try:
        event = parse_event(raw)
    except PayloadError as err:
        return Response(400, {"error": "invalid payload", "detail": str(err)})

    move = store.load_move(event.move_id)
    if move is None:
        return Response(404, {"error": "unknown move", "move_id": event.move_id})
    if move.scope not in allowed:
        return Response(401, {"error": "invalid signature",
                              "detail": "signed with the secret of another company"})
    if not move.dtekey or move.dtekey != event.dtekey:
        return Response(409, {"error": "dtekey mismatch", "move_id": event.move_id,
                              "dtekey": event.dtekey, "expected": move.dtekey or ""})
    if store.event_seen(event.event_id):
        return Response(200, {"result": "duplicate", "event_id": event.event_id})

    decision = transitions.decide(move.status, move.status_at, event.status, event.occurred_at)
    if not store.record(move, event, decision):
        return Response(200, {"result": "duplicate", "event_id": event.event_id})
    result = "applied" if decision.applied else "ignored"
    return Response(200, {"result": result, "event_id": event.event_id, "status": decision.status})
