#!/usr/bin/env bash
# make load-enqueue: enqueue measured from outside. Starts out/enqueue
# against the machine's RabbitMQ in a virtual host of its own (created here,
# deleted afterwards: the default vhost "/" is never touched), drives it
# with `out/dte load` from this separate process at a fixed rate, and
# prints the generator's report, enqueue's own view of the same requests
# (the "took" of its log lines: from the request read to the answer, the
# broker's confirm included), and the CPU time enqueue and RabbitMQ spent
# per request during the run, with the machine's load. enqueue logs at its
# default level (info: one line per request), as deployed.
#
#   RATE=500 DURATION=60s scripts/load-enqueue.sh [extra dte load flags]
#   ENQUEUE_ENV="PUBLISH_CHANNELS=64" ...   extra environment for enqueue
#   JSON=out/load-enqueue.json              where the JSON summary goes
#   LOG=out/load-enqueue.log                where enqueue's log goes (kept)
#
# Needs out/enqueue and out/dte (make build), rabbitmqctl and the local S3
# server (scripts/s3-server.sh start).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RATE=${RATE:-500} DURATION=${DURATION:-60s}
PORT=${PORT:-18090}
JSON=${JSON:-out/load-enqueue.json}
LOG=${LOG:-out/load-enqueue.log}
for b in out/enqueue out/dte; do
  [[ -x $b ]] || { echo "load-enqueue: $b is missing: make build" >&2; exit 1; }
done
command -v rabbitmqctl >/dev/null || { echo "load-enqueue: rabbitmqctl is not installed" >&2; exit 1; }
# enqueue reads the archive on every request (the 409 for a used folio);
# without a server each request would wait out its retries and the figures
# would measure that.
scripts/s3-server.sh status >/dev/null 2>&1 || { echo "load-enqueue: the S3 server is not running: scripts/s3-server.sh start (make load-enqueue starts it)" >&2; exit 1; }
eval "$(scripts/s3-server.sh env)"

vhost="dte-load-$$"
secret="load-$(date +%s)-$$"
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
}
trap cleanup EXIT
rabbitmqctl -q add_vhost "$vhost" >/dev/null
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null

# cpu PID: user + system time of a process in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# machine: all and idle (idle + iowait) clock ticks of every core so far.
machine() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat; }
beam=$(pgrep -o -x beam.smp || true)
s3pid=$(cat .run/s3/versitygw.pid 2>/dev/null || true)
[[ -n $s3pid && -r /proc/$s3pid/stat ]] || s3pid="" # another checkout's server: not measured

mkdir -p "$(dirname "$JSON")" "$(dirname "$LOG")"
log=$LOG
# shellcheck disable=SC2086 # ENQUEUE_ENV is VAR=value words
env AMQP_URL="amqp://guest:guest@127.0.0.1:5672/$vhost" ENQUEUE_SECRET="$secret" PORT="$PORT" LOG_LEVEL=info \
  ${ENQUEUE_ENV:-} out/enqueue 2>"$log" &
pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/_/ready" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/_/ready" || { echo "load-enqueue: enqueue is not ready" >&2; cat "$log" >&2; exit 1; }

e0=$(cpu "$pid") b0=0 s0=0
[[ -n $beam ]] && b0=$(cpu "$beam")
[[ -n $s3pid ]] && s0=$(cpu "$s3pid")
read -r m0 i0 < <(machine)
status=0
ENQUEUE_SECRET=$secret out/dte load --url "http://127.0.0.1:$PORT/" --rate "$RATE" --duration "$DURATION" --json "$JSON" "$@" || status=$?
e1=$(cpu "$pid") b1=0 s1=0
[[ -n $beam ]] && b1=$(cpu "$beam")
[[ -n $s3pid ]] && s1=$(cpu "$s3pid")
read -r m1 i1 < <(machine)
hz=$(getconf CLK_TCK)
sent=$(sed -n 's/^  "sent": \([0-9]*\),$/\1/p' "$JSON")
if [[ -n $sent && $sent -gt 0 ]]; then
  awk -v e=$((e1 - e0)) -v b=$((b1 - b0)) -v s=$((s1 - s0)) -v hz="$hz" -v n="$sent" -v beam="${beam:-}" -v s3="${s3pid:-}" 'BEGIN {
    printf "cpu       enqueue %.3f ms per request", 1000 * e / hz / n
    if (beam != "") printf "; RabbitMQ (whole broker) %.3f ms per request", 1000 * b / hz / n
    if (s3 != "") printf "; S3 server %.3f ms per request", 1000 * s / hz / n
    printf "\n" }'
  awk -v m=$((m1 - m0)) -v i=$((i1 - i0)) -v e=$((e1 - e0)) -v b=$((b1 - b0)) -v cores="$(nproc)" 'BEGIN {
    if (m > 0) printf "machine   %.0f%% busy during the run (%d cores); enqueue and RabbitMQ used %.0f%% of it\n", 100 * (m - i) / m, cores, 100 * (e + b) / (m - i) }'
fi
# enqueue's log: one JSON line per request with "took" in nanoseconds.
awk -F'"took":' '/"msg":"enqueue"/ && /"status":202/ { split($2, a, /[,}]/); print a[1] / 1e6 }' "$log" | sort -n | awk '
  function at(p,  k) { k = int(p * NR + 0.999999999); if (k < 1) k = 1; return v[k] }
  { v[NR] = $1 }
  END { if (NR) printf "enqueue   its own time (log \"took\"): p50 %.2fms  p95 %.2fms  p99 %.2fms  max %.2fms  (%d requests)\n", at(0.50), at(0.95), at(0.99), v[NR], NR }'
warnings=$(grep -c '"level":"\(WARN\|ERROR\)"' "$log" || true)
if ((warnings > 0)); then
  # A warning here (the archive unreachable, the broker gone) means the
  # figures above do not measure enqueue's normal path.
  echo "enqueue logged $warnings warnings and errors; the last ones:" >&2
  grep '"level":"\(WARN\|ERROR\)"' "$log" | tail -n 5 >&2
  ((status != 0)) || status=1
fi
exit "$status"
