// SPDX-License-Identifier: Apache-2.0
#include "memory.h"

#include <malloc.h>

namespace ebpf_agent {

namespace {
// glibc's own starting threshold; fixing it is what stops it from growing.
constexpr int kMmapThreshold = 128 * 1024;
}  // namespace

void ConfigureMalloc() {
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  // The dynamic threshold may have raised the trim threshold (to twice
  // itself) before the addon loaded; the heap's free top is returned again
  // from glibc's default on.
  mallopt(M_TRIM_THRESHOLD, kMmapThreshold);
}

void ReleaseFreedMemory() { malloc_trim(0); }

}  // namespace ebpf_agent
