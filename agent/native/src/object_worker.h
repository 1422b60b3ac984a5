// SPDX-License-Identifier: Apache-2.0
// The base of every async worker that uses a BpfObject's fds. The fds are
// plain numbers: if the object were closed (or collected) while Execute() runs
// on a worker thread, the kernel could hand the same numbers to the next
// open() and the worker would read or delete someone else's map. So a worker
// keeps its object alive (Ref) and counted as busy from the moment it is
// created on the JS thread until it has settled its promise there; close()
// refuses a busy object (EBUSY), as better-sqlite3 refuses to close a
// database with a statement running.
#pragma once
#include <napi.h>

#include <string>
#include <utility>

#include "bpf_object.h"
#include "errors.h"

namespace ebpf_agent {

class ObjectWorker : public Napi::AsyncWorker {
 public:
  ObjectWorker(Napi::Env env, BpfObject* obj)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), obj_(obj) {
    obj_->Ref();
    obj_->busy_++;
  }
  // Runs on the JS thread, after OnOK/OnError.
  ~ObjectWorker() override {
    obj_->busy_--;
    obj_->Unref();
  }

  // Queues the work; its promise settles on the JS thread.
  Napi::Promise Start() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  // Execute() reports a failure here; no Napi::Value may be built there.
  void Fail(int err, std::string what) {
    failure_ = {err ? err : EIO, std::move(what)};
    SetError(failure_.what);
  }
  void OnError(const Napi::Error&) override { deferred_.Reject(ErrnoError(Env(), failure_.err, failure_.what).Value()); }

  Napi::Promise::Deferred deferred_;
  ErrnoFailure failure_;

 private:
  BpfObject* obj_;
};

}  // namespace ebpf_agent
