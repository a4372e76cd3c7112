#!/usr/bin/python3
"""Print the DTE request the Odoo addon would send for a plain-data invoice.

    /usr/bin/python3 odoo/tools/build_request.py FIXTURE [--sign SECRET] [--timestamp UNIX]
                                                 [--signature-json]

FIXTURE is a plain invoice (the dict ``AccountMove._dte_async_plain_invoice``
produces; examples in odoo/plain_tests/fixtures/). The request is written to
stdout byte for byte as the addon POSTs it (compact UTF-8 JSON, no trailing
new line), built by the same code (l10n_cl_dte_async/dtelib/builder.py).

With ``--sign SECRET`` the X-DTE-Signature header for that body is written to
stderr as ``X-DTE-Signature: t=...,v1=...`` (or, with ``--signature-json``, as
``{"header": "X-DTE-Signature", "value": "...", "dtekey": "..."}``), signed
now or at ``--timestamp``.

Exit status: 0 on success, 1 when the invoice cannot become a valid request
(the problems are listed on stderr, in Spanish), 2 on usage errors.
"""

import argparse
import json
import os
import sys

ADDON = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "l10n_cl_dte_async")
sys.path.insert(0, os.path.normpath(ADDON))

from dtelib import builder, jsonenc, signature  # noqa: E402  (path set above)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build (and sign) the DTE request for a plain invoice.")
    parser.add_argument("fixture", help="plain invoice JSON file ('-' for stdin)")
    parser.add_argument("--sign", metavar="SECRET", help="also print the X-DTE-Signature header on stderr")
    parser.add_argument("--timestamp", type=int, help="unix time of the signature (default: now)")
    parser.add_argument("--signature-json", action="store_true",
                        help="print the signature as a JSON object on stderr")
    args = parser.parse_args(argv)

    try:
        if args.fixture == "-":
            invoice = json.load(sys.stdin)
        else:
            with open(args.fixture, encoding="utf-8") as fh:
                invoice = json.load(fh)
    except (OSError, ValueError) as err:
        print(f"build_request: cannot read {args.fixture}: {err}", file=sys.stderr)
        return 2

    try:
        request = builder.build_request(invoice)
    except builder.BuildError as err:
        print("build_request: the invoice cannot be sent:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1

    body = jsonenc.dumps(request)
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()

    if args.sign is not None:
        import time

        ts = args.timestamp if args.timestamp is not None else int(time.time())
        value = signature.sign(args.sign, body, ts)
        if args.signature_json:
            print(json.dumps({"header": signature.HEADER, "value": value, "dtekey": builder.dtekey(request)}),
                  file=sys.stderr)
        else:
            print(f"{signature.HEADER}: {value}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
