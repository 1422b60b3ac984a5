// SPDX-License-Identifier: Apache-2.0
// Benchmark-only exports (bench/): floors to compare the agent's hot paths
// against, and a fast way to fill a flow map. Not used by the agent itself.
#pragma once
#include <napi.h>

namespace ebpf_agent {

void InitBench(Napi::Env env, Napi::Object exports);

}  // namespace ebpf_agent
