# Sourced by scripts/deploy-check.sh and scripts/images.sh (not run on its
# own): the pinned deploy tools in the tools folder (scripts/toolsdir.sh,
# outside the checkout, shared by every clone), installed with `go install`
# on first use, and the list of functions.
#
# Expects ROOT (the repository root) to be set.

TOOLS_BIN=$("$ROOT/scripts/toolsdir.sh")
export PATH="$TOOLS_BIN:$PATH"
KUBECONFORM_VERSION=v0.7.0
KO_VERSION=v0.19.1

# ensure_tool NAME MODULE VERSION: install MODULE@VERSION into $TOOLS_BIN
# unless that version is there already (a stamp file records it: kubeconform
# built by `go install` prints "development" for -v).
ensure_tool() {
  local name=$1 module=$2 version=$3
  local stamp="$TOOLS_BIN/.$name.version"
  installed() { [[ -x "$TOOLS_BIN/$name" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; }
  installed && return 0
  # The tools folder is shared by every checkout: one build at a time.
  (
    flock -w 900 9 || { echo "another build of $name holds $TOOLS_BIN/.$name.lock" >&2; exit 1; }
    installed && exit 0
    echo "installing $name $version into $TOOLS_BIN (go install; a few minutes, once per machine)" >&2
    if ! GOBIN="$TOOLS_BIN" GOWORK=off go install "$module@$version"; then
      # Offline: the module cache is itself a module proxy. Its modules were
      # verified against the checksum database when they were downloaded.
      echo "retrying from the local module cache (offline)" >&2
      GOBIN="$TOOLS_BIN" GOWORK=off GOPROXY="file://$(go env GOMODCACHE)/cache/download" GOSUMDB=off \
        go install "$module@$version"
    fi
    echo "$version" >"$stamp"
  ) 9>"$TOOLS_BIN/.$name.lock"
}

ensure_kubeconform() { ensure_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"; }
ensure_ko() { ensure_tool ko github.com/google/ko "$KO_VERSION"; }

# function_names lists the functions: the folders of functions/ with a
# main package (a main.go), in order.
function_names() {
  local d
  for d in "$ROOT"/functions/*/; do
    [[ -f "$d/main.go" ]] && basename "$d"
  done
}
