#!/usr/bin/env bash
# The local S3-compatible server for tests and `make run`: versitygw (Apache-2.0)
# with its posix backend, objects as plain files under .run/s3/data.
#
#   scripts/s3-server.sh install   build versitygw into the tools folder (minutes, once per
#                                  machine; scripts/toolsdir.sh, outside the checkout)
#   scripts/s3-server.sh bin       print the path of the versitygw binary
#   scripts/s3-server.sh start     start it on 127.0.0.1:$S3_PORT (default 7070); idempotent
#   scripts/s3-server.sh stop      stop it; idempotent
#   scripts/s3-server.sh status    exit 0 when running and answering, 3 when not
#   scripts/s3-server.sh env       print export lines for the pipeline and the tests:
#                                  eval "$(scripts/s3-server.sh env)"
#
# Environment: S3_PORT (7070), S3_ACCESS_KEY (dtelocal), S3_SECRET_KEY
# (dtelocal-secret-key), S3_BUCKET (dte-archive; created by start),
# S3_FORCE_SIDECAR=1 (keep metadata in sidecar files even where xattrs work).
set -euo pipefail

readonly VERSITYGW_MODULE=github.com/versity/versitygw
readonly VERSITYGW_VERSION=v1.8.0

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
BIN_DIR=$("$ROOT/scripts/toolsdir.sh")
readonly BIN_DIR
readonly BIN="$BIN_DIR/versitygw"
readonly RUN_DIR="$ROOT/.run/s3"
readonly DATA_DIR="$RUN_DIR/data"
readonly SIDECAR_DIR="$RUN_DIR/meta"
readonly PID_FILE="$RUN_DIR/versitygw.pid"
readonly LOG_FILE="$RUN_DIR/versitygw.log"

readonly HOST=127.0.0.1
readonly PORT="${S3_PORT:-7070}"
readonly ACCESS_KEY="${S3_ACCESS_KEY:-dtelocal}"
readonly SECRET_KEY="${S3_SECRET_KEY:-dtelocal-secret-key}"
readonly BUCKET="${S3_BUCKET:-dte-archive}"
readonly REGION="${S3_REGION:-us-east-1}"
readonly ENDPOINT="http://$HOST:$PORT"
readonly HEALTH_PATH=/health
readonly START_TIMEOUT_TENTHS=100 # 10 s

log() { printf 's3-server: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# installed_version prints the module version the binary was built from, or nothing.
installed_version() {
	[[ -x "$BIN" ]] || return 0
	go version -m "$BIN" 2>/dev/null | awk -v m="$VERSITYGW_MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

cmd_install() {
	if [[ "$(installed_version)" == "$VERSITYGW_VERSION" ]]; then
		return 0
	fi
	command -v go >/dev/null || die "go is not on PATH; it is needed to build versitygw"
	# The tools folder is shared by every checkout: one build at a time.
	exec 8>"$BIN_DIR/.versitygw.lock"
	flock -w 900 8 || die "another build of versitygw holds $BIN_DIR/.versitygw.lock"
	if [[ "$(installed_version)" == "$VERSITYGW_VERSION" ]]; then
		exec 8>&-
		return 0
	fi
	log "building versitygw $VERSITYGW_VERSION into $BIN_DIR (several minutes, once per machine)"
	# GOWORK=off: the repo's workspace has nothing to do with this tool.
	GOWORK=off GOBIN="$BIN_DIR" go install "$VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION"
	exec 8>&-
	[[ "$(installed_version)" == "$VERSITYGW_VERSION" ]] || die "built $BIN but it does not report $VERSITYGW_VERSION"
}

# pid_alive succeeds when the pidfile names a running versitygw.
pid_alive() {
	[[ -f "$PID_FILE" ]] || return 1
	local pid
	pid=$(<"$PID_FILE")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Guard against a recycled pid: it must still be our binary.
	[[ "$(readlink "/proc/$pid/exe" 2>/dev/null || true)" == "$BIN"* ]] ||
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q versitygw
}

answers() {
	curl -fsS -o /dev/null --max-time 1 "$ENDPOINT$HEALTH_PATH" 2>/dev/null
}

# has_user_xattrs succeeds when files in $1 can carry user.* extended
# attributes, where versitygw keeps object metadata; else it needs --sidecar.
has_user_xattrs() {
	local probe ok=1
	probe=$(mktemp "$1/.xattr-probe.XXXXXX")
	if command -v setfattr >/dev/null; then
		setfattr -n user.dte_probe -v 1 "$probe" 2>/dev/null && ok=0
	elif command -v python3 >/dev/null; then
		python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.dte_probe", b"1")' "$probe" 2>/dev/null && ok=0
	fi
	rm -f "$probe"
	return "$ok"
}

# create_bucket makes $BUCKET (idempotent) with a SigV4-signed PUT.
# bucket_ok creates the bucket (or finds it ours) and succeeds when the
# server accepted our keys.
bucket_ok() {
	local code
	code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -X PUT \
		--aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$ENDPOINT/$BUCKET" || true)
	[[ "$code" == 200 || "$code" == 409 ]]
}

create_bucket() {
	local code out="$RUN_DIR/create-bucket.out"
	code=$(curl -sS -o "$out" -w '%{http_code}' --max-time 5 -X PUT \
		--aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$ENDPOINT/$BUCKET" || true)
	case "$code" in
	200 | 409) rm -f "$out" ;; # 409: BucketAlreadyOwnedByYou
	*) die "creating bucket $BUCKET at $ENDPOINT answered ${code:-nothing}: $(cat "$out" 2>/dev/null)" ;;
	esac
}

cmd_start() {
	mkdir -p "$RUN_DIR"
	exec 9>"$RUN_DIR/lock"
	flock -w 30 9 || die "another start or stop holds $RUN_DIR/lock"
	if pid_alive; then
		answers || die "versitygw (pid $(<"$PID_FILE")) runs but $ENDPOINT$HEALTH_PATH does not answer; see $LOG_FILE"
		create_bucket
		log "already running at $ENDPOINT (pid $(<"$PID_FILE"))"
		return 0
	fi
	rm -f "$PID_FILE"
	if answers; then
		# Another checkout's server (same defaults) is as good as ours; a
		# server that refuses our keys is not.
		if bucket_ok; then
			log "reusing the S3 server that already answers on $ENDPOINT (not started here; our keys work there)"
			return 0
		fi
		die "something else answers on $ENDPOINT and refuses our keys; stop it or set S3_PORT"
	fi
	cmd_install
	mkdir -p "$DATA_DIR"
	local -a backend=(posix)
	if [[ "${S3_FORCE_SIDECAR:-}" != 1 ]] && has_user_xattrs "$DATA_DIR"; then
		log "metadata in user xattrs under $DATA_DIR"
	else
		mkdir -p "$SIDECAR_DIR"
		backend+=(--sidecar "$SIDECAR_DIR")
		log "metadata in sidecar files under $SIDECAR_DIR (no user xattrs here, or S3_FORCE_SIDECAR=1)"
	fi
	# 9>&-: the server must not inherit the lock. A clean environment: versitygw reads many variables (LOGFILE, VGW_*,
	# ROOT_*) and must see only ours.
	setsid nohup env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
		ROOT_ACCESS_KEY="$ACCESS_KEY" ROOT_SECRET_KEY="$SECRET_KEY" VGW_REGION="$REGION" \
		"$BIN" --port "$HOST:$PORT" --health "$HEALTH_PATH" --quiet \
		"${backend[@]}" "$DATA_DIR" >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
	echo $! >"$PID_FILE"
	local i
	for ((i = 0; i < START_TIMEOUT_TENTHS; i++)); do
		if answers; then
			create_bucket
			log "running at $ENDPOINT (pid $(<"$PID_FILE")), bucket $BUCKET, data in $DATA_DIR, log $LOG_FILE"
			return 0
		fi
		if ! kill -0 "$(<"$PID_FILE")" 2>/dev/null; then
			rm -f "$PID_FILE"
			tail -n 20 "$LOG_FILE" >&2 || true
			die "versitygw exited at start; log: $LOG_FILE"
		fi
		sleep 0.1
	done
	tail -n 20 "$LOG_FILE" >&2 || true
	die "versitygw did not answer on $ENDPOINT within 10 s; log: $LOG_FILE"
}

cmd_stop() {
	mkdir -p "$RUN_DIR"
	exec 9>"$RUN_DIR/lock"
	flock -w 30 9 || die "another start or stop holds $RUN_DIR/lock"
	if ! pid_alive; then
		rm -f "$PID_FILE"
		log "not running"
		return 0
	fi
	local pid i
	pid=$(<"$PID_FILE")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "versitygw (pid $pid) ignored SIGTERM for 5 s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PID_FILE"
	log "stopped (pid $pid)"
}

cmd_status() {
	if pid_alive && answers; then
		echo "versitygw running at $ENDPOINT (pid $(<"$PID_FILE")), data in $DATA_DIR"
		return 0
	fi
	if pid_alive; then
		echo "versitygw process $(<"$PID_FILE") exists but $ENDPOINT$HEALTH_PATH does not answer"
	else
		echo "versitygw not running"
	fi
	return 3
}

cmd_env() {
	local name value
	for name in S3_ENDPOINT S3_REGION S3_ACCESS_KEY S3_SECRET_KEY S3_BUCKET \
		TEST_S3_ENDPOINT TEST_S3_ACCESS_KEY TEST_S3_SECRET_KEY; do
		case "$name" in
		*ENDPOINT) value=$ENDPOINT ;;
		*ACCESS_KEY) value=$ACCESS_KEY ;;
		*SECRET_KEY) value=$SECRET_KEY ;;
		S3_BUCKET) value=$BUCKET ;;
		S3_REGION) value=$REGION ;;
		esac
		printf 'export %s=%q\n' "$name" "$value"
	done
}

usage() {
	sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

case "${1:-}" in
install) cmd_install ;;
bin) echo "$BIN" ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
*) usage ;;
esac
