#!/usr/bin/env bash
# The README's demo command: set up, build, then run the simulated node demo.
# Arguments go to the demo (e.g. --duration 30s).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "the demo attaches BPF programs and creates network namespaces: run as root" >&2
  exit 2
fi
bash scripts/setup.sh
exec node_modules/.bin/tsx scripts/demo.ts "$@"
