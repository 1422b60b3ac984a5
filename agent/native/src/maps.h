// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace ebpf_agent {

// Blocks until every BPF program that started before the call has returned.
void WaitForPrograms();

}  // namespace ebpf_agent
