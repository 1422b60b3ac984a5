#!/usr/bin/env bash
# Builds the agent and assembles the tree the container image runs from:
#   <outdir>/agent/dist/**.js                          compiled daemon
#   <outdir>/agent/native/build/Release/ebpf_agent.node native addon (production target only:
#                                                       kubeadapt_testing.node stays behind)
#   <outdir>/bpf/build/*.o                              BPF objects
#   <outdir>/package.json, <outdir>/node_modules         production dependencies only
# The relative layout is the repository's, so the loader finds the addon and the
# objects the same way in a checkout and in the image. The Dockerfile's build stage
# and tests/image run this one script, so the image recipe is exercised without Docker.
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
  echo "usage: $0 <outdir>  (outdir: an empty or missing folder that receives the runtime tree)" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
if [[ -n $(ls -A "$out") ]]; then
  # A stale tree would ship files this build did not produce.
  echo "build-app: outdir $out is not empty; give an empty or missing folder" >&2
  exit 2
fi

bash "$root/scripts/build.sh" --production

addon="$root/agent/native/build/Release/ebpf_agent.node"
shopt -s nullglob
objects=("$root"/bpf/build/*.o)
shopt -u nullglob
[[ -f $root/agent/dist/main.js ]] || { echo "build-app: $root/agent/dist/main.js missing after the build" >&2; exit 1; }
[[ -f $addon ]] || { echo "build-app: $addon missing after the build" >&2; exit 1; }
((${#objects[@]})) || { echo "build-app: no $root/bpf/build/*.o after the build" >&2; exit 1; }

mkdir -p "$out/agent/native/build/Release" "$out/bpf/build"
# Source maps point at agent/src, which the image does not carry.
cp -R "$root/agent/dist" "$out/agent/dist"
find "$out/agent/dist" \( -name '*.map' -o -name '*.d.ts' \) -delete
cp "$addon" "$out/agent/native/build/Release/"
cp "${objects[@]}" "$out/bpf/build/"
cp "$root/package.json" "$root/package-lock.json" "$out/"

# Production dependencies from the lockfile, nothing the build needed. No install
# scripts: the only native code is the addon built above.
(cd "$out" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
rm "$out/package-lock.json"
