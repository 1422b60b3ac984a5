#!/usr/bin/env bash
# Makes the Dockerfile's two base images locally, for machines that cannot pull
# them: a Debian bookworm rootfs from debootstrap (from the mirror apt already
# uses) plus the Node on PATH (the README's commands put Node 24 there) laid out as the official Node images do
# (/usr/local/bin/node, /usr/local/include/node, npm under /usr/local/lib).
# Tagged node:<major>-bookworm and node:<major>-bookworm-slim in local storage,
# so `buildah bud --pull=never` resolves the Dockerfile's FROM lines to them.
# They are stand-ins: same Debian release and Node major, not the same bytes.
set -euo pipefail

major=$(node -p 'process.versions.node.split(".")[0]')
full="node:${major}-bookworm"
slim="node:${major}-bookworm-slim"
if buildah inspect --type image "$full" >/dev/null 2>&1 && buildah inspect --type image "$slim" >/dev/null 2>&1; then
  echo "[base] $full and $slim already in local storage" >&2
  exit 0
fi

for tool in debootstrap buildah; do
  command -v "$tool" >/dev/null || { echo "[base] $tool is missing (apt-get install $tool)" >&2; exit 2; }
done
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -n $mirror ]] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
[[ -n $mirror ]] || { echo "[base] no Debian mirror found in the apt sources" >&2; exit 2; }
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")

work=$(mktemp -d)
ctr=""
cleanup() {
  if [[ -n $ctr ]]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "[base] debootstrap bookworm (minbase + ca-certificates) from $mirror" >&2
debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*

ctr=$(buildah from scratch)
mnt=$(buildah mount "$ctr")
cp -a "$work/rootfs/." "$mnt/"
install -D -m 0755 "$(readlink -f "$(command -v node)")" "$mnt/usr/local/bin/node"
mkdir -p "$mnt/usr/local/include" "$mnt/usr/local/lib/node_modules"
cp -a "$node_prefix/include/node" "$mnt/usr/local/include/node"
cp -a "$npm_dir" "$mnt/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
# Node (and so npm) reads its CAs from its own bundle; a build host behind a
# TLS-inspecting proxy needs its trust store in the stand-in too. Kept apart from
# /etc/ssl/certs so an apt trigger in the build stage cannot regenerate it away.
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$mnt/usr/local/share/build-host-ca.pem"
buildah umount "$ctr" >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_EXTRA_CA_CERTS=/usr/local/share/build-host-ca.pem \
  --env NODE_VERSION="$(node -p process.versions.node)" --cmd node "$ctr"
buildah commit --quiet "$ctr" "$full" >/dev/null
buildah tag "$full" "$slim"
echo "[base] committed $full and $slim" >&2
