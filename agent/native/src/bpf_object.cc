// SPDX-License-Identifier: Apache-2.0
#include "bpf_object.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "errors.h"
#include "flows.h"

namespace ebpf_agent {
namespace {

const char* const kPinnedMaps[] = {"connection_flows", "connection_flows_1", "flow_slots", "flow_control",
                                   "overflow_events", "agent_stats", "pair_totals", "tc_qdiscs",
                                   "service_resolution"};

// Writes a `const volatile` global of .rodata before load; the verifier then
// sees it as a constant and prunes the branches it disables.
void SetRodata(Napi::Env env, bpf_object* obj, const char* var_name, const void* value, size_t len) {
  bpf_map* rodata = nullptr;
  bpf_map* m;
  bpf_object__for_each_map(m, obj) {
    const char* n = bpf_map__name(m);
    size_t len = strlen(n);
    if (len >= 7 && strcmp(n + len - 7, ".rodata") == 0) rodata = m;
  }
  btf* btf = bpf_object__btf(obj);
  if (!rodata || !btf) throw ErrnoError(env, ENOENT, "finding .rodata to set " + std::string(var_name));
  int sec_id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
  if (sec_id < 0) throw ErrnoError(env, -sec_id, "finding .rodata BTF");
  const btf_type* sec = btf__type_by_id(btf, sec_id);
  const btf_var_secinfo* vs = btf_var_secinfos(sec);
  size_t size = 0;
  auto* data = static_cast<uint8_t*>(const_cast<void*>(bpf_map__initial_value(rodata, &size)));
  for (int i = 0; i < btf_vlen(sec); i++, vs++) {
    const btf_type* var = btf__type_by_id(btf, vs->type);
    if (strcmp(btf__name_by_offset(btf, var->name_off), var_name) == 0) {
      if (vs->size != len || vs->offset + len > size)
        throw ErrnoError(env, EINVAL, "setting " + std::string(var_name) + ": size mismatch");
      std::memcpy(data + vs->offset, value, len);
      return;
    }
  }
  throw ErrnoError(env, ENOENT, "finding setting " + std::string(var_name) + " in .rodata");
}

uint32_t OptU32(const Napi::Object& o, const char* key, uint32_t fallback) {
  return o.Has(key) && o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().Uint32Value() : fallback;
}

}  // namespace

Napi::Object BpfObject::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "BpfObject", {
      InstanceMethod("info", &BpfObject::Info),
      InstanceMethod("stats", &BpfObject::Stats),
      InstanceMethod("close", &BpfObject::Close),
      InstanceMethod("attachTc", &BpfObject::AttachTc),
      InstanceMethod("detachTc", &BpfObject::DetachTc),
      InstanceMethod("queryTc", &BpfObject::QueryTc),
      InstanceMethod("attachTcx", &BpfObject::AttachTcx),
      InstanceMethod("readMap", &BpfObject::ReadMap),
      InstanceMethod("readPairs", &BpfObject::ReadPairs),
      InstanceMethod("updateMap", &BpfObject::UpdateMap),
      InstanceMethod("deleteKeys", &BpfObject::DeleteKeys),
      InstanceMethod("releaseSlot", &BpfObject::ReleaseSlot),
      InstanceMethod("updateEntry", &BpfObject::UpdateEntry),
      InstanceMethod("deleteEntry", &BpfObject::DeleteEntry),
      InstanceMethod("control", &BpfObject::Control),
      InstanceMethod("setControl", &BpfObject::SetControl),
      InstanceMethod("waitForPrograms", &BpfObject::WaitForProgramsAsync),
      InstanceMethod("ringPeek", &BpfObject::RingPeek),
      InstanceMethod("ringAdvance", &BpfObject::RingAdvance),
      InstanceMethod("resolveRecords", &BpfObject::ResolveRecords),
      InstanceMethod("busy", &BpfObject::Busy),
#ifdef KUBEADAPT_TESTING
      InstanceMethod("drain", &BpfObject::Drain),
      InstanceMethod("consumeOverflow", &BpfObject::ConsumeOverflow),
      InstanceMethod("testRun", &BpfObject::TestRun),
      InstanceMethod("testRunBatch", &BpfObject::TestRunBatch),
#endif
  });
  exports.Set("BpfObject", ctor);
  return exports;
}

// new BpfObject({objectPath, maxFlows, ringbufBytes, pinPath?, countHostSystemTraffic})
BpfObject::BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  std::string path = opts.Get("objectPath").As<Napi::String>();
  auto started = std::chrono::steady_clock::now();

  obj_ = bpf_object__open_file(path.c_str(), nullptr);
  if (!obj_) {
    int err = errno;
    obj_ = nullptr;
    throw ErrnoError(env, err, "opening BPF object " + path);
  }
  try {
    uint32_t max_flows = OptU32(opts, "maxFlows", 65536);
    uint32_t ringbuf_bytes = OptU32(opts, "ringbufBytes", 1u << 20);
    for (const char* name : {"connection_flows", "connection_flows_1"}) {
      int err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj_, name), max_flows);
      if (err) throw ErrnoError(env, err, std::string("sizing map ") + name);
    }
    // flow_slots takes hash maps of any max_entries (5.10+ compares type,
    // sizes and flags only), so its template keeps the declared size.
    int err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj_, "overflow_events"), ringbuf_bytes);
    if (err) throw ErrnoError(env, err, "sizing ring buffer overflow_events");
    // The resolution log holds one transaction: a whole slot, or every record
    // a full ring buffer can hold (each at least 8 B of header + 64 B), plus its header.
    uint32_t log_entries = std::max<uint32_t>(max_flows, ringbuf_bytes / 72) + 1;
    err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj_, "service_resolution"), log_entries);
    if (err) throw ErrnoError(env, err, "sizing map service_resolution");

    coarse_clock_ = libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_ktime_get_coarse_ns, nullptr) == 1;
    uint8_t coarse = coarse_clock_ ? 1 : 0;
    SetRodata(env, obj_, "use_coarse_clock", &coarse, 1);
    uint8_t host = opts.Has("countHostSystemTraffic") && opts.Get("countHostSystemTraffic").ToBoolean() ? 1 : 0;
    SetRodata(env, obj_, "count_host_system_traffic", &host, 1);
    err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj_, "pair_totals"), OptU32(opts, "maxPairs", 131072));
    if (err) throw ErrnoError(env, err, "sizing map pair_totals");

    if (opts.Has("pinPath") && opts.Get("pinPath").IsString()) {
      std::string pin = opts.Get("pinPath").As<Napi::String>();
      pin_dir_ = pin;
      for (const char* name : kPinnedMaps) {
        std::string p = pin + "/" + name;
        err = bpf_map__set_pin_path(bpf_object__find_map_by_name(obj_, name), p.c_str());
        if (err) throw ErrnoError(env, err, "setting pin path " + p);
      }
    }
    err = bpf_object__load(obj_);
    if (err) throw ErrnoError(env, err, "loading BPF object " + path + " (verifier or map creation)");
    InitSlots(env);
    if (opts.Has("podCgroupPath") && opts.Get("podCgroupPath").IsString()) {
      std::string cg = opts.Get("podCgroupPath").As<Napi::String>();
      int cg_fd = open(cg.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (cg_fd < 0) throw ErrnoError(env, errno, "opening the pods cgroup " + cg);
      uint32_t zero = 0;
      int rc = bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj_, "pod_cgroup")), &zero, &cg_fd, BPF_ANY);
      int e = errno;
      close(cg_fd);
      if (rc) throw ErrnoError(env, e, "setting the pods cgroup " + cg + " (is it on cgroup v2?)");
    }
  } catch (...) {
    CloseSlots();
    bpf_object__close(obj_);
    obj_ = nullptr;
    throw;
  }
  load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

BpfObject::~BpfObject() {
  UnmapRing();
  CloseSlots();
  if (obj_) bpf_object__close(obj_);
}

void BpfObject::CheckOpen(Napi::Env env) const {
  if (!obj_) throw ErrnoError(env, EBADF, "using a closed BPF object");
}

int BpfObject::ProgramFd(Napi::Env env, const std::string& name) const {
  CheckOpen(env);
  bpf_program* prog = bpf_object__find_program_by_name(obj_, name.c_str());
  if (!prog) throw ErrnoError(env, ENOENT, "finding program " + name);
  return bpf_program__fd(prog);
}

int BpfObject::MapFd(const char* name) const {
  bpf_map* m = obj_ ? bpf_object__find_map_by_name(obj_, name) : nullptr;
  return m ? FdOf(m) : -1;
}

Napi::Value BpfObject::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  Napi::Object out = Napi::Object::New(env);
  out.Set("loadSeconds", load_seconds_);
  out.Set("coarseClock", coarse_clock_);
  Napi::Array progs = Napi::Array::New(env);
  bpf_program* p;
  uint32_t i = 0;
  bpf_object__for_each_program(p, obj_) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_program__name(p));
    bpf_prog_info pi{};
    uint32_t len = sizeof(pi);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &pi, &len) == 0) o.Set("id", pi.id);
    progs.Set(i++, o);
  }
  out.Set("programs", progs);
  Napi::Array maps = Napi::Array::New(env);
  bpf_map* m;
  i = 0;
  bpf_object__for_each_map(m, obj_) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_map__name(m));
    o.Set("maxEntries", bpf_map__max_entries(m));
    bpf_map_info mi{};
    uint32_t len = sizeof(mi);
    if (bpf_obj_get_info_by_fd(FdOf(m), &mi, &len) == 0) o.Set("id", mi.id);
    const char* pin = bpf_map__pin_path(m);
    if (pin) o.Set("pinPath", pin);
    maps.Set(i++, o);
  }
  out.Set("maps", maps);
  return out;
}

// Sums the per-CPU agent_stats counters: one number per enum agent_stat.
Napi::Value BpfObject::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  int fd = MapFd("agent_stats");
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu < 0) throw ErrnoError(env, ncpu, "counting possible CPUs");
  std::vector<uint64_t> values(ncpu);
  Napi::Array out = Napi::Array::New(env, STAT_COUNT);
  for (uint32_t k = 0; k < STAT_COUNT; k++) {
    if (bpf_map_lookup_elem(fd, &k, values.data())) throw ErrnoError(env, errno, "reading agent_stats");
    uint64_t sum = 0;
    for (uint64_t v : values) sum += v;
    out.Set(k, Napi::Number::New(env, static_cast<double>(sum)));
  }
  return out;
}

// busy() -> how many async operations (readMap, readPairs, updateMap,
// deleteKeys, drain) are still in flight on this object.
Napi::Value BpfObject::Busy(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), busy_); }

// close({unpin}): unpins the maps when asked (uninstall), then frees everything.
// Refused with EBUSY while async work is in flight: its worker threads hold the
// map fds, and a closed fd number is soon someone else's (object_worker.h).
// Closing twice is harmless.
Napi::Value BpfObject::Close(const Napi::CallbackInfo& info) {
  if (busy_ > 0)
    throw ErrnoError(info.Env(), EBUSY,
                     "closing the BPF object: " + std::to_string(busy_) +
                         " map operation(s) still in flight; await them before close()");
  bool unpin = info.Length() > 0 && info[0].IsObject() && info[0].As<Napi::Object>().Get("unpin").ToBoolean();
  if (obj_ && unpin) {
    bpf_map* m;
    bpf_object__for_each_map(m, obj_) {
      if (bpf_map__is_pinned(m)) bpf_map__unpin(m, nullptr);
    }
  }
  UnmapRing();
  CloseSlots();
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  return info.Env().Undefined();
}

}  // namespace ebpf_agent
