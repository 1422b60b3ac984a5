#!/usr/bin/env bash
# Builds the Kubernetes binaries the cluster suite runs from the Go module proxy
# (no release tarball or registry is reachable here) and caches them outside the
# clone, keyed by version, so only the first run on a machine pays (~10 min cold
# on 2 busy cores). Prints the bin folder on stdout.
# Usage: build-kubernetes.sh [version]   (default v1.34.4; KUBE_CACHE overrides the cache root)
set -euo pipefail

VERSION=${1:-${KUBE_VERSION:-v1.34.4}}
CACHE=${KUBE_CACHE:-/var/cache/kubeadapt/kubernetes}/$VERSION
BIN=$CACHE/bin
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
log() { printf '[build-kubernetes] %s\n' "$*" >&2; }

missing=()
for c in "${COMPONENTS[@]}"; do [[ -x $BIN/$c ]] || missing+=("$c"); done
if ((${#missing[@]} == 0)); then echo "$BIN"; exit 0; fi

command -v go >/dev/null || { log "go is missing (needed once to build Kubernetes $VERSION)"; exit 2; }
# Staging modules are published as v0.<minor>.<patch> next to k8s.io/kubernetes v1.<minor>.<patch>.
STAGING_VERSION=v0.${VERSION#v1.}
STAGING=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
  kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller)

MOD=$CACHE/module
mkdir -p "$MOD" "$BIN"
if [[ ! -f $MOD/go.sum ]]; then
  # k8s.io/kubernetes' go.mod points every staging module at ./staging with a
  # v0.0.0 placeholder; a module requiring it must replace them with real versions.
  {
    echo "module kubeadapt.local/kubernetes-build"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $VERSION"
    echo
    for s in "${STAGING[@]}"; do echo "replace k8s.io/$s => k8s.io/$s $STAGING_VERSION"; done
  } >"$MOD/go.mod"
  cat >"$MOD/tools.go" <<'GO'
//go:build tools

// Imports keep the commands' packages in the module graph for `go mod tidy`.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "resolving k8s.io/kubernetes $VERSION from the Go module proxy"
  (cd "$MOD" && GOFLAGS=-mod=mod go mod tidy)
fi

minor=${VERSION#v1.}; minor=${minor%%.*}
# Unset, /version says v0.0.0-master and helm's kubeVersion check refuses the chart.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
started=$(date +%s)
for c in "${missing[@]}"; do
  log "building $c $VERSION"
  t=$(date +%s)
  (cd "$MOD" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c")
  mv "$BIN/$c.tmp" "$BIN/$c"
  log "built $c in $(($(date +%s) - t)) s"
done
log "Kubernetes $VERSION built in $(($(date +%s) - started)) s: $BIN"
echo "$BIN"
