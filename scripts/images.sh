#!/usr/bin/env bash
# make images: an OCI image of each function (enqueue, sign, submit, notify)
# and of the dte command (the OpenFaaS connector), built with ko v0.19.1
# on a tiny base image made offline by tools/cmd/kobase.
#
#   scripts/images.sh [build]        KO_DOCKER_REPO unset: offline, with no
#                                    registry and no Docker daemon, into the OCI
#                                    layouts out/images/<name>/. ko runs with
#                                    GOPROXY=off and HTTP(S)_PROXY on a dead
#                                    port, so nothing can be fetched.
#                                    KO_DOCKER_REPO set: also pushed, as
#                                    $KO_DOCKER_REPO/<name>:${TAG:-latest}.
#                                    Either way each image must stay under
#                                    MAX_IMAGE_BYTES (25 MB). CRYPTO=boringcrypto
#                                    builds sign and submit on BoringCrypto
#                                    (scripts/gobuild.sh says what that is).
#   eval "$(scripts/images.sh env)"  the variables to run ko by hand, e.g.
#                                    ko resolve -f kn/base -f kn/source
#   scripts/images.sh resolve DIR... ko resolve of manifests to stdout
#                                    (pushes when KO_DOCKER_REPO is set)
#   scripts/images.sh docker [FN...] the same images with Docker and the root
#                                    Dockerfile (the recipe stack.yml uses):
#                                    ${REGISTRY:-localhost:5000}/dte-FN:${TAG:-latest},
#                                    pushed when PUSH=1
#
# ko builds in the repository's workspace (go.work); the Dockerfile builds
# each function's module on its own (GOWORK=off). Neither makes a go.work.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=deploy-tools.sh
source scripts/deploy-tools.sh

MAX_IMAGE_BYTES=${MAX_IMAGE_BYTES:-25000000}
CRYPTO=${CRYPTO:-std}
case "$CRYPTO" in
std | boringcrypto) ;;
*) echo "images: CRYPTO=$CRYPTO: want std or boringcrypto" >&2; exit 2 ;;
esac
export KOCACHE=${KOCACHE:-$ROOT/out/kocache}
export KO_CONFIG_PATH="$ROOT/.ko.yaml"
# The placeholder repository of offline builds: images are named after it,
# never pushed there.
OFFLINE_REPO=example.invalid/dte

# boring_config writes out/ko-boringcrypto/.ko.yaml: .ko.yaml with the builds
# of sign and submit (the functions that sign) on BoringCrypto, cgo linked
# statically so that the base image needs no C library (the flags of
# scripts/gobuild.sh), and points KO_CONFIG_PATH at it. .ko.yaml stays the
# one source: this only rewrites those two builds' env, flags and ldflags.
boring_config() {
  local dir=out/ko-boringcrypto
  mkdir -p "$dir"
  awk '
    /^  - id: / { id = $3 }
    id == "sign" || id == "submit" {
      if ($1 == "env:") { print "    env: [CGO_ENABLED=1, GOEXPERIMENT=boringcrypto]"; n++; next }
      if ($1 == "flags:") { print "    flags: [-trimpath, '\''-tags=netgo,osusergo'\'']"; next }
      if ($1 == "ldflags:") { print "    ldflags: [-s, -w, -linkmode=external, -extldflags=-static]"; next }
    }
    { print }
    END { if (n != 2) { print "images: .ko.yaml: want the env of sign and submit, rewrote " n + 0 > "/dev/stderr"; exit 1 } }
  ' .ko.yaml >"$dir/.ko.yaml"
  export KO_CONFIG_PATH="$ROOT/$dir"
}

# images lists name=import-path-dir of every image.
images() {
  local fn
  for fn in $(function_names); do echo "$fn=./functions/$fn"; done
  echo "dte=./tools/cmd/dte"
}

# prepare installs ko, builds the binaries once (which fetches any missing
# module while the network is allowed and warms the build cache ko reuses),
# writes the base image into $KOCACHE/img and exports KO_DEFAULTBASEIMAGE.
prepare() {
  ensure_ko
  local dirs=() kv
  for kv in $(images); do dirs+=("${kv#*=}"); done
  CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' "${dirs[@]}"
  mkdir -p out/bin "$KOCACHE"
  go build -o out/bin/kobase ./tools/cmd/kobase
  KO_DEFAULTBASEIMAGE=$(out/bin/kobase base -cache "$KOCACHE")
  export KO_DEFAULTBASEIMAGE
  if [[ $CRYPTO == boringcrypto ]]; then
    boring_config
  fi
}

# offline runs a command with every way of reaching the network closed.
offline() {
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
    NO_PROXY= no_proxy= GOPROXY=off GOFLAGS=-mod=readonly "$@"
}

build() {
  prepare
  local kv name dir layouts=() push=(--push=false)
  if [[ -n "${KO_DOCKER_REPO:-}" ]]; then
    push=(--push=true --tags "${TAG:-latest}")
    echo "images: pushing to $KO_DOCKER_REPO (base $KO_DEFAULTBASEIMAGE)" >&2
  else
    export KO_DOCKER_REPO=$OFFLINE_REPO
    echo "images: offline into out/images/ (KO_DOCKER_REPO unset; base $KO_DEFAULTBASEIMAGE)" >&2
  fi
  for kv in $(images); do
    name=${kv%%=*} dir=${kv#*=}
    rm -rf "out/images/$name"
    if [[ $KO_DOCKER_REPO == "$OFFLINE_REPO" ]]; then
      offline ko build "${push[@]}" --base-import-paths --oci-layout-path "out/images/$name" "$dir"
    else
      ko build "${push[@]}" --base-import-paths --oci-layout-path "out/images/$name" "$dir"
    fi
    layouts+=("out/images/$name")
  done
  out/bin/kobase size -max "$MAX_IMAGE_BYTES" "${layouts[@]}"
}

case "${1:-build}" in
build)
  build
  ;;
env)
  prepare >&2
  echo "export KOCACHE='$KOCACHE'"
  echo "export KO_CONFIG_PATH='$KO_CONFIG_PATH'"
  echo "export KO_DEFAULTBASEIMAGE='$KO_DEFAULTBASEIMAGE'"
  echo "export KO_DOCKER_REPO='${KO_DOCKER_REPO:-$OFFLINE_REPO}'"
  echo "export PATH='$TOOLS_BIN':\"\$PATH\""
  ;;
resolve)
  shift
  (($#)) || { echo "usage: scripts/images.sh resolve DIR|FILE..." >&2; exit 2; }
  prepare >&2
  args=()
  for f in "$@"; do args+=(-f "$f"); done
  if [[ -n "${KO_DOCKER_REPO:-}" ]]; then
    ko resolve --base-import-paths --tags "${TAG:-latest}" "${args[@]}"
  else
    KO_DOCKER_REPO=$OFFLINE_REPO offline ko resolve --push=false --base-import-paths "${args[@]}"
  fi
  ;;
docker)
  shift
  fns=("$@")
  ((${#fns[@]})) || mapfile -t fns < <(function_names)
  for fn in "${fns[@]}"; do
    [[ -f "functions/$fn/main.go" ]] || { echo "images: no function $fn" >&2; exit 2; }
    image="${REGISTRY:-localhost:5000}/dte-$fn:${TAG:-latest}"
    docker build --build-arg "FUNCTION=$fn" -t "$image" -f Dockerfile .
    [[ "${PUSH:-}" != 1 ]] || docker push "$image"
  done
  ;;
*)
  echo "usage: scripts/images.sh [build | env | resolve DIR... | docker [FUNCTION...]]" >&2
  exit 2
  ;;
esac
