// SPDX-License-Identifier: Apache-2.0
// Consuming the overflow ring buffer. The programs submit without a wake-up,
// so the agent polls it on its own timer with a non-blocking consume.
#include <bpf/libbpf.h>

#include "bpf_object.h"
#include "errors.h"
#include "flows.h"

namespace ebpf_agent {
namespace {

int Collect(void* ctx, void* data, size_t size) {
  auto* out = static_cast<std::vector<uint8_t>*>(ctx);
  if (size < sizeof(flow_record)) return 0;
  auto* p = static_cast<uint8_t*>(data);
  out->insert(out->end(), p, p + sizeof(flow_record));
  return 0;
}

}  // namespace

// consumeOverflow() -> Buffer of flow_record (64 bytes each).
Napi::Value BpfObject::ConsumeOverflow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (!overflow_) {
    overflow_ = ring_buffer__new(MapFd("overflow_events"), Collect, &overflow_batch_, nullptr);
    if (!overflow_) throw ErrnoError(env, errno, "opening ring buffer overflow_events");
  }
  overflow_batch_.clear();
  int n = ring_buffer__consume(overflow_);
  if (n < 0) throw ErrnoError(env, n, "consuming ring buffer overflow_events");
  return Napi::Buffer<uint8_t>::Copy(env, overflow_batch_.data(), overflow_batch_.size());
}

}  // namespace ebpf_agent
