#!/usr/bin/env bash
# make deploy-check (part of make test): everything about the deployment
# that can be checked without a cluster, offline.
#
#  1. kubeconform -strict on every manifest of kn/ (both variants, the
#     Secrets) and openfaas/, with the committed schemas in
#     tools/deploycheck/kubeconform (no schema is fetched);
#  2. kubeconform must refuse each deliberately broken manifest in
#     tools/deploycheck/testdata/broken/ (unknown field, wrong type, missing
#     required field, misspelt key), so a check that cannot fail is noticed;
#  3. a static (CGO off) build of each function on its own module, without
#     the workspace (GOWORK=off), as the images build it (the ELF check that
#     it is static is in step 4);
#  4. go test ./tools/deploycheck: kn/, stack.yml and openfaas/ against the
#     code (topology, queues, event types, environment, secrets, topics),
#     the operations files of deploy/observability against the metrics the
#     code exports, and each function built from the context faas-cli would assemble, with
#     its Dockerfile's commands, into a static binary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=deploy-tools.sh
source scripts/deploy-tools.sh

SCHEMAS=${KUBECONFORM_SCHEMAS:-$ROOT/tools/deploycheck/kubeconform}
[[ -d "$SCHEMAS" ]] || { echo "deploy-check: no schemas at $SCHEMAS" >&2; exit 1; }
ensure_kubeconform

kc() {
  kubeconform -strict -summary \
    -schema-location "$SCHEMAS/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" "$@"
}

echo "== kubeconform -strict: kn/"
kc kn/
echo "== kubeconform -strict: openfaas/ (connector.yaml is the connector's own configuration)"
kc -ignore-filename-pattern '(^|/)connector\.yaml$' openfaas/

echo "== kubeconform refuses broken manifests"
for f in tools/deploycheck/testdata/broken/*.yaml; do
  if out=$(kc "$f" 2>&1) || [[ $out != *"is invalid"* ]]; then
    echo "deploy-check: kubeconform did not find $f invalid, as it must:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "refused, as it must: $f"
done

echo "== static builds (CGO_ENABLED=0, each module on its own: GOWORK=off)"
mkdir -p out/deploy-check
for fn in $(function_names); do
  (cd "functions/$fn" && CGO_ENABLED=0 GOWORK=off go build -trimpath -ldflags='-s -w' -o "$ROOT/out/deploy-check/$fn" .)
  echo "built out/deploy-check/$fn ($(du -h "out/deploy-check/$fn" | cut -f1))"
done

echo "== deployment files against the code (go test ./tools/deploycheck)"
go test -count=1 ./tools/deploycheck
