#!/usr/bin/env bash
# Runs a TypeScript entry point as root on the system's tools and setup's Node 24
# (npm's PATH would put node_modules/.bin, and @vercel/nft's `nft`, first):
# `npm run bench` and `npm run fuzz` go through here. Usage: tsx.sh FILE [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/system-path.sh
run_as_root "$0" "$@"
PATH=$(system_path "$PWD")
export PATH
exec node_modules/.bin/tsx "$@"
