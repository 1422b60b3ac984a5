#!/usr/bin/env bash
# Regenerates the chart and the plain manifests: dist/ by default, or under the
# output root given as $1 (<root>/charts/ebpf-agent, <root>/manifests), which is
# how the tests compare a fresh synthesis with the committed dist/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-dist}
export PATH="$PWD/.tools/bin:$PATH" CDK8S_CHECK_UPGRADE=false
node_modules/.bin/cdk8s synth --no-check-upgrade --output "$out/charts/ebpf-agent" >/dev/null
