// SPDX-License-Identifier: Apache-2.0
// The agent's exports, shared by both addons: ebpf_agent.node (production,
// addon.cc) and kubeadapt_testing.node (testing.cc, which adds the test- and
// bench-only entry points on top).
#pragma once
#include <napi.h>

namespace ebpf_agent {

void InitAgentExports(Napi::Env env, Napi::Object exports);

}  // namespace ebpf_agent
