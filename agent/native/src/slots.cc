// SPDX-License-Identifier: Apache-2.0
// The two flow map slots. The programs reach them through the flow_slots
// array of maps, so a drained slot is released by putting a fresh map in its
// place: one map creation instead of a delete per key, when that is cheaper
// (ReplaceIsCheaper). The kernel frees the old map once no program holds it.
//
// Crash safety: the ledger releases a slot only after pair_totals has its
// counts (ledger.ts), as it did with deletes. The new map is pinned under the
// slot's name before it goes into flow_slots, so a pin never names a map whose
// counts are not yet in pair_totals, and the pins are the truth a restarted
// agent starts from (InitSlots): it opens maps by pin, never by id, which
// would need CAP_SYS_ADMIN.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "bpf_object.h"
#include "errors.h"
#include "flows.h"
#include "maps.h"
#include "object_worker.h"

namespace ebpf_agent {

namespace {

const char* const kSlotNames[FLOW_SLOTS] = {"connection_flows", "connection_flows_1"};

// Measured on 6.18 by timing releaseSlot against deleteKeys on filled slots
// (docs/performance.md, Drain): a batch delete costs ~400 ns a key at 1M flows; a replacement ~15 ms
// (the kernel waits for an RCU grace period whenever a slot of an array of
// maps changes) plus ~60 ns per entry of max_entries to create the map. So a
// 1M-entry slot is replaced from ~200k drained keys, a 65536-entry one from
// ~47k.
bool ReplaceIsCheaper(uint64_t drained, uint64_t max_entries) {
  return drained * 400 > 15'000'000 + 60 * max_entries;
}

enum class Release { kAuto, kReplace, kDelete };

// An empty map shaped like the one `info` describes (type, sizes, flags),
// with the object's BTF types for bpftool when it has them.
int CreateLike(const bpf_map_info& info, const SlotBtf& btf) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = info.map_flags);
  if (btf.fd >= 0) {
    opts.btf_fd = btf.fd;
    opts.btf_key_type_id = btf.key_type_id;
    opts.btf_value_type_id = btf.value_type_id;
  }
  int fd = bpf_map_create(static_cast<bpf_map_type>(info.type), info.name, info.key_size, info.value_size,
                          info.max_entries, &opts);
  return fd < 0 ? -errno : fd;
}

uint32_t MapId(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

// Points the slot's pin at fd: pinned beside it, then renamed over it, so the
// name always exists and names one map.
int PinSlot(const std::string& dir, uint32_t slot, int fd) {
  std::string path = dir + "/" + kSlotNames[slot];
  int pinned = bpf_obj_get(path.c_str());
  if (pinned >= 0) {
    bool same = MapId(pinned) == MapId(fd);
    close(pinned);
    if (same) return 0;
  }
  // bpffs refuses dots in names.
  std::string tmp = path + "_next";
  unlink(tmp.c_str());
  if (bpf_obj_pin(fd, tmp.c_str())) return errno;
  if (rename(tmp.c_str(), path.c_str())) {
    int err = errno;
    unlink(tmp.c_str());
    return err;
  }
  return 0;
}

class ReleaseSlotWorker : public ObjectWorker {
 public:
  ReleaseSlotWorker(Napi::Env env, BpfObject* obj, uint32_t slot, int fd, int outer_fd, std::string pin_dir,
                    SlotBtf btf, const Napi::Buffer<uint8_t>& drained, const Napi::Buffer<uint8_t>& kept, Release how)
      : ObjectWorker(env, obj), owner_(obj), slot_(slot), fd_(fd), outer_fd_(outer_fd), pin_dir_(std::move(pin_dir)),
        btf_(btf), drained_(drained), kept_(kept), how_(how) {}

  void Execute() override {
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd_, &info, &len)) return Fail(errno, "reading map " + std::string(kSlotNames[slot_]));
    uint64_t drained = drained_.size() / sizeof(flow_key);
    bool replace = how_ == Release::kReplace || (how_ == Release::kAuto && ReplaceIsCheaper(drained, info.max_entries));
    if (replace) {
      replace_errno_ = Replace(info);
      if (!replace_errno_) return;
    }
    // Deleting is always possible: a failed replacement changed nothing.
    int err = DeleteAll(fd_, drained_.data(), sizeof(flow_key), drained_.size());
    if (err) Fail(err, "deleting from map " + std::string(kSlotNames[slot_]));
  }

  void OnOK() override {
    if (new_fd_ >= 0) owner_->AdoptSlot(slot_, new_fd_);
    Napi::Object out = Napi::Object::New(Env());
    out.Set("replaced", new_fd_ >= 0);
    if (replace_errno_) out.Set("replaceError", ErrnoError(Env(), replace_errno_, "replacing the map of " + std::string(kSlotNames[slot_])).Value());
    deferred_.Resolve(out);
  }

 private:
  // 0 when the slot holds a fresh map with the kept connections; otherwise
  // nothing changed and the caller deletes instead.
  int Replace(const bpf_map_info& info) {
    int fd = CreateLike(info, btf_);
    if (fd < 0) return -fd;
    int err = 0;
    flow_stats v{};
    for (size_t off = 0; !err && off + sizeof(flow_key) <= kept_.size(); off += sizeof(flow_key)) {
      const uint8_t* k = kept_.data() + off;
      if (bpf_map_lookup_elem(fd_, k, &v) == 0 && bpf_map_update_elem(fd, k, &v, BPF_NOEXIST)) err = errno;
    }
    if (!err && !pin_dir_.empty()) err = PinSlot(pin_dir_, slot_, fd);
    if (!err && bpf_map_update_elem(outer_fd_, &slot_, &fd, BPF_ANY)) err = errno;
    if (err) {
      // The old pin may now name the empty map: put it back on the old one.
      if (!pin_dir_.empty()) PinSlot(pin_dir_, slot_, fd_);
      close(fd);
      return err;
    }
    new_fd_ = fd;
    return 0;
  }

  BpfObject* owner_;
  uint32_t slot_;
  int fd_, outer_fd_;
  std::string pin_dir_;
  SlotBtf btf_;
  HeldBytes drained_, kept_;
  Release how_;
  int new_fd_ = -1;
  int replace_errno_ = 0;
};

}  // namespace

int BpfObject::SlotIndex(const char* name) {
  for (uint32_t i = 0; i < FLOW_SLOTS; i++)
    if (strcmp(name, kSlotNames[i]) == 0) return static_cast<int>(i);
  return -1;
}

int BpfObject::FdOf(bpf_map* m) const {
  int slot = SlotIndex(bpf_map__name(m));
  return slot >= 0 ? slot_fd_[slot] : bpf_map__fd(m);
}

// After load: each slot's map is the one libbpf found pinned under its name
// (or created), and flow_slots is made to hold it. They differ only after a
// crash between a release's pin and its flow_slots update, when the pinned map
// is the released one: its drained counts are in pair_totals already.
void BpfObject::InitSlots(Napi::Env env) {
  btf* b = bpf_object__btf(obj_);
  int key = b ? btf__find_by_name_kind(b, "flow_key", BTF_KIND_STRUCT) : -1;
  int value = b ? btf__find_by_name_kind(b, "flow_stats", BTF_KIND_STRUCT) : -1;
  if (key > 0 && value > 0 && bpf_object__btf_fd(obj_) >= 0)
    slot_btf_ = {bpf_object__btf_fd(obj_), static_cast<uint32_t>(key), static_cast<uint32_t>(value)};
  for (uint32_t i = 0; i < FLOW_SLOTS; i++) {
    slot_fd_[i] = fcntl(bpf_map__fd(bpf_object__find_map_by_name(obj_, kSlotNames[i])), F_DUPFD_CLOEXEC, 0);
    if (slot_fd_[i] < 0) throw ErrnoError(env, errno, "opening flow slot " + std::to_string(i));
  }
  // An object built before flow_slots (bench/ab.ts compares builds): its maps
  // are the slots for good, and a release deletes.
  bpf_map* slots = bpf_object__find_map_by_name(obj_, "flow_slots");
  if (!slots) return;
  int outer = bpf_map__fd(slots);
  for (uint32_t i = 0; i < FLOW_SLOTS; i++) {
    uint32_t id = 0;
    if (bpf_map_lookup_elem(outer, &i, &id) == 0 && id == MapId(slot_fd_[i])) continue;
    if (bpf_map_update_elem(outer, &i, &slot_fd_[i], BPF_ANY))
      throw ErrnoError(env, errno, "putting the pinned " + std::string(kSlotNames[i]) + " into flow_slots");
  }
}

void BpfObject::AdoptSlot(uint32_t slot, int fd) {
  // A worker still running may hold the old fd number: close it only when
  // none is (this one is the only object worker left when busy_ is 1).
  if (busy_ <= 1) {
    close(slot_fd_[slot]);
  } else {
    retired_fds_.push_back(slot_fd_[slot]);
  }
  slot_fd_[slot] = fd;
}

void BpfObject::CloseRetired() {
  for (int fd : retired_fds_) close(fd);
  retired_fds_.clear();
}

void BpfObject::CloseSlots() {
  for (int& fd : slot_fd_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  CloseRetired();
}

// releaseSlot(name, drainedKeys, keptKeys, how = 'auto') -> Promise<{replaced,
// replaceError?}>: after a drain, empties the slot of drainedKeys and keeps
// keptKeys (deferred connections), by replacing its map when that is cheaper
// (or how = 'replace'), else by deleting.
Napi::Value BpfObject::ReleaseSlot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  std::string name = info[0].As<Napi::String>();
  int slot = SlotIndex(name.c_str());
  if (slot < 0) throw ErrnoError(env, EINVAL, "releaseSlot: " + name + " is not a flow map slot");
  auto drained = info[1].As<Napi::Buffer<uint8_t>>();
  auto kept = info[2].As<Napi::Buffer<uint8_t>>();
  if (drained.Length() % sizeof(flow_key) || kept.Length() % sizeof(flow_key))
    throw ErrnoError(env, EINVAL, "releasing slot " + name + ": keys do not match the flow key size");
  Release how = Release::kAuto;
  if (info.Length() > 3 && info[3].IsString()) {
    std::string h = info[3].As<Napi::String>();
    if (h == "replace") how = Release::kReplace;
    else if (h == "delete") how = Release::kDelete;
    else if (h != "auto") throw ErrnoError(env, EINVAL, "releaseSlot: how is '" + h + "'; accepted: auto, replace, delete");
  }
  if (busy_ == 0) CloseRetired();
  int outer = MapFd("flow_slots");
  return (new ReleaseSlotWorker(env, this, slot, slot_fd_[slot], outer, pin_dir_, slot_btf_, drained, kept, how))->Start();
}

}  // namespace ebpf_agent
