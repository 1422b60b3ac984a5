// SPDX-License-Identifier: Apache-2.0
// rtnetlink: list links and get told when they change, so a new pod's veth is
// found as it appears instead of on a polling tick.
#pragma once
#include <napi.h>

#include <atomic>
#include <thread>

namespace ebpf_agent {

Napi::Value ListLinks(const Napi::CallbackInfo& info);

class LinkMonitor : public Napi::ObjectWrap<LinkMonitor> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  explicit LinkMonitor(const Napi::CallbackInfo& info);
  ~LinkMonitor() override;

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Stop();
  void Run();

  int sock_ = -1;
  int wake_ = -1;  // eventfd that ends the reader thread
  std::thread reader_;
  Napi::ThreadSafeFunction notify_;
  bool running_ = false;
};

}  // namespace ebpf_agent
