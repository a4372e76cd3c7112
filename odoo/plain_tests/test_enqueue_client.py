"""The POST to enqueue against a real local HTTP server: what is sent, and how
each answer (202, 400, 401, 413, 415, 503, 5xx, timeout, refused) is read."""

import json
import socket
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import _support  # noqa: F401  (sys.path)
from dtelib import enqueue_client, messages, signature

SECRET = "sending-secret"
PROBLEM = {
    "type": "https://github.com/dtecl/pipeline/problems/invalid-request",
    "title": "Invalid DTE request",
    "status": 400,
    "detail": "2 problem(s) in the request; see errors",
    "errors": [
        {"field": "lines[2].unit_price", "rule": "max-decimals", "message": "0.12345678 has more than 6 decimals"},
        {"field": "receiver.activity", "rule": "required", "message": "is required by the SII on document type 33"},
    ],
}


class Handler(BaseHTTPRequestHandler):
    received = []

    def log_message(self, *args):
        pass

    def _send(self, status, doc=None, ctype="application/json", headers=None):
        raw = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        Handler.received.append((self.path, self.headers, raw))
        if self.path == "/":
            try:
                signature.verify([SECRET], self.headers.get("X-DTE-Signature"), raw, time.time())
            except signature.SignatureError:
                return self._send(401, {"title": "Bad signature", "status": 401})
            if self.headers.get("Content-Type") != "application/json":
                return self._send(415, {"title": "Unsupported media type"})
            return self._send(202, {"dtekey": "76086428-5-33-1042", "event_id": "ev-123", "status": "queued"})
        if self.path == "/bad":
            return self._send(400, PROBLEM, "application/problem+json")
        if self.path == "/big":
            return self._send(413, {"title": "Request too large"}, "application/problem+json")
        if self.path == "/type":
            return self._send(415, {"title": "Unsupported media type"}, "application/problem+json")
        if self.path == "/down":
            return self._send(503, {"title": "Queue unavailable"}, "application/problem+json", {"Retry-After": "7"})
        if self.path == "/boom":
            return self._send(500, {"title": "Internal error"})
        if self.path == "/gateway":
            return self._send(502, None, "text/html")
        if self.path == "/slow":
            time.sleep(1.5)
            return self._send(202, {"dtekey": "x", "event_id": "y", "status": "queued"})
        if self.path == "/redirect":
            return self._send(307, None, headers={"Location": "/"})
        if self.path == "/ok200":
            return self._send(200, {"status": "queued"})
        return self._send(404, {"title": "Not found"})


class TestEnqueueClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.server.daemon_threads = True
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        Handler.received.clear()
        self.body = b'{"document":{"type":33}}'

    def send(self, path, secret=SECRET, timeout=5.0):
        return enqueue_client.send(self.base + path, self.body, secret, timeout=timeout)

    def test_202_and_what_was_sent(self):
        result = self.send("/")
        self.assertTrue(result.ok)
        self.assertEqual((result.kind, result.status, result.dtekey, result.event_id),
                         ("queued", 202, "76086428-5-33-1042", "ev-123"))
        path, headers, raw = Handler.received[0]
        self.assertEqual(raw, self.body)  # the signed bytes are the sent bytes
        self.assertEqual(headers["Content-Type"], "application/json")
        signature.verify([SECRET], headers["X-DTE-Signature"], raw, time.time())
        # The trace starts at the click: a W3C traceparent whose trace id
        # the result keeps (the DTE tab shows it).
        self.assertRegex(headers["traceparent"], r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")
        self.assertEqual(result.trace_id, headers["traceparent"].split("-")[1])

    def test_traceparent_given_and_fresh(self):
        given = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        result = enqueue_client.send(self.base + "/", self.body, SECRET, traceparent=given)
        self.assertEqual(Handler.received[-1][1]["traceparent"], given)
        self.assertEqual(result.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736")
        ids = {enqueue_client.new_traceparent().split("-")[1] for _ in range(50)}
        self.assertEqual(len(ids), 50)
        # A refused request still tells which trace it was.
        self.assertRegex(self.send("/down").trace_id, r"^[0-9a-f]{32}$")

    def test_401_wrong_secret(self):
        result = self.send("/", secret="not-the-secret")
        self.assertEqual((result.kind, result.status), ("unauthorized", 401))
        self.assertIn("secreto de envío", messages.enqueue_error(result))

    def test_400_field_errors_in_spanish(self):
        result = self.send("/bad")
        self.assertEqual(result.kind, "invalid")
        text = messages.enqueue_error(result)
        self.assertIn("Línea 3 · precio unitario: tiene más decimales de los que admite el SII", text)
        self.assertIn("Cliente · giro: es obligatorio y falta", text)

    def test_other_statuses(self):
        expectations = {
            "/big": ("too_large", 413),
            "/type": ("unsupported", 415),
            "/boom": ("server_error", 500),
            "/gateway": ("server_error", 502),
            "/redirect": ("unexpected", 307),
            "/ok200": ("unexpected", 200),
            "/nowhere": ("unexpected", 404),
        }
        for path, (kind, status) in expectations.items():
            with self.subTest(path=path):
                result = self.send(path)
                self.assertEqual((result.kind, result.status), (kind, status))
                self.assertFalse(result.ok)
                self.assertTrue(messages.enqueue_error(result))
        self.assertEqual(len(Handler.received), len(expectations))  # the redirect was not followed

    def test_503_retry_after(self):
        result = self.send("/down")
        self.assertEqual((result.kind, result.retry_after), ("unavailable", 7))
        self.assertIn("Reintente en 7 segundos", messages.enqueue_error(result))

    def test_timeout(self):
        start = time.monotonic()
        result = self.send("/slow", timeout=0.3)
        self.assertLess(time.monotonic() - start, 1.4)
        self.assertEqual(result.kind, "timeout")
        self.assertIn("no respondió dentro de 0.3 segundos", messages.enqueue_error(result))

    def test_connection_refused(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        result = enqueue_client.send(f"http://127.0.0.1:{port}/", self.body, SECRET, timeout=2)
        self.assertEqual(result.kind, "connection")
        self.assertIn("No se pudo conectar", messages.enqueue_error(result, f"http://127.0.0.1:{port}/"))

    def test_bad_url(self):
        for url in ("", "ftp://x/", "localhost:8080", None):
            self.assertEqual(enqueue_client.send(url, self.body, SECRET).kind, "config")


if __name__ == "__main__":
    unittest.main()
