"""X-DTE-Signature: good, bad, stale, malformed, rotated; same bytes as Go."""

import hashlib
import hmac
import unittest

import _support  # noqa: F401  (sys.path)
from dtelib import signature

BODY = b'{"dtekey":"76086428-5-33-1"}'
NOW = 1_800_000_000


class TestSignature(unittest.TestCase):
    def test_known_answer_matches_go_and_openssl(self):
        # shared/webhook TestSignFormat: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        self.assertEqual(
            signature.sign("key", b"{}", 1700000000),
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae",
        )

    def test_sign_is_hmac_of_timestamp_dot_body(self):
        header = signature.sign(b"s3cret", BODY, NOW)
        want = hmac.new(b"s3cret", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
        self.assertEqual(header, f"t={NOW},v1={want}")

    def test_good(self):
        header = signature.sign("s3cret", BODY, NOW)
        self.assertEqual(signature.verify(["s3cret"], header, BODY, NOW), 0)
        self.assertEqual(signature.verify(["s3cret"], header, BODY, NOW + 299), 0)
        self.assertEqual(signature.verify(["s3cret"], header, BODY, NOW - 299), 0)

    def test_picks_the_matching_secret(self):
        header = signature.sign("company-b", BODY, NOW)
        self.assertEqual(signature.verify(["company-a", "", "company-b"], header, BODY, NOW), 2)

    def assertKind(self, kind, secrets, header, body=BODY, now=NOW):
        with self.assertRaises(signature.SignatureError) as ctx:
            signature.verify(secrets, header, body, now)
        self.assertEqual(ctx.exception.kind, kind)

    def test_bad(self):
        good = signature.sign("s3cret", BODY, NOW)
        self.assertKind("mismatch", ["other"], good)
        self.assertKind("mismatch", ["s3cret"], good, body=BODY + b" ")
        self.assertKind("mismatch", ["s3cret"], good.replace(f"t={NOW}", f"t={NOW + 1}"))
        self.assertKind("mismatch", [""], good)  # an empty secret never verifies

    def test_stale_both_directions(self):
        good = signature.sign("s3cret", BODY, NOW)
        self.assertKind("stale", ["s3cret"], good, now=NOW + 301)
        self.assertKind("stale", ["s3cret"], good, now=NOW - 301)
        # stale is reported even for a correct HMAC: a captured request replayed
        # six minutes later is refused
        self.assertKind("stale", ["s3cret"], good, now=NOW + 360)

    def test_malformed_and_missing(self):
        self.assertKind("missing", ["s3cret"], "")
        self.assertKind("missing", ["s3cret"], None)
        self.assertKind("malformed", ["s3cret"], "hello")
        self.assertKind("malformed", ["s3cret"], f"t={NOW}")
        self.assertKind("malformed", ["s3cret"], f"t={NOW},v1=zz")
        self.assertKind("malformed", ["s3cret"], f"t={NOW},v1=abcd")
        self.assertKind("malformed", ["s3cret"], "t=soon,v1=" + "0" * 64)

    def test_rotation_accepts_any_v1(self):
        good = signature.sign("s3cret", BODY, NOW)
        self.assertEqual(signature.verify(["s3cret"], good + ",v1=" + "0" * 64, BODY, NOW), 0)
        self.assertEqual(signature.verify(["s3cret"], "v1=" + "0" * 64 + "," + good, BODY, NOW), 0)
        self.assertEqual(signature.verify(["s3cret"], good.replace(",", " , "), BODY, NOW), 0)


if __name__ == "__main__":
    unittest.main()
