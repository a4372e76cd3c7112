"""POST a signed DTE request to enqueue and classify what came back.

Only the standard library is used (urllib), so the client is tested here
against a real local HTTP server. Every outcome is returned, never raised:

==============  ==========================================================
kind            meaning
==============  ==========================================================
queued          202: the pipeline has the document (dtekey, event_id)
invalid         400: problem+json naming each bad field
unauthorized    401: bad or stale signature (wrong secret, clock off)
conflict        409: the folio is already signed from another request
                (``problem`` has its ``dtekey`` and ``document_status``)
too_large       413: body over 1 MiB
unsupported     415: not JSON
unavailable     503: the broker is down; ``retry_after`` seconds
server_error    other 5xx
unexpected      any other status (3xx included: redirects are not followed)
timeout         no answer within ``timeout`` seconds
connection      refused, unknown host, TLS failure, ...
config          the URL is not an http(s) URL
==============  ==========================================================

Only ``queued`` changes the document; everything else leaves it as it was,
and sending again is safe because the pipeline is idempotent by dtekey.

Each send starts a trace at the user's click: a W3C ``traceparent`` header
(version 00, random ids, sampled) that enqueue continues, so the whole
document's trace has that id; ``trace_id`` on the result is it.
"""

import json
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from . import signature

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "l10n_cl_dte_async/19.0"
TRACEPARENT = "traceparent"


@dataclass
class EnqueueResult:
    kind: str
    status: int = 0
    dtekey: str = ""
    event_id: str = ""
    retry_after: int = 0
    problem: dict = field(default_factory=dict)
    detail: str = ""
    timeout: float = DEFAULT_TIMEOUT
    trace_id: str = ""

    @property
    def ok(self):
        return self.kind == "queued"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is answered as an unexpected status


def _opener():
    return urllib.request.build_opener(_NoRedirect)


def _json(raw):
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _retry_after(value):
    try:
        return max(0, int(str(value).strip()))
    except (TypeError, ValueError):
        return 0


def classify(status, body, headers=None, timeout=DEFAULT_TIMEOUT):
    """Turn an HTTP status and body into an EnqueueResult."""
    headers = headers or {}
    doc = _json(body or b"") or {}
    if status == 202:
        return EnqueueResult("queued", status, dtekey=str(doc.get("dtekey") or ""),
                             event_id=str(doc.get("event_id") or ""), timeout=timeout)
    kinds = {400: "invalid", 401: "unauthorized", 409: "conflict", 413: "too_large", 415: "unsupported",
             503: "unavailable"}
    kind = kinds.get(status)
    if kind is None:
        kind = "server_error" if 500 <= status <= 599 else "unexpected"
    detail = str(doc.get("detail") or doc.get("title") or "")[:500]
    return EnqueueResult(kind, status, problem=doc, detail=detail, timeout=timeout,
                         retry_after=_retry_after(headers.get("Retry-After")) if status == 503 else 0)


def new_traceparent():
    """A W3C traceparent that starts a trace: 32 and 16 random hex digits, sampled."""
    while True:
        trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
        if int(trace_id, 16) and int(span_id, 16):  # all zeros is invalid
            return f"00-{trace_id}-{span_id}-01"


def send(url, body, secret, timeout=DEFAULT_TIMEOUT, now=None, opener=None, traceparent=None):
    """POST ``body`` (bytes) to ``url`` signed with ``secret``; return EnqueueResult.

    The request carries ``traceparent`` (a new one when not given); the
    result's ``trace_id`` is its trace id, whatever the outcome.
    """
    traceparent = traceparent or new_traceparent()
    result = _send(url, body, secret, timeout, now, opener, traceparent)
    result.trace_id = traceparent.split("-")[1]
    return result


def _send(url, body, secret, timeout, now, opener, traceparent):
    parsed = urllib.parse.urlsplit(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return EnqueueResult("config", detail=f"«{url or ''}» no es una URL http(s)", timeout=timeout)
    timestamp = int(now if now is not None else time.time())
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, application/problem+json",
        "User-Agent": USER_AGENT,
        signature.HEADER: signature.sign(secret, body, timestamp),
        TRACEPARENT: traceparent,
    }
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with (opener or _opener()).open(req, timeout=timeout) as resp:
            return classify(resp.status, resp.read(), resp.headers, timeout)
    except urllib.error.HTTPError as err:
        try:
            raw = err.read()
        except OSError:
            raw = b""
        return classify(err.code, raw, err.headers, timeout)
    except (TimeoutError, socket.timeout):
        return EnqueueResult("timeout", detail=f"sin respuesta en {timeout:g} s", timeout=timeout)
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return EnqueueResult("timeout", detail=f"sin respuesta en {timeout:g} s", timeout=timeout)
        return EnqueueResult("connection", detail=str(reason), timeout=timeout)
    except OSError as err:  # connection reset while reading, etc.
        return EnqueueResult("connection", detail=str(err), timeout=timeout)
