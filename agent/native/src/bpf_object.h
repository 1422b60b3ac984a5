// SPDX-License-Identifier: Apache-2.0
// The loaded flows object: its programs and maps, wrapped for JS. Methods are
// split by concern across attach.cc, drain.cc, ringbuf.cc and test_run.cc.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <string>
#include <vector>

namespace ebpf_agent {

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  explicit BpfObject(const Napi::CallbackInfo& info);
  ~BpfObject() override;

  int ProgramFd(Napi::Env env, const std::string& name) const;
  int MapFd(const char* name) const;

 private:
  // bpf_object.cc
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  // attach.cc
  Napi::Value AttachTc(const Napi::CallbackInfo& info);
  Napi::Value DetachTc(const Napi::CallbackInfo& info);
  Napi::Value QueryTc(const Napi::CallbackInfo& info);
  Napi::Value AttachTcx(const Napi::CallbackInfo& info);
  // drain.cc
  Napi::Value Drain(const Napi::CallbackInfo& info);
  // ringbuf.cc
  Napi::Value ConsumeOverflow(const Napi::CallbackInfo& info);
  // test_run.cc
  Napi::Value TestRun(const Napi::CallbackInfo& info);

  void CheckOpen(Napi::Env env) const;

  bpf_object* obj_ = nullptr;
  ring_buffer* overflow_ = nullptr;
  std::vector<uint8_t> overflow_batch_;
  bool coarse_clock_ = false;
  double load_seconds_ = 0;
};

}  // namespace ebpf_agent
