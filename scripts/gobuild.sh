#!/usr/bin/env bash
# scripts/gobuild.sh FUNCTION OUTPUT: build one function the way its image
# is built (static, -trimpath, stripped), with the crypto CRYPTO selects:
#
#   CRYPTO=std (default)  Go's own crypto, CGO off: every function.
#   CRYPTO=boringcrypto   the functions that sign (sign, submit) on
#                         BoringCrypto (GOEXPERIMENT=boringcrypto): RSA-2048
#                         about 1.5 times faster (make bench-signer). cgo,
#                         linked statically (gcc and the C library's static
#                         archive, libc6-dev on Debian), so the image needs
#                         no C library. enqueue and notify sign nothing and
#                         stay CGO off. Go calls this mode unsupported
#                         outside Google: an opt-in, not the default.
#
# The same choice elsewhere: scripts/images.sh (ko: with CRYPTO=boringcrypto it
# derives a configuration from .ko.yaml with these flags for sign and submit)
# and their Dockerfiles (--build-arg CRYPTO=boringcrypto).
set -euo pipefail
(($# == 2)) || { echo "usage: scripts/gobuild.sh FUNCTION OUTPUT (CRYPTO=std|boringcrypto)" >&2; exit 2; }
fn=$1 out=$2
[[ $out == /* ]] || out="$PWD/$out" # relative to where it was called from
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ -f "$ROOT/functions/$fn/main.go" ]] || { echo "gobuild: no function $fn (functions/$fn/main.go)" >&2; exit 2; }
crypto=${CRYPTO:-std}
case "$crypto" in
std) ;;
boringcrypto)
  case "$fn" in
  sign | submit)
    cd "$ROOT"
    # netgo, osusergo: Go's resolver and user lookup, not glibc's (which a
    # static binary cannot load). BoringSSL's unused socket BIO makes the
    # linker warn about getaddrinfo; Go never calls it.
    exec env CGO_ENABLED=1 GOEXPERIMENT=boringcrypto go build -trimpath -tags netgo,osusergo \
      -ldflags='-s -w -linkmode=external -extldflags=-static' -o "$out" "./functions/$fn"
    ;;
  esac
  ;;
*)
  echo "gobuild: CRYPTO=$crypto: want std or boringcrypto" >&2
  exit 2
  ;;
esac
cd "$ROOT"
exec env CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out" "./functions/$fn"
