"""Every status transition, including out-of-order arrivals."""

import datetime
import itertools
import unittest

import _support  # noqa: F401  (sys.path)
from dtelib import transitions as t

T0 = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


def run(events, start=t.NOT_SENT, start_at=None):
    """Apply (status, minute) events in arrival order; return the final status."""
    status, status_at = start, start_at
    for incoming, minute in events:
        d = t.decide(status, status_at, incoming, at(minute))
        if d.applied:
            status, status_at = d.status, at(minute)
    return status


class TestMatrix(unittest.TestCase):
    """decide() for every (current, incoming) pair, with the event newer."""

    EXPECTED = {
        # current: statuses that are applied when they arrive (newer than current)
        t.NOT_SENT: {t.QUEUED, t.SIGNED, t.SENT, t.ACCEPTED, t.OBJECTED, t.REJECTED, t.ERROR, t.RETRYING},
        t.QUEUED: {t.SIGNED, t.SENT, t.ACCEPTED, t.OBJECTED, t.REJECTED, t.ERROR, t.RETRYING},
        t.SIGNED: {t.SENT, t.ACCEPTED, t.OBJECTED, t.REJECTED, t.ERROR, t.RETRYING},
        t.SENT: {t.ACCEPTED, t.OBJECTED, t.REJECTED, t.ERROR, t.RETRYING},
        t.ACCEPTED: set(),
        t.OBJECTED: set(),
        t.REJECTED: set(),
        t.ERROR: {t.QUEUED, t.SIGNED, t.SENT, t.ACCEPTED, t.OBJECTED, t.REJECTED, t.ERROR, t.RETRYING},
        # a retry that succeeded moves on, whatever the stage
        t.RETRYING: {t.QUEUED, t.SIGNED, t.SENT, t.ACCEPTED, t.OBJECTED, t.REJECTED, t.ERROR, t.RETRYING},
    }

    def test_every_pair(self):
        for current, incoming in itertools.product(t.STATUSES, t.EVENT_STATUSES):
            with self.subTest(current=current, incoming=incoming):
                d = t.decide(current, at(0), incoming, at(1))
                applied = incoming in self.EXPECTED[current]
                self.assertEqual(d.applied, applied)
                self.assertEqual(d.status, incoming if applied else current)

    def test_every_pair_with_an_older_event(self):
        """Older events: only forward moves (by rank), errors on non-final, finals after retrying or error apply."""
        for current, incoming in itertools.product(t.STATUSES, t.EVENT_STATUSES):
            with self.subTest(current=current, incoming=incoming):
                d = t.decide(current, at(10), incoming, at(1))
                if current in t.FINAL:
                    expected = False
                elif current == t.ERROR:
                    expected = incoming in t.FINAL  # the SII decided; anything else is stale
                elif incoming == t.ERROR:
                    expected = True   # error applies whenever not final
                elif incoming == t.RETRYING:
                    expected = current == t.NOT_SENT  # a stale retry does not hide progress
                elif current == t.RETRYING:
                    expected = incoming in t.FINAL    # the SII decided: the retry is over
                else:
                    expected = t.RANK[incoming] > t.RANK[current]
                self.assertEqual(d.applied, expected)

    def test_finals_never_change(self):
        for final in t.FINAL:
            for incoming in t.EVENT_STATUSES:
                self.assertFalse(t.decide(final, None, incoming, at(99)).applied)

    def test_unknown_status(self):
        with self.assertRaises(ValueError):
            t.decide(t.QUEUED, None, "lost", at(1))
        with self.assertRaises(ValueError):
            t.decide("lost", None, t.QUEUED, at(1))

    def test_falsy_current_is_not_sent(self):
        self.assertTrue(t.decide(False, None, t.QUEUED, at(0)).applied)
        self.assertTrue(t.decide(None, None, t.SIGNED, at(0)).applied)

    def test_frozen_and_folio_bound(self):
        # every status the pipeline reports freezes the document, except a
        # rejection (cancel it, issue a new document); only not_sent is free
        self.assertEqual(t.FROZEN, {t.QUEUED, t.SIGNED, t.SENT, t.RETRYING, t.ACCEPTED, t.OBJECTED, t.ERROR})
        for status in t.STATUSES:
            self.assertEqual(t.is_frozen(status), status not in (t.NOT_SENT, t.REJECTED), status)
            self.assertEqual(t.folio_bound(status), status != t.NOT_SENT, status)
        self.assertFalse(t.is_frozen(None))
        self.assertFalse(t.folio_bound(False))
        # a sendable document in error is still frozen: it is re-sent unchanged
        self.assertTrue(t.can_send(t.ERROR) and t.is_frozen(t.ERROR))

    def test_can_send(self):
        self.assertTrue(t.can_send(t.NOT_SENT))
        self.assertTrue(t.can_send(t.ERROR))
        self.assertTrue(t.can_send(False))
        for status in (t.QUEUED, t.SIGNED, t.SENT, t.ACCEPTED, t.OBJECTED, t.REJECTED, t.RETRYING):
            self.assertFalse(t.can_send(status))


class TestSequences(unittest.TestCase):
    def test_in_order(self):
        self.assertEqual(run([(t.QUEUED, 0), (t.SIGNED, 1), (t.SENT, 2), (t.ACCEPTED, 3)]), t.ACCEPTED)

    def test_sent_before_signed(self):
        self.assertEqual(run([(t.QUEUED, 0), (t.SENT, 2), (t.SIGNED, 1)]), t.SENT)

    def test_accepted_before_sent(self):
        self.assertEqual(run([(t.QUEUED, 0), (t.ACCEPTED, 3), (t.SENT, 2), (t.SIGNED, 1)]), t.ACCEPTED)

    def test_everything_reversed(self):
        self.assertEqual(run([(t.REJECTED, 3), (t.SENT, 2), (t.SIGNED, 1), (t.QUEUED, 0)]), t.REJECTED)

    def test_every_arrival_order_ends_final(self):
        events = [(t.QUEUED, 0), (t.SIGNED, 1), (t.SENT, 2), (t.OBJECTED, 3)]
        for order in itertools.permutations(events):
            self.assertEqual(run(order), t.OBJECTED)

    def test_duplicates_change_nothing(self):
        self.assertEqual(run([(t.SIGNED, 1), (t.SIGNED, 1), (t.QUEUED, 0), (t.SIGNED, 1)]), t.SIGNED)

    def test_final_then_error_stays_final(self):
        self.assertEqual(run([(t.ACCEPTED, 3), (t.ERROR, 4)]), t.ACCEPTED)

    def test_error_then_replayed_dead_letter_completes(self):
        self.assertEqual(run([(t.QUEUED, 0), (t.ERROR, 1), (t.SIGNED, 5), (t.SENT, 6), (t.ACCEPTED, 7)]),
                         t.ACCEPTED)

    def test_error_ignores_events_older_than_the_error(self):
        # a late 'signed' from before the failure does not hide the error
        self.assertEqual(run([(t.QUEUED, 0), (t.ERROR, 5), (t.SIGNED, 1)]), t.ERROR)

    def test_final_after_error_applies_whatever_its_time(self):
        # a replay accepted within the second of the error, or a late verdict
        self.assertTrue(t.decide(t.ERROR, at(5), t.ACCEPTED, at(5)).applied)
        self.assertTrue(t.decide(t.ERROR, at(5), t.REJECTED, at(4)).applied)
        self.assertFalse(t.decide(t.ERROR, at(5), t.SENT, at(5)).applied)

    def test_error_applies_over_in_flight_even_when_older(self):
        self.assertEqual(run([(t.SENT, 5), (t.ERROR, 4)]), t.ERROR)

    def test_newer_error_replaces_older_error_only(self):
        d = t.decide(t.ERROR, at(5), t.ERROR, at(6))
        self.assertTrue(d.applied)
        d = t.decide(t.ERROR, at(5), t.ERROR, at(4))
        self.assertFalse(d.applied)

    def test_error_without_timestamp_accepts_any_later_event(self):
        self.assertTrue(t.decide(t.ERROR, None, t.QUEUED, at(0)).applied)

    def test_retry_that_succeeds_moves_on(self):
        # sign failed during an S3 outage, retried, then everything went on
        self.assertEqual(run([(t.QUEUED, 0), (t.RETRYING, 1), (t.RETRYING, 6), (t.SIGNED, 21), (t.SENT, 22),
                              (t.ACCEPTED, 23)]), t.ACCEPTED)

    def test_stale_events_do_not_hide_a_retry(self):
        # a late 'queued' (sent again by Odoo) arriving after the retry began
        self.assertEqual(run([(t.SIGNED, 1), (t.RETRYING, 5), (t.QUEUED, 0)]), t.RETRYING)

    def test_stale_retry_does_not_hide_progress(self):
        self.assertEqual(run([(t.QUEUED, 0), (t.SENT, 5), (t.RETRYING, 3)]), t.SENT)

    def test_checks_retried_then_final(self):
        self.assertEqual(run([(t.SENT, 0), (t.RETRYING, 1), (t.ACCEPTED, 30)]), t.ACCEPTED)

    def test_error_after_retrying_and_replay(self):
        self.assertEqual(run([(t.SIGNED, 0), (t.RETRYING, 1), (t.ERROR, 60), (t.RETRYING, 61), (t.SENT, 62),
                              (t.ACCEPTED, 63)]), t.ACCEPTED)

    def test_retry_at_the_same_second_as_its_status(self):
        # occurred_at has a resolution of one second
        self.assertTrue(t.decide(t.SENT, at(1), t.RETRYING, at(1)).applied)
        # a retry forced at once (dte retry now) succeeds within the second
        self.assertTrue(t.decide(t.RETRYING, at(1), t.SENT, at(1)).applied)


if __name__ == "__main__":
    unittest.main()
