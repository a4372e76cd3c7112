#!/usr/bin/env bash
# The local S3-compatible servers for tests and `make run`:
#   versitygw (Apache-2.0), the default: its posix backend keeps objects as
#     plain files under .run/s3/data;
#   MinIO (AGPL-3.0), with `minio` as first argument: single drive under
#     .run/minio/data, with a local KMS key so that buckets can use SSE-KMS.
#     The archive's tests and one end-to-end run use both.
#
#   scripts/s3-server.sh [minio] install   build the server into the tools folder (minutes, once
#                                          per machine; scripts/toolsdir.sh, outside the checkout)
#   scripts/s3-server.sh [minio] bin       print the path of the server's binary
#   scripts/s3-server.sh [minio] start     start it on 127.0.0.1; idempotent
#   scripts/s3-server.sh [minio] stop      stop it; idempotent
#   scripts/s3-server.sh [minio] status    exit 0 when running and answering, 3 when not
#   scripts/s3-server.sh [minio] env       export lines for the pipeline (S3_*: this server)
#                                          and the tests (TEST_S3_*: versitygw, TEST_MINIO_*: MinIO):
#                                          eval "$(scripts/s3-server.sh env)"
#
# Environment: S3_PORT (versitygw, 7070), MINIO_PORT (7080) and MINIO_CONSOLE_PORT
# (7081), S3_ACCESS_KEY (dtelocal), S3_SECRET_KEY (dtelocal-secret-key), S3_BUCKET
# (dte-archive; created by start), S3_FORCE_SIDECAR=1 (versitygw: keep metadata in
# sidecar files even where xattrs work), DTE_TOOLS_DIR (where both are built:
# ${XDG_CACHE_HOME:-~/.cache}/dte-pipeline/bin, outside the checkout, so that a fresh
# clone reuses them; scripts/toolsdir.sh).
set -euo pipefail

SERVER=versitygw
if [[ "${1:-}" == minio ]]; then
	SERVER=minio
	shift
fi
readonly SERVER

readonly VERSITYGW_MODULE=github.com/versity/versitygw
readonly VERSITYGW_VERSION=v1.8.0
# MinIO's RELEASE.* tags are not semver: `go install github.com/minio/minio@latest`
# resolves to a pseudo-version. This one is pinned; change it on purpose only.
readonly MINIO_MODULE=github.com/minio/minio
readonly MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
# The local KMS key (name:base64 of 32 bytes) MinIO encrypts SSE-KMS and SSE-S3
# objects with. A development value like the keys above; never use it elsewhere.
readonly MINIO_KMS_KEY_ID=dte-local
readonly MINIO_KMS_SECRET_KEY="$MINIO_KMS_KEY_ID:J0KzCosCkeBwTcpQ7N0Qb0gV5oVbtRNkOsVQZeT+iWY="

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
BIN_DIR=$("$ROOT/scripts/toolsdir.sh")
readonly BIN_DIR
readonly HOST=127.0.0.1
readonly VERSITYGW_PORT="${S3_PORT:-7070}"
readonly MINIO_PORT="${MINIO_PORT:-7080}"
readonly MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-7081}"
readonly ACCESS_KEY="${S3_ACCESS_KEY:-dtelocal}"
readonly SECRET_KEY="${S3_SECRET_KEY:-dtelocal-secret-key}"
readonly BUCKET="${S3_BUCKET:-dte-archive}"
readonly REGION="${S3_REGION:-us-east-1}"
readonly START_TIMEOUT_TENTHS=300 # 30 s (MinIO formats its drive on the first start)

# Per server: where the binary is built, its module and version, where it
# runs, its port and its health path.
if [[ "$SERVER" == minio ]]; then
	readonly MODULE=$MINIO_MODULE VERSION=$MINIO_VERSION PACKAGE=$MINIO_MODULE
	readonly RUN_DIR="$ROOT/.run/minio" PORT=$MINIO_PORT PORT_VARIABLE=MINIO_PORT HEALTH_PATH=/minio/health/ready
else
	readonly MODULE=$VERSITYGW_MODULE VERSION=$VERSITYGW_VERSION PACKAGE=$VERSITYGW_MODULE/cmd/versitygw
	readonly RUN_DIR="$ROOT/.run/s3" PORT=$VERSITYGW_PORT PORT_VARIABLE=S3_PORT HEALTH_PATH=/health
fi
readonly BIN="$BIN_DIR/$SERVER"
readonly DATA_DIR="$RUN_DIR/data"
readonly SIDECAR_DIR="$RUN_DIR/meta"
readonly PID_FILE="$RUN_DIR/$SERVER.pid"
readonly LOG_FILE="$RUN_DIR/$SERVER.log"
readonly ENDPOINT="http://$HOST:$PORT"

log() { printf 's3-server (%s): %s\n' "$SERVER" "$*" >&2; }
die() { log "$*"; exit 1; }

# installed_version prints the module version the binary in $1 was built from, or nothing.
installed_version() {
	[[ -x "$1" ]] || return 0
	go version -m "$1" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

# go_install_tool DIR builds $PACKAGE at $VERSION into DIR, unless DIR has it
# already. DIR is a parameter so that the tools can move (e.g. to a cache
# shared by checkouts) without touching this function.
go_install_tool() {
	local dir=$1
	if [[ "$(installed_version "$dir/$SERVER")" == "$VERSION" ]]; then
		return 0
	fi
	command -v go >/dev/null || die "go is not on PATH; it is needed to build $SERVER"
	mkdir -p "$dir"
	# The tools folder is shared by every checkout: one build at a time.
	exec 8>"$dir/.$SERVER.lock"
	flock -w 900 8 || die "another build of $SERVER holds $dir/.$SERVER.lock"
	if [[ "$(installed_version "$dir/$SERVER")" == "$VERSION" ]]; then
		exec 8>&-
		return 0
	fi
	log "building $SERVER $VERSION into $dir (several minutes, once per machine)"
	local start=$SECONDS
	# GOWORK=off: the repo's workspace has nothing to do with this tool.
	GOWORK=off GOBIN="$dir" go install "$PACKAGE@$VERSION"
	exec 8>&-
	[[ "$(installed_version "$dir/$SERVER")" == "$VERSION" ]] || die "built $dir/$SERVER but it does not report $VERSION"
	log "built $SERVER in $((SECONDS - start)) s"
}

cmd_install() { go_install_tool "$BIN_DIR"; }

# pid_alive succeeds when the pidfile names a running $SERVER.
pid_alive() {
	[[ -f "$PID_FILE" ]] || return 1
	local pid
	pid=$(<"$PID_FILE")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Guard against a recycled pid: it must still be our binary.
	[[ "$(readlink "/proc/$pid/exe" 2>/dev/null || true)" == "$BIN"* ]] ||
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$SERVER"
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

# A server that has just started can answer its health check before it
# takes requests (MinIO: 503 XMinioServerNotInitialized for a few seconds on
# a cold disk), so a 503 is asked again for up to START_TIMEOUT_TENTHS.
create_bucket() {
	local code out="$RUN_DIR/create-bucket.out" i
	for ((i = 0; i < START_TIMEOUT_TENTHS; i += 5)); do
		code=$(curl -sS -o "$out" -w '%{http_code}' --max-time 5 -X PUT \
			--aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
			-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$ENDPOINT/$BUCKET" || true)
		[[ "$code" == 503 ]] || break
		sleep 0.5
	done
	case "$code" in
	200 | 409) rm -f "$out" ;; # 409: BucketAlreadyOwnedByYou
	*) die "creating bucket $BUCKET at $ENDPOINT answered ${code:-nothing}: $(cat "$out" 2>/dev/null)" ;;
	esac
}

# launch_versitygw starts versitygw in the background (posix backend,
# metadata in user xattrs or, where there are none, sidecar files).
launch_versitygw() {
	local -a backend=(posix)
	if [[ "${S3_FORCE_SIDECAR:-}" != 1 ]] && has_user_xattrs "$DATA_DIR"; then
		log "metadata in user xattrs under $DATA_DIR"
	else
		mkdir -p "$SIDECAR_DIR"
		backend+=(--sidecar "$SIDECAR_DIR")
		log "metadata in sidecar files under $SIDECAR_DIR (no user xattrs here, or S3_FORCE_SIDECAR=1)"
	fi
	# --keep-alive: versitygw closes every connection after one answer unless
	# told otherwise; S3 and MinIO keep them, and without it each archive call
	# is a new TCP connection (4x enqueue's p99 at 500 requests/s; archive
	# TestServerKeepsConnectionsOpen).
	# 9>&-: the server must not inherit the lock. A clean environment: versitygw reads many variables (LOGFILE, VGW_*,
	# ROOT_*) and must see only ours.
	setsid nohup env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
		ROOT_ACCESS_KEY="$ACCESS_KEY" ROOT_SECRET_KEY="$SECRET_KEY" VGW_REGION="$REGION" \
		"$BIN" --port "$HOST:$PORT" --health "$HEALTH_PATH" --quiet --keep-alive \
		"${backend[@]}" "$DATA_DIR" >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
}

# launch_minio starts MinIO in the background: one drive, no console, no
# update checks, the local KMS key (SSE-KMS and SSE-S3 buckets work).
launch_minio() {
	setsid nohup env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
		MINIO_ROOT_USER="$ACCESS_KEY" MINIO_ROOT_PASSWORD="$SECRET_KEY" MINIO_SITE_REGION="$REGION" \
		MINIO_KMS_SECRET_KEY="$MINIO_KMS_SECRET_KEY" MINIO_UPDATE=off MINIO_BROWSER=off \
		"$BIN" server "$DATA_DIR" --address "$HOST:$PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT" --quiet \
		>>"$LOG_FILE" 2>&1 </dev/null 9>&- &
}

cmd_start() {
	mkdir -p "$RUN_DIR"
	exec 9>"$RUN_DIR/lock"
	flock -w 30 9 || die "another start or stop holds $RUN_DIR/lock"
	if pid_alive && outdated; then
		log "restarting versitygw: it was started without --keep-alive (by an older scripts/s3-server.sh)"
		stop_ours
	fi
	if pid_alive; then
		answers || die "$SERVER (pid $(<"$PID_FILE")) runs but $ENDPOINT$HEALTH_PATH does not answer; see $LOG_FILE"
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
		die "something else answers on $ENDPOINT and refuses our keys; stop it or set $PORT_VARIABLE"
	fi
	cmd_install
	mkdir -p "$DATA_DIR"
	if [[ "$SERVER" == minio ]]; then
		launch_minio
	else
		launch_versitygw
	fi
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
			die "$SERVER exited at start; log: $LOG_FILE"
		fi
		sleep 0.1
	done
	tail -n 20 "$LOG_FILE" >&2 || true
	die "$SERVER did not answer on $ENDPOINT within $((START_TIMEOUT_TENTHS / 10)) s; log: $LOG_FILE"
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
	stop_ours
}

# stop_ours stops the server of PID_FILE (the caller holds the lock).
stop_ours() {
	local pid i
	pid=$(<"$PID_FILE")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$SERVER (pid $pid) ignored SIGTERM for 5 s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PID_FILE"
	log "stopped (pid $pid)"
}

# outdated says whether our running versitygw was started by an older
# version of this script, without --keep-alive.
outdated() {
	[[ "$SERVER" == versitygw ]] || return 1
	! tr '\0' ' ' <"/proc/$(<"$PID_FILE")/cmdline" 2>/dev/null | grep -q -- '--keep-alive'
}

cmd_status() {
	if pid_alive && answers; then
		echo "$SERVER running at $ENDPOINT (pid $(<"$PID_FILE")), data in $DATA_DIR"
		return 0
	fi
	if pid_alive; then
		echo "$SERVER process $(<"$PID_FILE") exists but $ENDPOINT$HEALTH_PATH does not answer"
	else
		echo "$SERVER not running"
	fi
	return 3
}

cmd_env() {
	# S3_*: the selected server, for the pipeline and the dte command.
	printf 'export %s=%q\n' S3_ENDPOINT "$ENDPOINT" S3_REGION "$REGION" \
		S3_ACCESS_KEY "$ACCESS_KEY" S3_SECRET_KEY "$SECRET_KEY" S3_BUCKET "$BUCKET"
	# TEST_*: both servers, for the integration tests.
	printf 'export %s=%q\n' TEST_S3_ENDPOINT "http://$HOST:$VERSITYGW_PORT" \
		TEST_S3_ACCESS_KEY "$ACCESS_KEY" TEST_S3_SECRET_KEY "$SECRET_KEY" \
		TEST_MINIO_ENDPOINT "http://$HOST:$MINIO_PORT" \
		TEST_MINIO_ACCESS_KEY "$ACCESS_KEY" TEST_MINIO_SECRET_KEY "$SECRET_KEY" \
		TEST_MINIO_KMS_KEY "$MINIO_KMS_KEY_ID"
}

usage() {
	sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
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
