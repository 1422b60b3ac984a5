#!/usr/bin/env bash
# `npm run bench`: the benchmarks on the system's tools and setup's Node 24
# (npm's PATH would put node_modules/.bin, and its `nft`, first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/system-path.sh
run_as_root "$0" "$@"
PATH=$(system_path "$PWD")
export PATH
exec node_modules/.bin/tsx bench/run.ts "$@"
