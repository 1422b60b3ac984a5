#!/usr/bin/env bash
# Debian's prometheus is built without kubernetes_sd_configs ("field
# kubernetes_sd_configs not found in type config.ScrapeConfig": the packagers
# drop the discoverers whose client libraries Debian does not ship). The cluster
# suite needs the Kubernetes discoverer, so it builds the same Prometheus release
# (2.42, Go module v0.42.0) from the Go module proxy, cached like Kubernetes.
# Prints the binary's path on stdout.
# Usage: build-prometheus.sh [module version]   (default v0.42.0 = Prometheus 2.42.0)
set -euo pipefail
VERSION=${1:-${PROMETHEUS_MODULE_VERSION:-v0.42.0}}
CACHE=${PROMETHEUS_CACHE:-/var/cache/kubeadapt/prometheus}/$VERSION
log() { printf '[build-prometheus] %s\n' "$*" >&2; }
if [[ -x $CACHE/bin/prometheus ]]; then echo "$CACHE/bin/prometheus"; exit 0; fi
command -v go >/dev/null || { log "go is missing (needed once to build Prometheus $VERSION)"; exit 2; }

mkdir -p "$CACHE/module" "$CACHE/bin"
cd "$CACHE/module"
if [[ ! -f go.sum ]]; then
  printf 'module kubeadapt.local/prometheus-build\n\ngo 1.19\n\nrequire github.com/prometheus/prometheus %s\n' "$VERSION" >go.mod
  # Prometheus routes client-go's klog into its own logger through these
  # replaces; a requiring module must repeat them (replaces do not carry over).
  printf 'replace k8s.io/klog => github.com/simonpasquier/klog-gokit v0.3.0\n' >>go.mod
  printf 'replace k8s.io/klog/v2 => github.com/simonpasquier/klog-gokit/v3 v3.0.0\n' >>go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus/prometheus/cmd/prometheus"\n' >tools.go
  log "resolving github.com/prometheus/prometheus $VERSION from the Go module proxy"
  GOFLAGS=-mod=mod go mod tidy
fi
started=$(date +%s)
release=2.${VERSION#v0.}
ldflags="-s -w -X github.com/prometheus/common/version.Version=$release"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$CACHE/bin/prometheus.tmp" github.com/prometheus/prometheus/cmd/prometheus
mv "$CACHE/bin/prometheus.tmp" "$CACHE/bin/prometheus"
log "built Prometheus $release in $(($(date +%s) - started)) s"
echo "$CACHE/bin/prometheus"
