// SPDX-License-Identifier: Apache-2.0
// Generic map access for the ledger transaction (agent/src/collector/ledger.ts):
// read a whole map, write and delete keys in batches, and the flow_control
// record that says which slot is live and which transaction is in flight.
#include <bpf/bpf.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "bpf_object.h"
#include "conntrack.h"
#include "errors.h"
#include "flows.h"
#include "maps.h"
#include "memory.h"
#include "object_worker.h"
#include "pair_fold.h"

namespace ebpf_agent {

// TC programs run inside RCU read-side sections; MEMBARRIER_CMD_GLOBAL returns
// only after synchronize_rcu(), i.e. after every program that could still see
// the old slot has returned.
void WaitForPrograms() {
  if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) {
    // nohz_full kernels refuse it; programs finish in microseconds.
    usleep(20000);
  }
}

namespace {

// Reads every entry with batch lookups (5.6+), or get_next_key where the
// kernel lacks them. Callers read maps no program writes at the time.
int ReadAll(int fd, uint32_t key_size, uint32_t value_size, std::vector<uint8_t>& keys, std::vector<uint8_t>& values,
            uint32_t& total) {
  total = 0;
  uint32_t chunk = 4096;
  // Room for a full map up front: growing by doubling copied and left twice
  // the memory behind; pages reserved but never written cost no RSS.
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
    try {
      keys.reserve(static_cast<size_t>(info.max_entries + chunk) * key_size);
      values.reserve(static_cast<size_t>(info.max_entries + chunk) * value_size);
    } catch (const std::bad_alloc&) {
      // Only an optimisation (strict overcommit can refuse the address space): grow as read.
    }
  }
  std::vector<uint8_t> in_batch(key_size), out_batch(key_size);
  bool first = true;
  for (;;) {
    keys.resize(static_cast<size_t>(total + chunk) * key_size);
    values.resize(static_cast<size_t>(total + chunk) * value_size);
    uint32_t count = chunk;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(fd, first ? nullptr : in_batch.data(), out_batch.data(),
                                   keys.data() + static_cast<size_t>(total) * key_size,
                                   values.data() + static_cast<size_t>(total) * value_size, &count, &opts);
    int e = err ? errno : 0;
    total += count;
    if (!err || (e == ENOENT)) {
      if (e == ENOENT) break;
      in_batch = out_batch;
      first = false;
      continue;
    }
    if (e == ENOSPC && count == 0) {
      chunk *= 2;
      continue;
    }
    if (first && count == 0 && (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP)) {
      total = 0;
      std::vector<uint8_t> key(key_size), next(key_size);
      const void* prev = nullptr;
      keys.clear();
      values.clear();
      std::vector<uint8_t> value(value_size);
      while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
        if (bpf_map_lookup_elem(fd, next.data(), value.data()) == 0) {
          keys.insert(keys.end(), next.begin(), next.end());
          values.insert(values.end(), value.begin(), value.end());
          total++;
        }
        key = next;
        prev = key.data();
      }
      return 0;
    }
    return e;
  }
  keys.resize(static_cast<size_t>(total) * key_size);
  values.resize(static_cast<size_t>(total) * value_size);
  return 0;
}

// A vector handed to JavaScript as a Buffer without a copy: the Buffer owns
// it. V8 is told its size, or it would not count towards the next GC and a
// drain's buffers (~10 MiB at 100k pairs) would pile up between GCs.
template <typename T>
Napi::Buffer<uint8_t> MoveToBuffer(Napi::Env env, std::vector<T>&& v) {
  if (v.empty()) return Napi::Buffer<uint8_t>::New(env, 0);
  auto* owned = new std::vector<T>(std::move(v));
  const int64_t bytes = static_cast<int64_t>(owned->capacity() * sizeof(T));
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  return Napi::Buffer<uint8_t>::New(env, reinterpret_cast<uint8_t*>(owned->data()), owned->size() * sizeof(T),
                                    [bytes](Napi::Env e, uint8_t*, std::vector<T>* o) {
                                      delete o;
                                      Napi::MemoryManagement::AdjustExternalMemory(e, -bytes);
                                    },
                                    owned);
}

class ReadMapWorker : public ObjectWorker {
 public:
  ReadMapWorker(Napi::Env env, BpfObject* obj, int fd, uint32_t ks, uint32_t vs, std::string name, bool interleave)
      : ObjectWorker(env, obj), fd_(fd), ks_(ks), vs_(vs), name_(std::move(name)), interleave_(interleave) {}
  void Execute() override {
    int err = ReadAll(fd_, ks_, vs_, keys_, values_, count_);
    if (err) return Fail(err, "reading map " + name_);
    if (interleave_) {
      // key, value, key, value...: the layout drain() returns, which the
      // TypeScript decoders read.
      records_.resize(static_cast<size_t>(count_) * (ks_ + vs_));
      for (uint32_t i = 0; i < count_; i++) {
        uint8_t* r = records_.data() + static_cast<size_t>(i) * (ks_ + vs_);
        std::memcpy(r, keys_.data() + static_cast<size_t>(i) * ks_, ks_);
        std::memcpy(r + ks_, values_.data() + static_cast<size_t>(i) * vs_, vs_);
      }
    }
    ReleaseFreedMemory();
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("count", count_);
    out.Set("keys", MoveToBuffer(env, std::move(keys_)));
    out.Set("values", MoveToBuffer(env, std::move(values_)));
    if (interleave_) out.Set("records", MoveToBuffer(env, std::move(records_)));
    deferred_.Resolve(out);
  }

 private:
  int fd_;
  uint32_t ks_, vs_;
  std::string name_;
  bool interleave_;
  std::vector<uint8_t> keys_, values_, records_;
  uint32_t count_ = 0;
};

// Reads a flow map and folds its connections per pair (family, protocol,
// addresses) off the JS thread: JavaScript then sees one record per pair, not
// per connection (bench/drain.ts). The fold's entries are the records:
// pair_key (36 B), bytes, packets (u64), connections (u32): 56 B.
static_assert(sizeof(PairFolder::Entry) == sizeof(pair_key) + 20, "pair record layout");

class ReadPairsWorker : public ObjectWorker {
 public:
  ReadPairsWorker(Napi::Env env, BpfObject* obj, int fd, std::string name)
      : ObjectWorker(env, obj), fd_(fd), name_(std::move(name)) {}
  // Folds translated connections under their backend (service.cc).
  void ResolveServices(int log_fd, uint64_t epoch, std::shared_ptr<Conntrack> ct) {
    resolve_ = true;
    log_fd_ = log_fd;
    epoch_ = epoch;
    ct_ = std::move(ct);
  }
  void Execute() override {
    {
      std::vector<uint8_t> values;
      int err = ReadAll(fd_, sizeof(flow_key), sizeof(flow_stats), keys_, values, count_);
      if (err) return Fail(err, "reading map " + name_);
      std::vector<std::pair<uint32_t, Backend>> backends;
      if (resolve_) {
        err = ResolveWithLog(log_fd_, epoch_, ct_.get(), keys_.data(), sizeof(flow_key), count_, true, backends, service_);
        if (err) return Fail(err, "resolving services of map " + name_);
      }
      PairFolder pairs(count_ / 4);
      size_t next = 0;  // backends are in key order
      // Deferred connections stay in the slot: neither folded nor deleted.
      size_t kept = 0;
      for (uint32_t i = 0; i < count_; i++) {
        const auto* k = reinterpret_cast<const flow_key*>(keys_.data() + static_cast<size_t>(i) * sizeof(flow_key));
        const auto* v = reinterpret_cast<const flow_stats*>(values.data() + static_cast<size_t>(i) * sizeof(flow_stats));
        if (next < backends.size() && backends[next].first == i) {
          const Backend& b = backends[next++].second;
          if (IsDeferred(b)) {
            deferred_keys_.insert(deferred_keys_.end(), reinterpret_cast<const uint8_t*>(k),
                                  reinterpret_cast<const uint8_t*>(k) + sizeof(flow_key));
            continue;
          }
          flow_key to = *k;
          std::memcpy(to.dst_addr, b.addr, 16);
          pairs.Add(to, v->bytes, v->packets);
        } else {
          pairs.Add(*k, v->bytes, v->packets);
        }
        if (kept != i) std::memcpy(keys_.data() + kept * sizeof(flow_key), k, sizeof(flow_key));
        kept++;
      }
      keys_.resize(kept * sizeof(flow_key));
      records_ = pairs.TakeEntries();
    }  // the values and the fold's index are freed here, on this thread
    ReleaseFreedMemory();
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("count", count_);
    out.Set("keys", MoveToBuffer(env, std::move(keys_)));
    out.Set("deferredKeys", MoveToBuffer(env, std::move(deferred_keys_)));
    out.Set("pairs", MoveToBuffer(env, std::move(records_)));
    if (resolve_) out.Set("service", ResolveCountsToJs(env, service_));
    deferred_.Resolve(out);
  }

 private:
  int fd_;
  std::string name_;
  std::vector<uint8_t> keys_, deferred_keys_;
  std::vector<PairFolder::Entry> records_;
  uint32_t count_ = 0;
  bool resolve_ = false;
  int log_fd_ = -1;
  uint64_t epoch_ = 0;
  std::shared_ptr<Conntrack> ct_;
  ResolveCounts service_;
};

// Batch update (5.6+), element by element where the kernel lacks it.
int UpdateAll(int fd, const uint8_t* keys, const uint8_t* values, uint32_t ks, uint32_t vs, uint32_t count) {
  for (uint32_t done = 0; done < count;) {
    uint32_t n = count - done;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_update_batch(fd, keys + static_cast<size_t>(done) * ks, values + static_cast<size_t>(done) * vs, &n,
                                   &opts);
    if (err && (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP) && n == 0) {
      for (; done < count; done++) {
        if (bpf_map_update_elem(fd, keys + static_cast<size_t>(done) * ks, values + static_cast<size_t>(done) * vs,
                                BPF_ANY))
          return errno;
      }
      return 0;
    }
    if (err) return errno;
    done += n;
  }
  return 0;
}

class UpdateMapWorker : public ObjectWorker {
 public:
  UpdateMapWorker(Napi::Env env, BpfObject* obj, int fd, std::string name, const Napi::Buffer<uint8_t>& keys,
                  const Napi::Buffer<uint8_t>& values, uint32_t ks, uint32_t vs)
      : ObjectWorker(env, obj), fd_(fd), name_(std::move(name)), keys_(keys), values_(values), ks_(ks), vs_(vs) {}
  void Execute() override {
    int err = UpdateAll(fd_, keys_.data(), values_.data(), ks_, vs_, keys_.size() / ks_);
    if (err) Fail(err, "updating map " + name_);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  int fd_;
  std::string name_;
  HeldBytes keys_, values_;
  uint32_t ks_, vs_;
};

class DeleteKeysWorker : public ObjectWorker {
 public:
  DeleteKeysWorker(Napi::Env env, BpfObject* obj, int fd, std::string name, const Napi::Buffer<uint8_t>& keys,
                   uint32_t ks)
      : ObjectWorker(env, obj), fd_(fd), name_(std::move(name)), keys_(keys), ks_(ks) {}
  void Execute() override {
    int err = DeleteAll(fd_, keys_.data(), ks_, keys_.size());
    if (err) Fail(err, "deleting from map " + name_);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  int fd_;
  std::string name_;
  HeldBytes keys_;
  uint32_t ks_;
};

// No fds: the grace period is global.
class WaitWorker : public Napi::AsyncWorker {
 public:
  explicit WaitWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { WaitForPrograms(); }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  Napi::Promise::Deferred deferred_;
};

}  // namespace

// One syscall for the whole batch where the kernel has it (5.6+); a key that
// is already gone makes it stop early, and the loop finishes key by key.
// Missing keys are not an error.
int DeleteAll(int fd, const uint8_t* keys, uint32_t ks, size_t len) {
  uint32_t count = len / ks;
  if (!count) return 0;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  uint32_t n = count;
  if (bpf_map_delete_batch(fd, keys, &n, &opts) == 0) return 0;
  size_t start = n <= count ? static_cast<size_t>(n) * ks : 0;
  for (size_t off = start; off + ks <= len; off += ks) {
    if (bpf_map_delete_elem(fd, keys + off) && errno != ENOENT) return errno;
  }
  return 0;
}


bpf_map* BpfObject::NamedMap(Napi::Env env, const std::string& name) const {
  CheckOpen(env);
  bpf_map* m = bpf_object__find_map_by_name(obj_, name.c_str());
  if (!m) throw ErrnoError(env, ENOENT, "finding map " + name);
  return m;
}

// readMap(name, {interleave}) -> Promise<{count, keys, values, records?: Buffer}>
Napi::Value BpfObject::ReadMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  bool interleave = info.Length() > 1 && info[1].IsObject() && info[1].As<Napi::Object>().Get("interleave").ToBoolean();
  bpf_map* m = NamedMap(env, name);
  return (new ReadMapWorker(env, this, FdOf(m), bpf_map__key_size(m), bpf_map__value_size(m), name, interleave))
      ->Start();
}

bool ServiceOptions(const Napi::CallbackInfo& info, size_t at, uint64_t& epoch, std::shared_ptr<Conntrack>& ct);  // service.cc

// readPairs(flowMapName, {epoch, resolver?}?) -> Promise<{count, keys: Buffer
// (flow_key each), pairs: Buffer (56 B each), service?}>; with an epoch the
// translated connections are folded under their backends (service.cc).
Napi::Value BpfObject::ReadPairs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  bpf_map* m = NamedMap(env, name);
  if (bpf_map__key_size(m) != sizeof(flow_key) || bpf_map__value_size(m) != sizeof(flow_stats))
    throw ErrnoError(env, EINVAL, "readPairs: " + name + " is not a flow map");
  auto* w = new ReadPairsWorker(env, this, FdOf(m), name);
  uint64_t epoch = 0;
  std::shared_ptr<Conntrack> ct;
  if (ServiceOptions(info, 1, epoch, ct)) w->ResolveServices(MapFd("service_resolution"), epoch, std::move(ct));
  return w->Start();
}

// updateMap(name, keys, values) -> Promise<void>: same count of fixed-size keys and values.
Napi::Value BpfObject::UpdateMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  bpf_map* m = NamedMap(env, name);
  auto keys = info[1].As<Napi::Buffer<uint8_t>>();
  auto values = info[2].As<Napi::Buffer<uint8_t>>();
  uint32_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m);
  uint32_t count = keys.Length() / ks;
  if (keys.Length() != count * ks || values.Length() != static_cast<size_t>(count) * vs)
    throw ErrnoError(env, EINVAL, "updating map " + name + ": keys and values do not match the map's sizes");
  return (new UpdateMapWorker(env, this, FdOf(m), name, keys, values, ks, vs))->Start();
}

// deleteKeys(name, keys) -> Promise<void>: missing keys are not an error.
Napi::Value BpfObject::DeleteKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  bpf_map* m = NamedMap(env, name);
  auto keys = info[1].As<Napi::Buffer<uint8_t>>();
  uint32_t ks = bpf_map__key_size(m);
  if (keys.Length() % ks)
    throw ErrnoError(env, EINVAL, "deleting from map " + name + ": keys do not match the map's key size");
  return (new DeleteKeysWorker(env, this, FdOf(m), name, keys, ks))->Start();
}

// updateEntry(name, key, value): one element, one syscall, on the JS thread.
// For small bookkeeping maps (tc_qdiscs) written at attach time, where a
// promise would ripple through synchronous callers for microseconds of work.
Napi::Value BpfObject::UpdateEntry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  bpf_map* m = NamedMap(env, name);
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  auto value = info[2].As<Napi::Buffer<uint8_t>>();
  if (key.Length() != bpf_map__key_size(m) || value.Length() != bpf_map__value_size(m))
    throw ErrnoError(env, EINVAL, "updating an entry of map " + name + ": key or value does not match the map's sizes");
  if (bpf_map_update_elem(FdOf(m), key.Data(), value.Data(), BPF_ANY))
    throw ErrnoError(env, errno, "updating an entry of map " + name);
  return env.Undefined();
}

// deleteEntry(name, key): one element, one syscall; a missing key is not an error.
Napi::Value BpfObject::DeleteEntry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  bpf_map* m = NamedMap(env, name);
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  if (key.Length() != bpf_map__key_size(m))
    throw ErrnoError(env, EINVAL, "deleting an entry of map " + name + ": key does not match the map's key size");
  if (bpf_map_delete_elem(FdOf(m), key.Data()) && errno != ENOENT)
    throw ErrnoError(env, errno, "deleting an entry of map " + name);
  return env.Undefined();
}

// control() -> {activeSlot, txnKind, txnEpoch: bigint, txnRingEnd: bigint}
Napi::Value BpfObject::Control(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = bpf_map__fd(NamedMap(env, "flow_control"));
  uint32_t zero = 0;
  flow_control c{};
  if (bpf_map_lookup_elem(fd, &zero, &c)) throw ErrnoError(env, errno, "reading flow_control");
  Napi::Object out = Napi::Object::New(env);
  out.Set("activeSlot", c.active_slot);
  out.Set("txnKind", c.txn_kind);
  out.Set("txnEpoch", Napi::BigInt::New(env, static_cast<uint64_t>(c.txn_epoch)));
  out.Set("txnRingEnd", Napi::BigInt::New(env, static_cast<uint64_t>(c.txn_ring_end)));
  return out;
}

// setControl({activeSlot, txnKind, txnEpoch, txnRingEnd})
Napi::Value BpfObject::SetControl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = bpf_map__fd(NamedMap(env, "flow_control"));
  Napi::Object o = info[0].As<Napi::Object>();
  bool lossless = false;
  flow_control c{};
  c.active_slot = o.Get("activeSlot").As<Napi::Number>().Uint32Value() & 1;
  c.txn_kind = o.Get("txnKind").As<Napi::Number>().Uint32Value();
  c.txn_epoch = o.Get("txnEpoch").As<Napi::BigInt>().Uint64Value(&lossless);
  c.txn_ring_end = o.Get("txnRingEnd").As<Napi::BigInt>().Uint64Value(&lossless);
  uint32_t zero = 0;
  if (bpf_map_update_elem(fd, &zero, &c, BPF_ANY)) throw ErrnoError(env, errno, "writing flow_control");
  return env.Undefined();
}

// waitForPrograms() -> Promise<void>: one RCU grace period, off the JS thread.
Napi::Value BpfObject::WaitForProgramsAsync(const Napi::CallbackInfo& info) {
  auto* w = new WaitWorker(info.Env());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace ebpf_agent

namespace ebpf_agent {

// The map pinned at path and its info; -1 when nothing is pinned there. The
// caller closes the fd.
static int OpenPinnedMap(Napi::Env env, const std::string& path, bpf_map_info& mi) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return -1;
  uint32_t len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len)) {
    int e = errno;
    close(fd);
    throw ErrnoError(env, e, "reading map info of " + path);
  }
  return fd;
}

// pinnedMapKeys(path) -> Buffer of every key of the map pinned at path (null
// when nothing is pinned there): `cleanup` reads pinned state without loading
// an object whose map sizes might not match.
Napi::Value PinnedMapKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map_info mi{};
  int fd = OpenPinnedMap(env, info[0].As<Napi::String>(), mi);
  if (fd < 0) return env.Null();
  std::vector<uint8_t> keys, key(mi.key_size), next(mi.key_size);
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    keys.insert(keys.end(), next.begin(), next.end());
    key = next;
    prev = key.data();
  }
  close(fd);
  return Napi::Buffer<uint8_t>::Copy(env, keys.data(), keys.size());
}

// pinnedMapMaxEntries(path) -> max_entries of the map pinned at path (null
// when nothing is pinned there): a pinned map keeps the size it was created
// with, and libbpf refuses to reuse it under another size.
Napi::Value PinnedMapMaxEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map_info mi{};
  int fd = OpenPinnedMap(env, info[0].As<Napi::String>(), mi);
  if (fd < 0) return env.Null();
  close(fd);
  return Napi::Number::New(env, mi.max_entries);
}

}  // namespace ebpf_agent
