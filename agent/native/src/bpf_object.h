// SPDX-License-Identifier: Apache-2.0
// The loaded flows object: its programs and maps, wrapped for JS. Methods are
// split by concern across attach.cc, maps.cc and ringbuf.cc; the testing
// addon (KUBEADAPT_TESTING) adds drain.cc, test_run.cc and consumeOverflow.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <string>
#include <vector>

namespace ebpf_agent {

// The object's BTF and the flow maps' key and value types in it, for the
// maps a slot release creates (fd -1: none).
struct SlotBtf {
  int fd = -1;
  uint32_t key_type_id = 0;
  uint32_t value_type_id = 0;
};

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  explicit BpfObject(const Napi::CallbackInfo& info);
  ~BpfObject() override;

  int ProgramFd(Napi::Env env, const std::string& name) const;
  int MapFd(const char* name) const;
  // slots.cc: the current fd of a map (a flow slot's map changes on release).
  int FdOf(bpf_map* m) const;
  // Takes ownership of fd as the slot's map (JS thread).
  void AdoptSlot(uint32_t slot, int fd);

 private:
  // bpf_object.cc
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Busy(const Napi::CallbackInfo& info);
  // attach.cc
  Napi::Value AttachTc(const Napi::CallbackInfo& info);
  Napi::Value DetachTc(const Napi::CallbackInfo& info);
  Napi::Value QueryTc(const Napi::CallbackInfo& info);
  Napi::Value AttachTcx(const Napi::CallbackInfo& info);
#ifdef KUBEADAPT_TESTING
  // drain.cc
  Napi::Value Drain(const Napi::CallbackInfo& info);
  // ringbuf.cc
  Napi::Value ConsumeOverflow(const Napi::CallbackInfo& info);
  // test_run.cc
  Napi::Value TestRun(const Napi::CallbackInfo& info);
  Napi::Value TestRunBatch(const Napi::CallbackInfo& info);
#endif
  // maps.cc
  Napi::Value ReadMap(const Napi::CallbackInfo& info);
  Napi::Value ReadPairs(const Napi::CallbackInfo& info);
  Napi::Value UpdateMap(const Napi::CallbackInfo& info);
  Napi::Value DeleteKeys(const Napi::CallbackInfo& info);
  Napi::Value UpdateEntry(const Napi::CallbackInfo& info);
  Napi::Value DeleteEntry(const Napi::CallbackInfo& info);
  Napi::Value Control(const Napi::CallbackInfo& info);
  Napi::Value SetControl(const Napi::CallbackInfo& info);
  Napi::Value WaitForProgramsAsync(const Napi::CallbackInfo& info);
  // ringbuf.cc
  Napi::Value RingPeek(const Napi::CallbackInfo& info);
  Napi::Value RingAdvance(const Napi::CallbackInfo& info);
  // slots.cc
  Napi::Value ReleaseSlot(const Napi::CallbackInfo& info);
  void InitSlots(Napi::Env env);
  void CloseSlots();
  void CloseRetired();
  static int SlotIndex(const char* name);
  // service.cc
  Napi::Value ResolveRecords(const Napi::CallbackInfo& info);
  void MapRing(Napi::Env env);
  void UnmapRing();

  void CheckOpen(Napi::Env env) const;
  bpf_map* NamedMap(Napi::Env env, const std::string& name) const;

  friend class ObjectWorker;
  // Async workers in flight (object_worker.h): each holds this object's fds.
  uint32_t busy_ = 0;
  bpf_object* obj_ = nullptr;
  // The overflow ring buffer, mapped by hand so the consumer position moves
  // only when the ledger has the records (ringbuf.cc).
  void* ring_consumer_ = nullptr;
  void* ring_producer_ = nullptr;
  size_t ring_size_ = 0;
  // The flow slots' maps as flow_slots holds them (see slots.cc), and maps
  // replaced while a worker still held their fd (closed when none does).
  int slot_fd_[2] = {-1, -1};
  SlotBtf slot_btf_;
  std::vector<int> retired_fds_;
  std::string pin_dir_;
  bool coarse_clock_ = false;
  double load_seconds_ = 0;
};

}  // namespace ebpf_agent
