// SPDX-License-Identifier: Apache-2.0
// The service resolution of a ledger transaction, durable before it is
// applied. A transaction folds its connections per (src, dst, protocol); with
// resolution the dst of a translated connection is its backend, and conntrack
// may answer differently a second later (the entry expired, the agent that
// knew about a destroyed one died). So the answer goes into the pinned
// service_resolution map first (mmap: no syscall per record), and a
// transaction finished by the next agent replays it instead of asking again:
// every byte lands under the same pair in both attempts.
#include <bpf/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bpf_object.h"
#include "conntrack.h"
#include "errors.h"

namespace ebpf_agent {

namespace {

// The first `records` entries of the log (the header is entry 0), mapped.
// Mapping a BPF array maps all of its pages at once (remap_vmalloc_range): the
// whole log, sized for a full slot (3.6 MiB at 65536 flows), was RSS for the
// length of every drain, most of an idle agent's peak (bench/ footprint).
// So only the entries a transaction reads or writes are mapped.
class LogWindow {
 public:
  LogWindow(int fd, uint32_t max_entries) : fd_(fd), max_entries_(max_entries) {}
  ~LogWindow() { Unmap(); }
  LogWindow(const LogWindow&) = delete;
  LogWindow& operator=(const LogWindow&) = delete;

  // Maps entries [0, records); returns an errno or 0. Earlier pointers are invalid after it.
  int Map(uint32_t records) {
    static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    records = std::min(std::max(records, 1u), max_entries_);
    size_t bytes = (static_cast<size_t>(records) * sizeof(service_log_record) + page - 1) / page * page;
    if (bytes <= bytes_) return 0;
    Unmap();
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (mem == MAP_FAILED) return errno;
    mem_ = mem;
    bytes_ = bytes;
    return 0;
  }
  service_log_header* header() const { return static_cast<service_log_header*>(mem_); }
  service_log_record* records() const { return static_cast<service_log_record*>(mem_) + 1; }

 private:
  void Unmap() {
    if (mem_) munmap(mem_, bytes_);
    mem_ = nullptr;
    bytes_ = 0;
  }
  int fd_;
  uint32_t max_entries_;
  void* mem_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace

int ResolveWithLog(int log_fd, uint64_t epoch, Conntrack* ct, const uint8_t* base, size_t stride, uint32_t n,
                   bool may_defer, std::vector<std::pair<uint32_t, Backend>>& out, ResolveCounts& counts) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(log_fd, &info, &len)) return errno;
  if (info.value_size != sizeof(service_log_record) || info.max_entries < 1) return EINVAL;
  const uint32_t capacity = info.max_entries - 1;
  LogWindow log(log_fd, info.max_entries);
  if (int err = log.Map(1)) return err;

  if (log.header()->epoch == epoch) {
    // A dead agent's transaction: what it resolved, nothing else.
    counts.replayed = true;
    std::unordered_map<flow_key, Backend, FlowKeyHash, FlowKeyEq> logged;
    uint32_t count = std::min(log.header()->count, capacity);
    if (int err = log.Map(count + 1)) return err;
    const service_log_record* records = log.records();
    logged.reserve(count);
    for (uint32_t i = 0; i < count; i++) {
      Backend b;
      std::memcpy(b.addr, records[i].dst_addr, 16);
      logged[records[i].key] = b;
    }
    for (uint32_t i = 0; i < n && !logged.empty(); i++) {
      flow_key k;
      std::memcpy(&k, base + static_cast<size_t>(i) * stride, sizeof(k));
      k.pad = 0;
      auto it = logged.find(k);
      if (it != logged.end()) out.emplace_back(i, it->second);
    }
  } else if (ct) {
    ct->Resolve(base, stride, n, may_defer, out, counts);
    if (out.size() > capacity) out.resize(capacity);  // cannot happen: sized for a whole slot or ring
    if (int err = log.Map(static_cast<uint32_t>(out.size()) + 1)) return err;
    service_log_record* records = log.records();
    for (size_t i = 0; i < out.size(); i++) {
      std::memcpy(&records[i].key, base + static_cast<size_t>(out[i].first) * stride, sizeof(flow_key));
      records[i].key.pad = 0;
      std::memcpy(records[i].dst_addr, out[i].second.addr, 16);
    }
    log.header()->count = static_cast<uint32_t>(out.size());
    // The epoch says "complete": it must not be visible before the records.
    __atomic_store_n(&log.header()->epoch, epoch, __ATOMIC_RELEASE);
  }
  return 0;
}

namespace {

class ResolveRecordsWorker : public Napi::AsyncWorker {
 public:
  ResolveRecordsWorker(Napi::Env env, int log_fd, uint64_t epoch, std::shared_ptr<Conntrack> ct, const uint8_t* data,
                       size_t size, uint32_t stride)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), log_fd_(log_fd), epoch_(epoch),
        ct_(std::move(ct)), records_(data, data + size), stride_(stride) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    std::vector<std::pair<uint32_t, Backend>> out;
    uint32_t n = static_cast<uint32_t>(records_.size() / stride_);
    err_ = ResolveWithLog(log_fd_, epoch_, ct_.get(), records_.data(), stride_, n, false, out, counts_);
    if (err_) return SetError("resolving services of overflow records");
    for (const auto& [i, b] : out)
      std::memcpy(records_.data() + static_cast<size_t>(i) * stride_ + offsetof(flow_key, dst_addr), b.addr, 16);
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("records", Napi::Buffer<uint8_t>::Copy(env, records_.data(), records_.size()));
    o.Set("service", ResolveCountsToJs(env, counts_));
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error&) override {
    deferred_.Reject(ErrnoError(Env(), err_, "resolving services of overflow records").Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  int log_fd_;
  uint64_t epoch_;
  std::shared_ptr<Conntrack> ct_;
  std::vector<uint8_t> records_;
  uint32_t stride_;
  ResolveCounts counts_;
  int err_ = 0;
};

}  // namespace

// Parses readPairs' / resolveRecords' options: {epoch: bigint, resolver?}.
bool ServiceOptions(const Napi::CallbackInfo& info, size_t at, uint64_t& epoch, std::shared_ptr<Conntrack>& ct) {
  if (info.Length() <= at || !info[at].IsObject()) return false;
  Napi::Object o = info[at].As<Napi::Object>();
  if (!o.Has("epoch") || !o.Get("epoch").IsBigInt()) return false;
  bool lossless = false;
  epoch = o.Get("epoch").As<Napi::BigInt>().Uint64Value(&lossless);
  if (o.Has("resolver") && ConntrackResolver::IsResolver(info.Env(), o.Get("resolver")))
    ct = Napi::ObjectWrap<ConntrackResolver>::Unwrap(o.Get("resolver").As<Napi::Object>())->conntrack();
  return true;
}

// resolveRecords(records: Buffer of flow_record, {epoch, resolver?}) ->
// Promise<{records: Buffer (a copy, dst rewritten), service}>
Napi::Value BpfObject::ResolveRecords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  uint64_t epoch = 0;
  std::shared_ptr<Conntrack> ct;
  if (!ServiceOptions(info, 1, epoch, ct)) throw ErrnoError(env, EINVAL, "resolveRecords: options need an epoch");
  size_t size = buf.Length() / sizeof(flow_record) * sizeof(flow_record);
  auto* w = new ResolveRecordsWorker(env, MapFd("service_resolution"), epoch, std::move(ct), buf.Data(), size,
                                     sizeof(flow_record));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace ebpf_agent
