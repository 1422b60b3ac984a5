// SPDX-License-Identifier: Apache-2.0
// How the agent's process hands freed memory back to the kernel.
#pragma once

namespace ebpf_agent {

// Large blocks (a drain's key and value arrays, the Buffers JS gets them in)
// come from mmap and go back at free, at any load. glibc otherwise raises its
// mmap threshold to the largest block freed, so later large blocks came from
// the heap and stayed there: RSS at 100k pairs swung 105-132 MiB (peak 140)
// with the default, 96-105 (peak 112) with a fixed threshold, same run.
void ConfigureMalloc();

// Returns the free pages of every malloc arena (malloc_trim). Milliseconds on
// a large heap: called after work that freed much, not on a timer.
void ReleaseFreedMemory();

}  // namespace ebpf_agent
