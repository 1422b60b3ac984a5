#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (root, Node 20, compilers) to the point where
# the agent builds and every test can run. Idempotent: each step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

DEBIAN_PACKAGES=(
  clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool pkg-config
  iproute2 nftables ethtool containernetworking-plugins iperf3
  prometheus curl libcap2-bin docker-registry
  # The real single-node cluster (tests/e2e/cluster): etcd, the container runtime,
  # image builds without Docker (buildah; debootstrap makes the local base images),
  # conntrack for kube-proxy, a static libc for the pause image.
  etcd-server containerd runc buildah podman debootstrap conntrack gcc libc6-dev openssl util-linux
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go-built tools for the chart tests; pinned so every machine renders the same.
TOOLS_BIN="$PWD/.tools/bin"
mkdir -p "$TOOLS_BIN"
go_tool() { # name module@version
  if [[ ! -x "$TOOLS_BIN/$1" ]]; then
    log "installing $2"
    GOBIN="$TOOLS_BIN" GOFLAGS=-mod=mod go install "$2"
  fi
}
go_tool helm helm.sh/helm/v3/cmd/helm@v3.19.5
go_tool helm-docs github.com/norwoodj/helm-docs/cmd/helm-docs@v1.14.2
bash cdk8s/scripts/fetch-k8s-schemas.sh

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund >/dev/null
fi

# Programs and maps are pinned here; a fresh VM may not have bpffs mounted.
if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
  log "mounting bpffs at /sys/fs/bpf"
  mount -t bpf bpf /sys/fs/bpf
fi

bash scripts/build.sh
