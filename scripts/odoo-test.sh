#!/usr/bin/env bash
# The addon's Odoo-framework tests (odoo/l10n_cl_dte_async/tests), run by a
# real Odoo 19.0 with `odoo-bin --test-enable` on this machine's PostgreSQL.
#
#   ODOO_SRC=/path/to/odoo-19.0 scripts/odoo-test.sh
#
# ODOO_SRC is an Odoo 19.0 source tree (odoo-bin, odoo/addons, addons/ with
# account and l10n_cl). Without it the tests do not run: the script says so
# and exits 0, except under CI=true, where that is a failure.
#
# Each run: the Debian packages Odoo needs (scripts/odoo-deps.sh, apt-get
# when missing), a PostgreSQL role with CREATEDB for the tests (Odoo refuses
# the superuser `postgres`), a fresh database (dropped afterwards), a
# temporary --data-dir, a free --http-port. Fails when odoo-bin fails, when
# no test ran, when a test failed or errored, when the server logged an
# ERROR or CRITICAL line (a test that provokes one must mute it), and under
# CI=true when a test was skipped (Chromium missing, for example).
#
# Then runs odoo/README.md's «Try it» walk-through (odoo/tools/run_walkthrough.py).
#
# Environment (all optional): ODOO_TEST_TAGS (default /l10n_cl_dte_async),
# ODOO_TEST_PGHOST (127.0.0.1), ODOO_TEST_PGPORT (5432), ODOO_TEST_PGADMIN
# (postgres: a role that may create roles), ODOO_TEST_ROLE (dte_odoo_test),
# ODOO_TEST_KEEP=1 keeps the database and the log folder. For quick
# iterations while developing, ODOO_TEST_DB=NAME uses (and keeps) that
# database, updating the addon when it exists (-u) instead of installing it;
# ODOO_TEST_WALKTHROUGH=0 leaves the walk-through out.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [[ -z "${ODOO_SRC:-}" ]]; then
  echo "odoo-test: ODOO_SRC is not set: the addon's Odoo-framework tests DID NOT RUN."
  echo "odoo-test: point ODOO_SRC at an Odoo 19.0 source tree to run them (only the plain tests ran)."
  exit 0
fi
if [[ ! -f "$ODOO_SRC/odoo-bin" || ! -d "$ODOO_SRC/addons/l10n_cl" ]]; then
  echo "odoo-test: ODOO_SRC=$ODOO_SRC is not an Odoo source tree with addons/l10n_cl (no odoo-bin or l10n_cl there)" >&2
  exit 1
fi
version=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from odoo.release import version_info as v; print("%s.%s" % v[:2])' "$ODOO_SRC" 2>/dev/null || true)
if [[ "$version" != "19.0" ]]; then
  echo "odoo-test: ODOO_SRC=$ODOO_SRC is Odoo ${version:-of unknown version}, the addon needs 19.0" >&2
  exit 1
fi

scripts/odoo-deps.sh ensure

pghost=${ODOO_TEST_PGHOST:-127.0.0.1}
pgport=${ODOO_TEST_PGPORT:-5432}
pgadmin=${ODOO_TEST_PGADMIN:-postgres}
role=${ODOO_TEST_ROLE:-dte_odoo_test}
password=$role # a local test role on a local server
tags=${ODOO_TEST_TAGS:-/l10n_cl_dte_async}
psql_admin=(psql -X -q -v ON_ERROR_STOP=1 -h "$pghost" -p "$pgport" -U "$pgadmin" -d postgres)

if ! "${psql_admin[@]}" -Atc 'select 1' >/dev/null; then
  echo "odoo-test: cannot reach PostgreSQL at $pghost:$pgport as $pgadmin (set ODOO_TEST_PGADMIN to a role that may create roles)" >&2
  exit 1
fi
"${psql_admin[@]}" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE "$role" LOGIN CREATEDB PASSWORD '$password';
  ELSE
    ALTER ROLE "$role" LOGIN CREATEDB NOSUPERUSER PASSWORD '$password';
  END IF;
END \$\$;
SQL

db="dte_odoo_test_$(date +%Y%m%d%H%M%S)_$$"
install=(-i l10n_cl_dte_async)
if [[ -n "${ODOO_TEST_DB:-}" ]]; then
  db=$ODOO_TEST_DB
  export ODOO_TEST_KEEP=1
  if [[ -n $("${psql_admin[@]}" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
    install=(-u l10n_cl_dte_async)
  fi
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/dte-odoo-test.XXXXXX")
log="$work/odoo.log"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  if [[ "${ODOO_TEST_KEEP:-}" == "1" ]]; then
    echo "odoo-test: kept database $db and $work"
    return
  fi
  "${psql_admin[@]}" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work/data"
}
trap cleanup EXIT

echo "odoo-test: Odoo $version at $ODOO_SRC, database $db (role $role), HTTP port $port, tags $tags"
echo "odoo-test: full log: $log"
start=$(date +%s)
set +e
: >"$log"
PGPASSWORD=$password /usr/bin/python3 "$ODOO_SRC/odoo-bin" \
  --addons-path="$ODOO_SRC/odoo/addons,$ODOO_SRC/addons,$repo/odoo" \
  --db_host="$pghost" --db_port="$pgport" --db_user="$role" --db_password="$password" \
  -d "$db" "${install[@]}" --test-enable --test-tags "$tags" --stop-after-init \
  --data-dir="$work/data" --http-port="$port" --http-interface=127.0.0.1 \
  --workers=0 --max-cron-threads=0 --without-demo=True --log-level=info \
  >"$log" 2>&1 &
odoo_pid=$!
# Show progress: which test runs, and every warning or worse, as it happens.
tail -n +1 -f --pid="$odoo_pid" "$log" |
  grep --line-buffered -E ' (WARNING|ERROR|CRITICAL) |Starting Test|tests when loading database' &
wait "$odoo_pid"
rc=$?
sleep 0.2
set -e
elapsed=$(($(date +%s) - start))

summary=$(grep -E '[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database' "$log" | tail -1 |
  sed -E 's/.*: ([0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests).*/\1/')
errors=$(grep -cE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$log" || true)
skipped=$(grep -cE '^[0-9-]+ [0-9:,]+ [0-9]+ INFO [^ ]+ [^ ]+: skipped ' "$log" || true)
echo
echo "odoo-test: ${summary:-no test summary in the log}, $skipped skipped (odoo-bin exit $rc) in ${elapsed}s; $errors ERROR/CRITICAL log line(s)"
if [[ $skipped -ne 0 ]]; then
  grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ INFO [^ ]+ [^ ]+: skipped ' "$log" | sed -E 's/^.*: skipped /odoo-test: skipped /'
fi

fail=""
[[ $rc -ne 0 ]] && fail="odoo-bin exited with $rc"
[[ -z "$summary" ]] && fail="no test summary (did the module install?)"
if [[ -n "$summary" ]]; then
  read -r failed errs total < <(echo "$summary" | sed -E 's/([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests/\1 \2 \3/')
  [[ "$total" -eq 0 ]] && fail="no test ran"
  [[ "$failed" -ne 0 || "$errs" -ne 0 ]] && fail="$failed failed, $errs error(s)"
fi
[[ -z "$fail" && "$errors" -ne 0 ]] && fail="the server logged $errors ERROR/CRITICAL line(s)"
[[ -z "$fail" && "$skipped" -ne 0 && "${CI:-}" == "true" ]] && fail="$skipped test(s) skipped under CI=true"
if [[ -n "$fail" ]]; then
  echo "odoo-test: FAILED: $fail; the log is kept at $log" >&2
  grep -nE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$log" | head -20 >&2 || true
  trap - EXIT
  cleanup
  exit 1
fi
rm -rf "$work"
echo "odoo-test: OK"

# odoo/README.md's walk-through, command by command, in a real Odoo and the
# local pipeline (ODOO_TEST_WALKTHROUGH=0 leaves it out while iterating).
if [[ "${ODOO_TEST_WALKTHROUGH:-1}" != "0" ]]; then
  echo "odoo-test: the walk-through of odoo/README.md («Try it»)"
  PGHOST=$pghost PGPORT=$pgport PGUSER=$role PGPASSWORD=$password /usr/bin/python3 odoo/tools/run_walkthrough.py
fi
