#!/usr/bin/env bash
# Builds the three images the cluster suite runs, without a registry: the agent
# from the real Dockerfile (as `npm run image:local` does), a pause image for the
# pod sandboxes and the traffic image. Writes each as a docker-archive into
# OUT_DIR for `ctr -n k8s.io images import` (up.sh). buildah's layer cache keeps
# a warm rebuild to seconds.
# Usage: images.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: images.sh OUT_DIR}
mkdir -p "$OUT"
log() { printf '[cluster-images] %s\n' "$*" >&2; }
for tool in buildah debootstrap gcc; do
  command -v "$tool" >/dev/null || { log "$tool is missing (scripts/setup.sh installs it)"; exit 2; }
done

AGENT=localhost/kubeadapt/ebpf-agent:cluster
PAUSE=localhost/kubeadapt/pause:cluster
TRAFFIC=localhost/kubeadapt/traffic:cluster
major=$(node -p 'process.versions.node.split(".")[0]')

started=$(date +%s)
bash scripts/image/local-base-images.sh
# chroot isolation: RUN steps need no OCI runtime or cgroup set-up (hybrid cgroups here).
buildah bud --pull=never --layers --isolation=chroot --quiet -t "$AGENT" -f Dockerfile . >/dev/null
log "agent image $AGENT built"

work=$(mktemp -d)
ctr=""
cleanup() { [[ -n $ctr ]] && buildah rm "$ctr" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
gcc -static -Os -o "$work/pause" scripts/cluster/pause.c
ctr=$(buildah from scratch)
buildah copy --quiet "$ctr" "$work/pause" /pause >/dev/null
buildah config --entrypoint '["/pause"]' "$ctr"
buildah commit --quiet "$ctr" "$PAUSE" >/dev/null
buildah rm "$ctr" >/dev/null; ctr=""

buildah bud --pull=never --layers --isolation=chroot --quiet --build-arg "NODE_MAJOR=$major" \
  -t "$TRAFFIC" -f scripts/cluster/traffic/Containerfile scripts/cluster/traffic >/dev/null

for pair in "agent:$AGENT" "pause:$PAUSE" "traffic:$TRAFFIC"; do
  name=${pair%%:*} image=${pair#*:}
  rm -f "$OUT/$name.tar"
  buildah push --quiet "$image" "docker-archive:$OUT/$name.tar:$image" >/dev/null
done
log "images built and archived in $OUT in $(($(date +%s) - started)) s"
