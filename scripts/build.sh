#!/usr/bin/env bash
# Builds the three artifacts the agent runs from: the BPF object, the native addon
# and the compiled TypeScript. The Dockerfile's build stage runs this same script.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -C bpf
# Headers of the node that runs the build (Debian's under /usr, the official
# image's under /usr/local, setup's Node 24 in .tools): node-gyp must not try to
# download them. The addon uses Node-API only, so it loads on any later Node.
nodedir=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
# --production (the image, scripts/image/build-app.sh): the agent's addon only; otherwise also
# kubeadapt_testing.node, the tests' and bench's addon (agent/native/src/testing.cc).
if [[ ${1:-} == --production ]]; then
  (cd agent/native && ../../node_modules/.bin/node-gyp configure --nodedir="$nodedir" --silent >/dev/null && make -s -C build BUILDTYPE=Release ebpf_agent >/dev/null)
else
  (cd agent/native && ../../node_modules/.bin/node-gyp rebuild --nodedir="$nodedir" --silent >/dev/null)
fi
node_modules/.bin/tsc -p tsconfig.agent.json
