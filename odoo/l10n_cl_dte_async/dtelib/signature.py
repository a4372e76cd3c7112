"""The ``X-DTE-Signature`` header, used in both directions (docs/design.md).

    X-DTE-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

Odoo signs what it POSTs to enqueue with the *sending* secret and checks what
the pipeline POSTs to ``/api/dte/callback`` with the *callback* secret. The
timestamp bounds replays: a signature more than five minutes away from now,
in either direction, is refused even when the HMAC matches. Several ``v1``
values are accepted so a secret can be rotated. This mirrors the Go package
shared/webhook exactly (same parsing, same window, same errors).
"""

import hashlib
import hmac

HEADER = "X-DTE-Signature"
WINDOW_SECONDS = 300


class SignatureError(ValueError):
    """Verification failed; ``kind`` is 'missing', 'malformed', 'stale' or 'mismatch'."""

    def __init__(self, kind, detail=""):
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}" if detail else kind)


def _bytes(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _mac(secret, timestamp, body):
    return hmac.new(_bytes(secret), _bytes(timestamp) + b"." + _bytes(body), hashlib.sha256).digest()


def sign(secret, body, timestamp):
    """The header value for ``body`` signed with ``secret`` at ``timestamp`` (unix s)."""
    ts = str(int(timestamp))
    return f"t={ts},v1={_mac(secret, ts, body).hex()}"


def parse(header):
    """Split a header into (timestamp int, [32-byte signatures]); raise SignatureError."""
    if not header:
        raise SignatureError("missing", "no X-DTE-Signature header")
    ts_text, sigs = None, []
    for part in str(header).split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError("malformed", "want t=<unix>,v1=<hex>")
        if key == "t":
            ts_text = value
        elif key == "v1":
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raise SignatureError("malformed", "v1 is not hex") from None
            if len(raw) != hashlib.sha256().digest_size:
                raise SignatureError("malformed", "v1 is not a SHA-256 HMAC")
            sigs.append(raw)
    if ts_text is None or not sigs:
        raise SignatureError("malformed", "want t=<unix>,v1=<hex>")
    try:
        timestamp = int(ts_text)
    except ValueError:
        raise SignatureError("malformed", "t is not a unix time") from None
    return timestamp, sigs


def verify(secrets, header, body, now, window=WINDOW_SECONDS):
    """Check ``header`` against ``body``; return the index of the secret that matched.

    ``secrets`` is a list of candidate secrets (empty ones are skipped). Raises
    SignatureError: 'missing', 'malformed', 'stale' (timestamp more than
    ``window`` seconds from ``now``) or 'mismatch' (no secret produces a v1).
    """
    timestamp, sigs = parse(header)
    skew = float(now) - timestamp
    if skew > window or skew < -window:
        raise SignatureError("stale", f"signed at {timestamp}, {int(skew)} s away from now")
    ts = str(timestamp)
    for index, secret in enumerate(secrets):
        if not secret:
            continue
        want = _mac(secret, ts, body)
        if any(hmac.compare_digest(want, s) for s in sigs):
            return index
    raise SignatureError("mismatch", "the signature does not match the body")
