"""Shared helpers of the plain tests: paths, fixtures, the repo's JSON Schema."""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ODOO_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(ODOO_DIR)
ADDON = os.path.join(ODOO_DIR, "l10n_cl_dte_async")
FIXTURES = os.path.join(HERE, "fixtures")
SCHEMA_PATH = os.path.join(REPO, "shared", "request", "dte-request.schema.json")
SAMPLES = os.path.join(REPO, "samples", "requests")

if ADDON not in sys.path:
    sys.path.insert(0, ADDON)

FIXTURE_FILES = {
    33: "invoice-33.json",
    34: "invoice-34.json",
    52: "guia-52.json",
    56: "nota-debito-56.json",
    61: "nota-credito-61.json",
}


def load_fixture(doc_type):
    with open(os.path.join(FIXTURES, FIXTURE_FILES[doc_type]), encoding="utf-8") as fh:
        return json.load(fh)


def in_ci():
    """True under CI and make test (DTE_TEST_STRICT=1): a missing tool fails, never skips."""
    return (os.environ.get("CI", "").lower() in ("1", "true", "yes")
            or os.environ.get("DTE_TEST_STRICT") == "1")


def schema_validator():
    """A Draft 2020-12 validator for the repo's request schema.

    The tests that need it fail (not skip) under CI and make test when jsonschema is missing.
    """
    try:
        import jsonschema
    except ImportError:
        if in_ci():
            raise AssertionError(
                "python3-jsonschema is required for the plain tests under CI and make test "
                "(apt-get install python3-jsonschema; run with /usr/bin/python3)"
            ) from None
        raise unittest.SkipTest("jsonschema is not installed (apt-get install python3-jsonschema)")
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        schema = json.load(fh)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)
