#!/usr/bin/env bash
# Builds the three artifacts the agent runs from: the BPF object, the native addon
# and the compiled TypeScript. The Dockerfile's build stage runs this same script.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -C bpf
(cd agent/native && ../../node_modules/.bin/node-gyp rebuild --nodedir=/usr --silent >/dev/null)
node_modules/.bin/tsc -p tsconfig.agent.json
