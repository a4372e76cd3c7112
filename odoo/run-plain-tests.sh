#!/usr/bin/env bash
# Plain tests of the Odoo addon l10n_cl_dte_async: request building against the
# repo's JSON Schema, signatures, status transitions, the callback logic, the
# enqueue client, the addon's structure (manifest, XML, translations) and the
# build_request tool. No Odoo needed. Always Debian's python (python3-jsonschema).
set -euo pipefail
cd "$(dirname "$0")"
PY=${ODOO_PLAIN_PYTHON:-/usr/bin/python3}
# Under CI and make test (DTE_TEST_STRICT=1) a missing jsonschema fails at once.
if [[ "${CI:-}" == "true" || "${DTE_TEST_STRICT:-}" == 1 ]] && ! "$PY" -c 'import jsonschema' 2>/dev/null; then
  echo "odoo-plain: python3-jsonschema is missing for $PY (apt-get install -y python3-jsonschema)" >&2
  exit 1
fi
exec "$PY" plain_tests/run.py "$@"
