#!/usr/bin/env bash
# The S3 integration tests of the archive and of the dte command, verbose,
# summed up per S3 server and bucket kind: `go test` hides passing subtests,
# and this shows which servers the archive was really tested on.
#
#   scripts/test-s3.sh     (make test-s3; needs eval "$(scripts/s3-server.sh env)")
#
# It fails when a test fails, or when versitygw or MinIO ran no test at all.
# -short: the slow cases already ran in `make test-go`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mkdir -p .run
log=.run/test-s3.log
if ! go test -count=1 -short -v ./shared/archive/ ./tools/cmd/dte/ >"$log" 2>&1; then
	cat "$log"
	echo "test-s3: FAILED (log: $log)" >&2
	exit 1
fi
# Lines like "    --- PASS: TestStoreContract/minio-sse-kms (0.05s)": one per
# test and backend.
summary=$(awk '
	match($0, /^    --- (PASS|SKIP|FAIL): Test[A-Za-z0-9_]+\/(versitygw|minio[-a-z0-9]*) /) {
		split(substr($0, RSTART + 8, RLENGTH - 9), f, /: |\//)
		n[f[3] " " tolower(f[1])]++
	}
	END { for (k in n) print k, n[k] }' "$log" | sort)
echo "$summary" | awk '{ printf "test-s3: %-16s %3d tests %s\n", $1, $3, ($2 == "pass" ? "passed" : $2 == "skip" ? "SKIPPED" : "FAILED") }'
for server in versitygw minio; do
	grep -q "^$server pass " <<<"$summary" || { echo "test-s3: no archive test passed on $server (see $log)" >&2; exit 1; }
done
