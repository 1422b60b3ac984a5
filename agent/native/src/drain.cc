// SPDX-License-Identifier: Apache-2.0
// Draining the flow maps in one call (testing addon only: tests and bench/;
// the agent drains through the ledger's readPairs/deleteKeys transaction).
// The programs write one of two maps (flow_control's active_slot). A drain flips the slot, waits for one RCU grace period so no
// program still writes the old map, then empties the old map. No writer ever
// races the drain, so no increment is lost between a copy and a delete.
#include <bpf/bpf.h>

#include <cerrno>
#include <vector>

#include "bpf_object.h"
#include "errors.h"
#include "flows.h"
#include "maps.h"
#include "object_worker.h"

namespace ebpf_agent {

namespace {

// Batch lookup-and-delete (5.6+), in chunks; ENOSPC means a bucket holds more
// entries than the chunk, so grow the chunk and retry.
int DrainBatch(int fd, std::vector<uint8_t>& out, bool& unsupported) {
  uint32_t chunk = 4096;
  std::vector<flow_key> keys;
  std::vector<flow_stats> values;
  flow_key out_batch{};
  bool first = true;
  for (;;) {
    keys.resize(chunk);
    values.resize(chunk);
    uint32_t count = chunk;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_and_delete_batch(fd, first ? nullptr : &out_batch, &out_batch, keys.data(),
                                              values.data(), &count, &opts);
    int e = err ? errno : 0;
    for (uint32_t i = 0; i < count; i++) {
      const auto* k = reinterpret_cast<const uint8_t*>(&keys[i]);
      const auto* v = reinterpret_cast<const uint8_t*>(&values[i]);
      out.insert(out.end(), k, k + sizeof(flow_key));
      out.insert(out.end(), v, v + sizeof(flow_stats));
    }
    if (!err) {
      first = false;
      continue;
    }
    if (e == ENOENT) return 0;
    if (e == ENOSPC && count == 0) {
      chunk *= 2;
      continue;
    }
    if (first && count == 0 && (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP || e == ENOSYS)) {
      unsupported = true;
      return 0;
    }
    return e;
  }
}

// Kernels without batch ops: the map is quiescent, so collect every key first,
// then look up and delete each.
int DrainIterate(int fd, std::vector<uint8_t>& out) {
  std::vector<flow_key> keys;
  flow_key key{}, next{};
  const flow_key* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    keys.push_back(next);
    key = next;
    prev = &key;
  }
  for (const flow_key& k : keys) {
    flow_stats v{};
    if (bpf_map_lookup_elem(fd, &k, &v) != 0) continue;
    if (bpf_map_delete_elem(fd, &k) != 0 && errno != ENOENT) return errno;
    const auto* kp = reinterpret_cast<const uint8_t*>(&k);
    const auto* vp = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), kp, kp + sizeof(k));
    out.insert(out.end(), vp, vp + sizeof(v));
  }
  return 0;
}

class DrainWorker : public ObjectWorker {
 public:
  DrainWorker(Napi::Env env, BpfObject* obj, int control_fd, int map_fds[2], bool flip)
      : ObjectWorker(env, obj), control_fd_(control_fd), flip_(flip) {
    map_fds_[0] = map_fds[0];
    map_fds_[1] = map_fds[1];
  }

  void Execute() override {
    uint32_t zero = 0;
    flow_control ctl{};
    if (bpf_map_lookup_elem(control_fd_, &zero, &ctl)) return Fail(errno, "reading flow_control");
    uint32_t drained = ctl.active_slot & 1;
    if (flip_) {
      ctl.active_slot = drained ^ 1;
      if (bpf_map_update_elem(control_fd_, &zero, &ctl, BPF_ANY)) return Fail(errno, "flipping flow_control slot");
      WaitForPrograms();
    } else {
      drained ^= 1;  // drain the idle map only (left over by a previous process)
    }
    slot_ = drained;
    bool unsupported = false;
    int err = DrainBatch(map_fds_[drained], records_, unsupported);
    if (!err && unsupported) err = DrainIterate(map_fds_[drained], records_);
    if (err) Fail(err, "draining flow map slot " + std::to_string(drained));
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("slot", slot_);
    out.Set("records", Napi::Buffer<uint8_t>::Copy(env, records_.data(), records_.size()));
    deferred_.Resolve(out);
  }

 private:
  int control_fd_;
  int map_fds_[2];
  bool flip_;
  uint32_t slot_ = 0;
  std::vector<uint8_t> records_;
};

}  // namespace

// drain({flip = true}) -> Promise<{slot, records: Buffer}>; records are
// flow_key + flow_stats, 72 bytes each, decoded in TypeScript.
Napi::Value BpfObject::Drain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  bool flip = true;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    if (o.Has("flip")) flip = o.Get("flip").ToBoolean();
  }
  int maps[2] = {MapFd("connection_flows"), MapFd("connection_flows_1")};
  return (new DrainWorker(env, this, MapFd("flow_control"), maps, flip))->Start();
}

}  // namespace ebpf_agent
