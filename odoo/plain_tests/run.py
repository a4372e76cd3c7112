#!/usr/bin/python3
"""Run every plain test of the Odoo addon (no Odoo needed).

    /usr/bin/python3 odoo/plain_tests/run.py [-v] [-k PATTERN]

Use Debian's /usr/bin/python3: it has python3-jsonschema (and python3-yaml).
With CI=true or DTE_TEST_STRICT=1 (make test) a missing jsonschema is a
failure, not a skip. The last line is
``odoo-plain: N passed, N failed, N skipped`` and the exit status is non-zero
when anything failed.
"""

import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the plain tests of l10n_cl_dte_async.")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-k", dest="patterns", action="append", help="only tests matching this substring")
    args = parser.parse_args(argv)

    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [f"*{p}*" for p in args.patterns]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print(f"odoo-plain: {passed} passed, {failed} failed, {skipped} skipped")
    if result.testsRun == 0:
        print("odoo-plain: no test ran", file=sys.stderr)
        return 1
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
