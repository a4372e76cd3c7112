"""The callback's answers (401, 404, 409, 400, 200 applied/ignored/duplicate)
and its idempotency, against an in-memory store shaped like the Odoo one."""

import datetime
import json
import unittest

import _support  # noqa: F401  (sys.path)
from dtelib import callback, signature
from dtelib import transitions as t

DB = "odoo"
NOW = 1_800_000_000
SECRET_A = "callback-secret-a"
SECRET_B = "callback-secret-b"
KEY = "76086428-5-33-1042"


class MemoryStore:
    """The store protocol of dtelib.callback, with dicts."""

    def __init__(self):
        self.secrets = {1: SECRET_A, 2: SECRET_B, 3: ""}
        self.moves = {
            501: {"scope": 1, "dtekey": KEY, "status": t.QUEUED, "status_at": None},
            777: {"scope": 2, "dtekey": "96790240-3-33-7", "status": t.QUEUED, "status_at": None},
            900: {"scope": 1, "dtekey": "", "status": t.NOT_SENT, "status_at": None},
        }
        self.events = {}
        self.applied = []
        self.race_on = None

    def callback_secrets(self):
        return list(self.secrets.items())

    def load_move(self, move_id):
        m = self.moves.get(move_id)
        if m is None:
            return None
        return callback.MoveState(move_id, m["scope"], m["dtekey"], m["status"], m["status_at"])

    def event_seen(self, event_id):
        return event_id in self.events

    def record(self, move, event, decision):
        if event.event_id == self.race_on:  # another request recorded it first
            return False
        self.events[event.event_id] = "applied" if decision.applied else "ignored"
        if decision.applied:
            m = self.moves[move.move_id]
            m["status"], m["status_at"] = decision.status, event.occurred_at
            self.applied.append((event.event_id, decision.status))
        return True


def body(status="sent", event_id="ev-1", move_id=501, dtekey=KEY, minute=0, **extra):
    occurred = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc) + datetime.timedelta(minutes=minute)
    doc = {"event_id": event_id, "dtekey": dtekey, "move_id": move_id, "status": status,
           "track_id": "", "sii_state": "", "message": "",
           "occurred_at": occurred.isoformat().replace("+00:00", "Z")}
    doc.update(extra)
    return json.dumps(doc).encode()


def call(store, raw, secret=SECRET_A, ts=NOW, now=NOW, headers=None):
    hdrs = {"X-DTE-Signature": signature.sign(secret, raw, ts), "X-Odoo-Database": DB}
    hdrs.update(headers or {})
    return callback.process(store, hdrs, raw, now, DB)


class TestAnswers(unittest.TestCase):
    def setUp(self):
        self.store = MemoryStore()

    def test_applied(self):
        resp = call(self.store, body("sent", track_id="123456"))
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body["result"], "applied")
        self.assertEqual(resp.body["status"], "sent")
        self.assertEqual(self.store.moves[501]["status"], "sent")

    def test_trace_id(self):
        raw = body("sent", track_id="1", trace_id="4bf92f3577b34da6a3ce929d0e0e4736")
        self.assertEqual(callback.parse_event(raw).trace_id, "4bf92f3577b34da6a3ce929d0e0e4736")
        self.assertEqual(call(self.store, raw).status, 200)
        # Optional: a sender without it (an older pipeline) is still heard.
        self.assertEqual(callback.parse_event(body("sent")).trace_id, "")
        self.assertEqual(callback.parse_event(body("sent", trace_id="")).trace_id, "")

    def test_bad_signature_changes_nothing(self):
        resp = call(self.store, body("accepted"), secret="wrong")
        self.assertEqual((resp.status, resp.body["detail"]), (401, "mismatch"))
        self.assertEqual(self.store.moves[501]["status"], t.QUEUED)
        self.assertEqual(self.store.events, {})

    def test_body_changed_after_signing(self):
        raw = body("accepted")
        hdrs = {"X-DTE-Signature": signature.sign(SECRET_A, raw, NOW)}
        resp = callback.process(self.store, hdrs, raw.replace(b"accepted", b"rejected"), NOW, DB)
        self.assertEqual(resp.status, 401)

    def test_stale_and_future_timestamps(self):
        self.assertEqual(call(self.store, body(), ts=NOW - 301).status, 401)
        self.assertEqual(call(self.store, body(), ts=NOW + 301).status, 401)
        self.assertEqual(call(self.store, body(), ts=NOW - 299).status, 200)

    def test_missing_signature(self):
        resp = callback.process(self.store, {"X-Odoo-Database": DB}, body(), NOW, DB)
        self.assertEqual((resp.status, resp.body["detail"]), (401, "missing"))

    def test_no_secret_configured(self):
        self.store.secrets = {1: "", 2: False}
        self.assertEqual(call(self.store, body()).status, 401)

    def test_other_companys_secret(self):
        # move 501 belongs to company 1; company 2's pipeline may not touch it
        resp = call(self.store, body("accepted"), secret=SECRET_B)
        self.assertEqual(resp.status, 401)
        self.assertEqual(self.store.moves[501]["status"], t.QUEUED)
        resp = call(self.store, body("signed", event_id="b1", move_id=777, dtekey="96790240-3-33-7"),
                    secret=SECRET_B)
        self.assertEqual(resp.status, 200)

    def test_unknown_move(self):
        resp = call(self.store, body(move_id=4242))
        self.assertEqual((resp.status, resp.body["error"]), (404, "unknown move"))

    def test_other_database(self):
        resp = call(self.store, body(), headers={"X-Odoo-Database": "other"})
        self.assertEqual(resp.status, 404)
        # header names are case-insensitive; no header at all is fine (single db)
        raw = body()
        resp = callback.process(self.store, {"x-dte-signature": signature.sign(SECRET_A, raw, NOW)}, raw, NOW, DB)
        self.assertEqual(resp.status, 200)

    def test_dtekey_mismatch(self):
        resp = call(self.store, body(dtekey="76086428-5-33-1043"))
        self.assertEqual(resp.status, 409)
        self.assertEqual(resp.body["expected"], KEY)
        self.assertEqual(self.store.moves[501]["status"], t.QUEUED)
        # a move that was never sent has no dtekey to match
        self.assertEqual(call(self.store, body(move_id=900)).status, 409)

    def test_invalid_payloads(self):
        cases = [
            b"not json",
            b"[1, 2]",
            body(status="done"),
            body(event_id=""),
            body(move_id=0),
            body(move_id="abc"),
            body(move_id=True),
            body(dtekey="76086428-5-33"),
            body(occurred_at="yesterday"),
            body(occurred_at="2026-13-40T00:00:00Z"),
            body(track_id=123),
            body(event_id="x" * 256),
            body(trace_id="4BF92F3577B34DA6A3CE929D0E0E4736"),
            body(trace_id="4bf92f35"),
            body(trace_id="0" * 32),
            body(trace_id=42),
        ]
        for raw in cases:
            with self.subTest(raw=raw[:60]):
                resp = call(self.store, raw)
                self.assertEqual(resp.status, 400, resp.body)
        self.assertEqual(self.store.events, {})

    def test_duplicate_is_200_and_changes_nothing(self):
        first = call(self.store, body("signed", event_id="ev-9", minute=1))
        self.assertEqual(first.body["result"], "applied")
        # replayed within the window with a fresh signature: same event id
        again = call(self.store, body("signed", event_id="ev-9", minute=1), ts=NOW + 60, now=NOW + 60)
        self.assertEqual((again.status, again.body["result"]), (200, "duplicate"))
        self.assertEqual(self.store.applied, [("ev-9", "signed")])

    def test_replayed_request(self):
        """A captured request sent again byte for byte: a duplicate within the
        signature window, refused (401) once the window has passed."""
        raw = body("accepted", event_id="ev-replay", minute=3)
        headers = {"X-DTE-Signature": signature.sign(SECRET_A, raw, NOW), "X-Odoo-Database": DB}
        first = callback.process(self.store, headers, raw, NOW, DB)
        self.assertEqual(first.body["result"], "applied")
        again = callback.process(self.store, dict(headers), raw, NOW + 120, DB)
        self.assertEqual((again.status, again.body["result"]), (200, "duplicate"))
        late = callback.process(self.store, dict(headers), raw, NOW + 301, DB)
        self.assertEqual(late.status, 401)
        self.assertEqual(self.store.applied, [("ev-replay", "accepted")])

    def test_lost_race_is_duplicate(self):
        self.store.race_on = "ev-race"
        resp = call(self.store, body("signed", event_id="ev-race"))
        self.assertEqual(resp.body["result"], "duplicate")

    def test_backwards_is_ignored_and_recorded(self):
        call(self.store, body("accepted", event_id="e-acc", minute=3))
        resp = call(self.store, body("sent", event_id="e-sent", minute=2))
        self.assertEqual((resp.status, resp.body["result"], resp.body["status"]), (200, "ignored", "accepted"))
        self.assertEqual(self.store.events["e-sent"], "ignored")
        # and the ignored event, replayed, is a duplicate
        self.assertEqual(call(self.store, body("sent", event_id="e-sent", minute=2)).body["result"], "duplicate")

    def test_rfc3339_variants(self):
        for stamp in ("2026-11-27T12:00:00Z", "2026-11-27T12:00:00.123456789Z", "2026-11-27T09:00:00-03:00",
                      "2026-11-27T12:00:00.5+00:00"):
            self.assertEqual(callback.parse_time(stamp).replace(microsecond=0),
                             datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc))

    def test_full_out_of_order_story(self):
        order = [("accepted", "e4", 4), ("signed", "e2", 2), ("sent", "e3", 3), ("queued", "e1", 1),
                 ("accepted", "e4", 4), ("error", "e5", 5)]
        results = [call(self.store, body(s, event_id=e, minute=m)).body["result"] for s, e, m in order]
        self.assertEqual(results, ["applied", "ignored", "ignored", "ignored", "duplicate", "ignored"])
        self.assertEqual(self.store.moves[501]["status"], "accepted")

    def test_dead_letter_replay_completes(self):
        seq = [("error", "x1", 1), ("signed", "x0", 0), ("signed", "x2", 5), ("sent", "x3", 6),
               ("rejected", "x4", 7)]
        results = [call(self.store, body(s, event_id=e, minute=m)).body["result"] for s, e, m in seq]
        self.assertEqual(results, ["applied", "ignored", "applied", "applied", "applied"])
        self.assertEqual(self.store.moves[501]["status"], "rejected")


if __name__ == "__main__":
    unittest.main()


def attachment(kind="pdf", name="76086428-5-33-1042.pdf", content=b"%PDF-1.4 timbre", **over):
    data = content
    import base64
    import hashlib
    item = {"kind": kind, "name": name,
            "mimetype": {"pdf": "application/pdf", "receiver_envelope": "application/xml"}.get(kind, "x/y"),
            "archive_key": "pdf/76086428-5/33/1042.pdf", "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data), "data": base64.b64encode(data).decode()}
    item.update(over)
    return item


class TestAttachments(unittest.TestCase):
    """The accepted callback's files (docs/design.md, "What the customer receives")."""

    def test_accepted_carries_its_files(self):
        xml = b"<EnvioDTE/>"
        raw = body("accepted", attachments=[attachment(), attachment("receiver_envelope", "EnvioDTE-76086428-5-33-1042.xml", xml)])
        event = callback.parse_event(raw)
        self.assertEqual(["pdf", "receiver_envelope"], [a.kind for a in event.attachments])
        self.assertEqual(b"%PDF-1.4 timbre", event.attachments[0].data)
        self.assertEqual(xml, event.attachments[1].data)
        store = MemoryStore()
        self.assertEqual(200, call(store, raw).status)

    def test_other_statuses_and_old_pipelines(self):
        self.assertEqual((), callback.parse_event(body("accepted")).attachments)  # an older pipeline
        self.assertEqual("", callback.parse_event(body("objected")).attachments_error)
        with self.assertRaises(callback.PayloadError):
            callback.parse_event(body("sent", attachments=[attachment()]))

    def test_without_data_but_with_the_reason(self):
        event = callback.parse_event(body("accepted", attachments=[attachment(content=b"x" * 10, data="")],
                                          attachments_error="too large"))
        self.assertEqual(b"", event.attachments[0].data)
        self.assertEqual("too large", event.attachments_error)

    def test_bad_files_are_refused(self):
        cases = {
            "not base64": attachment(content=b"abc", data="@@@"),
            "size lies": attachment(size=3),
            "sha256 lies": attachment(sha256="0" * 64),
            "unknown kind": attachment(kind="zip"),
            "wrong mimetype": attachment(mimetype="text/html"),
            "path as name": attachment(name="../../etc/passwd"),
        }
        for what, item in cases.items():
            with self.subTest(what), self.assertRaises(callback.PayloadError):
                callback.parse_event(body("accepted", attachments=[item]))
        with self.assertRaises(callback.PayloadError):
            callback.parse_event(body("accepted", attachments=[attachment(), attachment()]))  # two PDFs
        self.assertEqual(400, call(MemoryStore(), body("accepted", attachments=[attachment(size=1)])).status)

    def test_replayed_files_are_not_attached_again(self):
        import hashlib
        files = callback.parse_event(body("accepted", attachments=[attachment()])).attachments
        self.assertEqual(files, tuple(callback.attachments_to_create([], files)))
        same = [(files[0].name, hashlib.sha1(files[0].data).hexdigest())]
        self.assertEqual([], callback.attachments_to_create(same, files))
        other_bytes = [(files[0].name, hashlib.sha1(b"older").hexdigest())]
        self.assertEqual(list(files), callback.attachments_to_create(other_bytes, files))
