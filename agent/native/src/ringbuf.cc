// SPDX-License-Identifier: Apache-2.0
// The overflow ring buffer, read by hand (as libbpf's ringbuf.c does) so the
// consumer position moves only when the caller says: records are peeked, put
// into the ledger, and only then released. The programs submit without a
// wake-up, so nothing here blocks or polls.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "bpf_object.h"
#include "errors.h"
#include "flows.h"

namespace ebpf_agent {
namespace {

constexpr uint32_t kBusy = 1u << 31;     // BPF_RINGBUF_BUSY_BIT
constexpr uint32_t kDiscard = 1u << 30;  // BPF_RINGBUF_DISCARD_BIT
constexpr uint32_t kHeader = 8;          // BPF_RINGBUF_HDR_SZ

uint64_t LoadAcquire(const void* p) { return __atomic_load_n(static_cast<const uint64_t*>(p), __ATOMIC_ACQUIRE); }

uint64_t ToU64(const Napi::Value& v) {
  bool lossless = false;
  return v.As<Napi::BigInt>().Uint64Value(&lossless);
}

}  // namespace

void BpfObject::MapRing(Napi::Env env) {
  if (ring_consumer_) return;
  bpf_map* m = NamedMap(env, "overflow_events");
  int fd = bpf_map__fd(m);
  size_t page = sysconf(_SC_PAGESIZE);
  ring_size_ = bpf_map__max_entries(m);
  void* cons = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (cons == MAP_FAILED) throw ErrnoError(env, errno, "mapping the overflow ring buffer's consumer page");
  // Data pages are mapped twice by the kernel so a record never wraps.
  void* prod = mmap(nullptr, page + 2 * ring_size_, PROT_READ, MAP_SHARED, fd, page);
  if (prod == MAP_FAILED) {
    int e = errno;
    munmap(cons, page);
    throw ErrnoError(env, e, "mapping the overflow ring buffer's data pages");
  }
  ring_consumer_ = cons;
  ring_producer_ = prod;
}

void BpfObject::UnmapRing() {
  size_t page = sysconf(_SC_PAGESIZE);
  if (ring_consumer_) munmap(ring_consumer_, page);
  if (ring_producer_) munmap(ring_producer_, page + 2 * ring_size_);
  ring_consumer_ = ring_producer_ = nullptr;
}

// ringPeek(limit?: bigint) -> {records: Buffer (flow_record, 64 B each), start, end: bigint}
// Reads committed records from the consumer position up to the producer (or
// `limit`), stopping at the first one still being written. Moves nothing.
Napi::Value BpfObject::RingPeek(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MapRing(env);
  uint64_t limit = info.Length() > 0 && info[0].IsBigInt() ? ToU64(info[0]) : UINT64_MAX;
  size_t page = sysconf(_SC_PAGESIZE);
  const auto* data = static_cast<const uint8_t*>(ring_producer_) + page;
  uint64_t start = LoadAcquire(ring_consumer_);
  uint64_t prod = LoadAcquire(ring_producer_);
  if (prod > limit) prod = limit;
  uint64_t pos = start;
  std::vector<uint8_t> out;
  while (pos < prod) {
    const auto* hdr = data + (pos & (ring_size_ - 1));
    uint32_t len = __atomic_load_n(reinterpret_cast<const uint32_t*>(hdr), __ATOMIC_ACQUIRE);
    if (len & kBusy) break;
    uint32_t size = ((len & ~(kBusy | kDiscard)) + kHeader + 7) & ~7u;
    if (!(len & kDiscard) && (len & ~(kBusy | kDiscard)) >= sizeof(flow_record))
      out.insert(out.end(), hdr + kHeader, hdr + kHeader + sizeof(flow_record));
    pos += size;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("records", Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size()));
  o.Set("start", Napi::BigInt::New(env, start));
  o.Set("end", Napi::BigInt::New(env, pos));
  return o;
}

// ringAdvance(position: bigint): releases every record before it.
Napi::Value BpfObject::RingAdvance(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MapRing(env);
  uint64_t pos = ToU64(info[0]);
  uint64_t cur = LoadAcquire(ring_consumer_);
  if (pos > cur) __atomic_store_n(static_cast<uint64_t*>(ring_consumer_), pos, __ATOMIC_RELEASE);
  return env.Undefined();
}

#ifdef KUBEADAPT_TESTING
// consumeOverflow() -> Buffer of flow_record: peek everything and release it
// (tests and benchmarks; the agent uses ringPeek/ringAdvance through the ledger).
Napi::Value BpfObject::ConsumeOverflow(const Napi::CallbackInfo& info) {
  Napi::Object peek = RingPeek(info).As<Napi::Object>();
  uint64_t end = ToU64(peek.Get("end"));
  __atomic_store_n(static_cast<uint64_t*>(ring_consumer_), end, __ATOMIC_RELEASE);
  return peek.Get("records");
}

#endif

}  // namespace ebpf_agent
