#!/usr/bin/env bash
# The README's test command (`npm test`): set up, build, then run every ava
# suite and print one summary line. Extra arguments go to ava (e.g. a file glob).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/system-path.sh
run_as_root "$0" "$@"
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
PATH=$(system_path "$PWD")
export PATH
echo "[test] node $(node --version) ($(command -v node)); nft is $(command -v nft)" >&2
node_modules/.bin/tsc -p tsconfig.json || { echo "type check failed"; echo "0 passed, 1 failed"; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
node_modules/.bin/ava --tap "$@" | tee "$out"
status=${PIPESTATUS[0]}
bash scripts/sweep-test-namespaces.sh
pass=$(awk '/^# pass /{print $3}' "$out"); fail=$(awk '/^# fail /{print $3}' "$out")
skip=$(awk '/^# skip /{print $3}' "$out"); todo=$(awk '/^# todo /{print $3}' "$out")
pass=${pass:-0}; fail=${fail:-0}
# ava's TAP counts a crashed file or a timeout as a non-zero exit without a
# failing assertion line; never let that read as green.
if [[ $status -ne 0 && $fail -eq 0 ]]; then fail=1; fi
echo "${skip:-0} skipped (not counted as passed), ${todo:-0} todo"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
