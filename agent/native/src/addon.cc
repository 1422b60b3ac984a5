// SPDX-License-Identifier: Apache-2.0
// Registers the addon's exports; the typed contract is agent/src/native.d.ts.
#include <napi.h>
#include <unistd.h>

#include "bench.h"
#include "bpf_object.h"
#include "conntrack.h"
#include "errors.h"
#include "links.h"
#include "netlink.h"

namespace ebpf_agent {
namespace {

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (close(fd) != 0) throw ErrnoError(info.Env(), errno, "closing fd " + std::to_string(fd));
  return info.Env().Undefined();
}

}  // namespace

Napi::Value AttachTcxPinned(const Napi::CallbackInfo& info);  // attach.cc
}  // namespace ebpf_agent

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace ebpf_agent;
  BpfObject::Init(env, exports);
  LinkMonitor::Init(env, exports);
  ConntrackResolver::Init(env, exports);
  exports.Set("listLinks", Napi::Function::New(env, ListLinks));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("createTestLink", Napi::Function::New(env, CreateTestLink));
  exports.Set("deleteLink", Napi::Function::New(env, DeleteLink));
  exports.Set("listTcFilters", Napi::Function::New(env, ListTcFilters));
  exports.Set("listTcxPrograms", Napi::Function::New(env, ListTcxPrograms));
  exports.Set("programName", Napi::Function::New(env, ProgramName));
  exports.Set("defaultRouteIfindexes", Napi::Function::New(env, DefaultRouteIfindexes));
  exports.Set("pinnedMapKeys", Napi::Function::New(env, PinnedMapKeys));
  exports.Set("tcxPinnedLinkIfindex", Napi::Function::New(env, TcxPinnedLinkIfindex));
  exports.Set("attachTcxPinned", Napi::Function::New(env, AttachTcxPinned));
  InitBench(env, exports);
  return exports;
}

NODE_API_MODULE(ebpf_agent, InitAddon)
