#!/usr/bin/env bash
# Caches the Kubernetes OpenAPI (swagger 2.0) specs the chart tests validate
# rendered objects against, so the tests never touch the network. The specs come
# from the k8s.io/kubernetes module zip (api/openapi-spec/swagger.json), fetched
# through the Go module proxy like any other Go dependency.
# Output: .tools/k8s-schemas/<version>/swagger.json
set -euo pipefail
cd "$(dirname "$0")/../.."
# The oldest release the chart supports (Chart.yaml kubeVersion) and a current one.
VERSIONS=(v1.24.17 v1.34.4)
dest=.tools/k8s-schemas
mkdir -p "$dest"
for v in "${VERSIONS[@]}"; do
  [[ -s "$dest/$v/swagger.json" ]] && continue
  echo "[setup] caching the Kubernetes $v API schema" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && go mod init schemas >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$v" >mod.json)
  dir=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).Dir)' "$work/mod.json")
  mkdir -p "$dest/$v"
  cp "$dir/api/openapi-spec/swagger.json" "$dest/$v/swagger.json.tmp"
  mv "$dest/$v/swagger.json.tmp" "$dest/$v/swagger.json"
  rm -rf "$work"
  trap - EXIT
done
