// SPDX-License-Identifier: Apache-2.0
// Registers the production addon's exports; the typed contract is
// agent/src/native.d.ts. Test- and bench-only entry points live in the
// separate kubeadapt_testing target (testing.cc), never in this one.
#include <napi.h>
#include <unistd.h>

#include "bpf_object.h"
#include "conntrack.h"
#include "errors.h"
#include "exports.h"
#include "links.h"
#include "memory.h"
#include "netlink.h"

namespace ebpf_agent {
namespace {

// closeFd(fd): the agent's only fds in JS are the tcx link fds attachTcx returns.
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (close(fd) != 0) throw ErrnoError(info.Env(), errno, "closing fd " + std::to_string(fd));
  return info.Env().Undefined();
}

// releaseFreedMemory(): after a Kubernetes list, whose reads freed many small blocks.
Napi::Value ReleaseFreed(const Napi::CallbackInfo& info) {
  ReleaseFreedMemory();
  return info.Env().Undefined();
}

}  // namespace

void InitAgentExports(Napi::Env env, Napi::Object exports) {
  ConfigureMalloc();
  BpfObject::Init(env, exports);
  LinkMonitor::Init(env, exports);
  ConntrackResolver::Init(env, exports);
  exports.Set("listLinks", Napi::Function::New(env, ListLinks));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("releaseFreedMemory", Napi::Function::New(env, ReleaseFreed));
  exports.Set("createTestLink", Napi::Function::New(env, CreateTestLink));
  exports.Set("deleteLink", Napi::Function::New(env, DeleteLink));
  exports.Set("listTcFilters", Napi::Function::New(env, ListTcFilters));
  exports.Set("listTcxPrograms", Napi::Function::New(env, ListTcxPrograms));
  exports.Set("programName", Napi::Function::New(env, ProgramName));
  exports.Set("listRoutes", Napi::Function::New(env, ListRoutes));
  exports.Set("pinnedMapKeys", Napi::Function::New(env, PinnedMapKeys));
  exports.Set("pinnedMapMaxEntries", Napi::Function::New(env, PinnedMapMaxEntries));
  exports.Set("tcxPinnedLinkIfindex", Napi::Function::New(env, TcxPinnedLinkIfindex));
}

}  // namespace ebpf_agent

#ifndef KUBEADAPT_TESTING
static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  ebpf_agent::InitAgentExports(env, exports);
  return exports;
}

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitAddon)
#endif
