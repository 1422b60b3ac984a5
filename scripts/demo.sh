#!/usr/bin/env bash
# The README's demo command (`npm run demo`): set up, build, then run the
# simulated node demo. Arguments go to the demo (e.g. --duration 30s).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/system-path.sh
run_as_root "$0" "$@"
bash scripts/setup.sh
PATH=$(system_path "$PWD")
export PATH
exec node_modules/.bin/tsx scripts/demo.ts "$@"
