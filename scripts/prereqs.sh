#!/usr/bin/env bash
# The prerequisites of `make run` and `make test`, checked before anything
# else runs, and installed when they can be.
#
#   scripts/prereqs.sh [--check | --dry-run] run|test
#
#   run     what `make run` needs: Go, gcc, pkg-config and libxml2's headers
#           (the dte command links libxml2), curl, flock, setsid, RabbitMQ
#           (make starts it when it is not running); the SII simulator
#           validates in process, with the schemas built in
#   test    all of that, and what the tests use besides: xmllint, xmlsec1, git,
#           chromium (headless, for the dashboard's browser test),
#           /usr/bin/python3 with jsonschema, yaml, zxing-cpp, lxml, xmlsec
#           and cryptography, poppler's pdftoppm
#
# What is missing is installed with apt-get on Debian and Ubuntu when this
# runs as root, or through sudo when sudo works without a password (or can
# ask for one on a terminal). Otherwise it stops at once and prints the one
# command that installs everything missing (on macOS: brew). Nothing is
# ever skipped: a prerequisite that is neither there nor installable stops
# the command.
#
#   --check     only report; exit 1 when something is missing
#   --dry-run   print the install command it would run instead of running it
#               (and exit 1 when something is missing), for tests
#
# Environment: DTE_PYTHON (the Python the tests use, /usr/bin/python3),
# DTE_PREREQS_OS (linux-debian, darwin or other; detected), DTE_PREREQS_ROOT
# (1 or 0: whether to act as root; detected), DTE_PREREQS_RABBITMQ=skip
# (leave RabbitMQ alone: for tests of this script).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${DTE_PYTHON:-/usr/bin/python3}

mode=install
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) mode=check ;;
    --dry-run) mode=dry-run ;;
    run | test) target=$1 ;;
    *) echo "usage: scripts/prereqs.sh [--check | --dry-run] run|test" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "${target:-}" ]] || { echo "usage: scripts/prereqs.sh [--check | --dry-run] run|test" >&2; exit 2; }

log() { printf 'prereqs: %s\n' "$*" >&2; }

detect_os() {
  if [[ -n "${DTE_PREREQS_OS:-}" ]]; then
    echo "$DTE_PREREQS_OS"
  elif [[ "$(uname -s)" == Darwin ]]; then
    echo darwin
  elif [[ -r /etc/debian_version ]] && command -v apt-get >/dev/null 2>&1; then
    echo linux-debian
  else
    echo other
  fi
}
OS=$(detect_os)

# --- what is needed --------------------------------------------------------
#
# Each check is: what (shown to the user), the Debian package, the Homebrew
# formula ("-" when Homebrew has none) and a shell test that succeeds when
# it is there.

whats=() debs=() brews=() tests=()
need() { whats+=("$1"); debs+=("$2"); brews+=("$3"); tests+=("$4"); }

need "gcc (cgo)"                  gcc              -          'command -v gcc'
need "pkg-config"                 pkg-config       pkg-config 'command -v pkg-config'
need "libxml2 headers (libxml-2.0.pc)" libxml2-dev libxml2    'pkg-config --exists libxml-2.0 2>/dev/null'
need "curl"                       curl             curl       'command -v curl'
need "flock"                      util-linux       flock      'command -v flock'
need "setsid"                     util-linux       util-linux 'command -v setsid'
need "RabbitMQ (rabbitmq-server, rabbitmqctl)" rabbitmq-server rabbitmq 'command -v rabbitmq-server && command -v rabbitmqctl'
if [[ $target == test ]]; then
  need "xmllint"                  libxml2-utils    libxml2    'command -v xmllint'
  need "xmlsec1"                  xmlsec1          libxmlsec1 'command -v xmlsec1'
  need "git"                      git              git        'command -v git'
  need "chromium (the dashboard's browser test)" chromium - 'command -v chromium || command -v chromium-browser'
  need "$PY"                      python3          -          '[[ -x "$PY" ]]'
  need "Python jsonschema for $PY" python3-jsonschema - '"$PY" -c "import jsonschema"'
  need "Python yaml for $PY"      python3-yaml     -          '"$PY" -c "import yaml"'
  need "pdftoppm (poppler)"       poppler-utils    poppler    'command -v pdftoppm'
  need "Python zxing-cpp for $PY (PDF417 decoder)" python3-zxing-cpp - '"$PY" -c "import zxingcpp"'
  need "Python lxml and xmlsec for $PY (the signing benchmark's peer)" python3-xmlsec - '"$PY" -c "import lxml, xmlsec"'
  need "Python cryptography for $PY (the signing benchmark's peer)" python3-cryptography - '"$PY" -c "import cryptography"'
fi

# Go is not installed here: Debian's is too old for go.work's go line, and
# the official archive is what every system uses.
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed (go.work wants $(awk '$1 == "go" {print $2}' "$ROOT/go.work")):"
  log "  install it from https://go.dev/dl/ and put its bin folder on PATH, then run make again"
  exit 1
fi

missing=() missing_debs=() missing_brews=()
check_all() {
  missing=() missing_debs=() missing_brews=()
  local i
  for i in "${!tests[@]}"; do
    if ! eval "${tests[$i]}" >/dev/null 2>&1; then
      missing+=("${whats[$i]}")
      missing_debs+=("${debs[$i]}")
      [[ ${brews[$i]} == - ]] || missing_brews+=("${brews[$i]}")
    fi
  done
}

# uniq_words prints its arguments once each, in order.
uniq_words() { printf '%s\n' "$@" | awk 'NF && !seen[$0]++' | paste -sd' ' -; }

# install_command prints the one command that installs what is missing.
install_command() {
  local sudo=${1:-}
  case "$OS" in
    linux-debian)
      echo "${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends $(uniq_words "${missing_debs[@]}")" ;;
    darwin)
      local cmd=""
      ((${#missing_brews[@]})) && cmd="brew install $(uniq_words "${missing_brews[@]}")"
      if printf '%s\n' "${missing_debs[@]}" | grep -q '^python3'; then
        [[ -n $cmd ]] && cmd+=" && "
        cmd+="$PY -m pip install --user jsonschema pyyaml zxing-cpp lxml xmlsec cryptography"
      fi
      echo "$cmd" ;;
    *)
      echo "install with your package manager: $(printf '%s; ' "${missing[@]}")(Debian names: $(uniq_words "${missing_debs[@]}"))" ;;
  esac
}

is_root() {
  case "${DTE_PREREQS_ROOT:-}" in
    1) return 0 ;;
    0) return 1 ;;
    *) [[ $(id -u) == 0 ]] ;;
  esac
}

# can_install decides how to run apt-get: as root, through sudo, or not at
# all (prints nothing and fails).
can_install() {
  [[ $OS == linux-debian ]] || return 1
  if is_root; then
    echo ""
    return 0
  fi
  if command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [[ -t 0 ]]; }; then
    echo "sudo "
    return 0
  fi
  return 1
}

apt_install() {
  local sudo=$1
  local pkgs
  read -r -a pkgs <<<"$(uniq_words "${missing_debs[@]}")"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists of a fresh machine may be empty or stale: update and
  # retry once when the first attempt fails.
  ${sudo}apt-get install -y --no-install-recommends "${pkgs[@]}" ||
    { ${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends "${pkgs[@]}"; }
}

check_all
if ((${#missing[@]})); then
  log "missing for make $target: $(printf '%s, ' "${missing[@]}" | sed 's/, $//')"
  if [[ $mode == install ]] && sudo=$(can_install); then
    log "installing: ${sudo}apt-get install -y --no-install-recommends $(uniq_words "${missing_debs[@]}")"
    apt_install "$sudo"
    check_all
    if ((${#missing[@]})); then
      log "still missing after the install: $(printf '%s, ' "${missing[@]}" | sed 's/, $//')"
      exit 1
    fi
  else
    if [[ $mode == dry-run ]] && sudo=$(can_install); then
      log "would run: $(install_command "$sudo")"
    else
      log "install them with:"
      prefix=""
      is_root || prefix="sudo "
      log "  $(install_command "$prefix")"
    fi
    exit 1
  fi
else
  log "everything make $target needs is installed"
fi

# RabbitMQ is started by the make targets themselves (scripts/rabbitmq.sh
# ensure, right after this); here it only has to be startable.
if [[ ${DTE_PREREQS_RABBITMQ:-} != skip ]] && ! rabbitmqctl -q status >/dev/null 2>&1; then
  log "RabbitMQ is installed but not running; make $target starts it (scripts/rabbitmq.sh ensure)"
fi
