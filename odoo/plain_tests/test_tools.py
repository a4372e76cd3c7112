"""odoo/tools/build_request.py: the bytes the addon sends, and their signature."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import _support
from dtelib import builder, jsonenc, signature

TOOL = os.path.join(_support.ODOO_DIR, "tools", "build_request.py")


def run(*args, stdin=None):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, input=stdin, timeout=60)


class TestBuildRequestTool(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.validator = _support.schema_validator()

    def test_every_fixture(self):
        for doc_type, name in _support.FIXTURE_FILES.items():
            with self.subTest(doc_type=doc_type):
                path = os.path.join(_support.FIXTURES, name)
                result = run(path, "--sign", "s3cret", "--timestamp", "1800000000")
                self.assertEqual(result.returncode, 0, result.stderr.decode())
                expected = jsonenc.dumps(builder.build_request(_support.load_fixture(doc_type)))
                self.assertEqual(result.stdout, expected)  # exactly what the addon POSTs
                self.assertFalse(result.stdout.endswith(b"\n"))
                request = json.loads(result.stdout)
                self.assertEqual(request["document"]["type"], doc_type)
                self.assertEqual(list(self.validator.iter_errors(request)), [])
                header_line = result.stderr.decode().strip()
                name_, _, value = header_line.partition(": ")
                self.assertEqual(name_, "X-DTE-Signature")
                self.assertEqual(signature.verify(["s3cret"], value, result.stdout, 1800000000), 0)

    def test_signature_json_and_stdin(self):
        raw = json.dumps(_support.load_fixture(61)).encode()
        result = run("-", "--sign", "k", "--signature-json", "--timestamp", "1800000000", stdin=raw)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        sig = json.loads(result.stderr)
        self.assertEqual(sig["header"], "X-DTE-Signature")
        self.assertEqual(sig["dtekey"], "76086428-5-61-23")
        signature.verify(["k"], sig["value"], result.stdout, 1800000000)

    def test_without_sign_prints_nothing_on_stderr(self):
        result = run(os.path.join(_support.FIXTURES, "invoice-33.json"))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr, b"")

    def test_invalid_invoice_exits_1_with_the_problems(self):
        inv = _support.load_fixture(33)
        inv["partner"]["rut"] = "77654321-0"
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
            json.dump(inv, fh)
        try:
            result = run(fh.name)
        finally:
            os.unlink(fh.name)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, b"")
        self.assertIn("dígito verificador", result.stderr.decode())

    def test_unreadable_fixture_exits_2(self):
        self.assertEqual(run("/nonexistent/fixture.json").returncode, 2)


if __name__ == "__main__":
    unittest.main()


class TestWalkthroughRunner(unittest.TestCase):
    """odoo/tools/run_walkthrough.py runs odoo/README.md's «Try it» blocks as written."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, os.path.join(_support.ODOO_DIR, "tools"))
        import run_walkthrough
        cls.rw = run_walkthrough
        cls.blocks = run_walkthrough.blocks(open(run_walkthrough.README, encoding="utf-8").read())

    def test_the_readme_has_the_walkthrough(self):
        self.assertGreaterEqual(len(self.blocks), 6)
        servers = [b for b in self.blocks if self.rw.TERMINAL.match(b.strip())]
        self.assertEqual(len(servers), 2, "Odoo and the pipeline keep running in their own terminals")
        text = "\n".join(self.blocks)
        for command in ("-i l10n_cl_dte_async", "odoo/tools/demo_setup.py", "--http-port=18069",
                        "make run ODOO_URL=http://127.0.0.1:18069/api/dte/callback", "ODOO_DB=dte_demo",
                        "ISSUERS=76086428-5", "odoo/tools/demo_invoice.py", "out/dte status"):
            self.assertIn(command, text)

    def test_script_adapts_only_the_database_and_the_port(self):
        script = self.rw.script_for(self.blocks, "dte_walk_x", 45678, "/tmp/logs")
        self.assertNotIn("dte_demo", script)
        self.assertNotIn("18069", script)
        self.assertIn("make run ODOO_URL=http://127.0.0.1:45678/api/dte/callback ODOO_DB=dte_walk_x", script)
        # servers start in the background, each waited for, all stopped at the end
        self.assertEqual(script.count("servers+=($!)"), 2)
        self.assertIn('wait_for "Odoo', script)
        self.assertIn('wait_for "the pipeline', script)
        self.assertIn("trap stop_servers EXIT", script)
        for block in self.blocks:
            if not self.rw.TERMINAL.match(block.strip()):
                self.assertIn(block.replace("dte_demo", "dte_walk_x").replace("18069", "45678"), script)

    def test_a_section_without_markers_is_refused(self):
        with self.assertRaises(SystemExit):
            self.rw.blocks("# README\n```sh\necho hi\n```\n")
        with self.assertRaises(SystemExit):
            self.rw.blocks(f"{self.rw.START}\nno blocks\n{self.rw.END}")
