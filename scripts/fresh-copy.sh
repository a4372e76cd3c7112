#!/usr/bin/env bash
# Runs a command in a fresh clone of this repository, the way a new user
# starts: HEAD's tracked files, in an empty temporary folder with nothing
# beside them, so that anything the command needs from outside the
# repository (a sibling folder, an untracked file, a tool built in this
# checkout) is missing there and shows.
#
#   scripts/fresh-copy.sh [--keep] COMMAND [ARG...]     e.g. scripts/fresh-copy.sh make test
#
# The clone is $TMPDIR/dte-fresh.XXXXXX/dte-pipeline, at HEAD's commit
# (uncommitted changes are not in it). Its exit status is the command's.
# Afterwards the S3 server is stopped if the command started one there, and
# the folder is removed, unless --keep. Variables pass through: whatever
# names a place outside the repository must be an absolute path.
set -euo pipefail

keep=0
if [[ ${1:-} == --keep ]]; then
  keep=1
  shift
fi
(($#)) || { echo "usage: scripts/fresh-copy.sh [--keep] COMMAND [ARG...]" >&2; exit 2; }

log() { printf 'fresh-copy: %s\n' "$*" >&2; }

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
head=$(git -C "$SRC" rev-parse --verify HEAD) || { log "$SRC is not a git checkout with a commit"; exit 1; }
if [[ -n $(git -C "$SRC" status --porcelain --untracked-files=no) ]]; then
  log "note: $SRC has uncommitted changes; the copy has HEAD ($head) only"
fi

parent=$(mktemp -d "${TMPDIR:-/tmp}/dte-fresh.XXXXXX")
dest=$parent/dte-pipeline
cleanup() {
  if [[ -x $dest/scripts/s3-server.sh ]]; then
    # Stops only a server started from the copy (its own pidfile).
    (cd "$dest" && scripts/s3-server.sh stop >/dev/null 2>&1) || true
  fi
  if ((keep)); then
    log "kept $dest"
  else
    rm -rf "$parent"
  fi
}
trap cleanup EXIT

git clone --quiet --no-hardlinks "$SRC" "$dest"
git -C "$dest" checkout --quiet --detach "$head"
beside=$(ls -A "$parent")
[[ $beside == dte-pipeline ]] || { log "the temporary folder holds more than the clone: $beside"; exit 1; }
log "running '$*' in $dest (commit ${head:0:12}, nothing beside it)"

cd "$dest"
set +e
"$@"
rc=$?
set -e
log "'$*' exited $rc"
exit "$rc"
