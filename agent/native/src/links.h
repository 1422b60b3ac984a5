// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <napi.h>

namespace ebpf_agent {

Napi::Value CreateTestLink(const Napi::CallbackInfo& info);
Napi::Value DeleteLink(const Napi::CallbackInfo& info);
Napi::Value ListTcFilters(const Napi::CallbackInfo& info);
Napi::Value ListTcxPrograms(const Napi::CallbackInfo& info);
Napi::Value ProgramName(const Napi::CallbackInfo& info);
Napi::Value ListRoutes(const Napi::CallbackInfo& info);
Napi::Value PinnedMapKeys(const Napi::CallbackInfo& info);  // maps.cc
Napi::Value PinnedMapMaxEntries(const Napi::CallbackInfo& info);  // maps.cc
Napi::Value TcxPinnedLinkIfindex(const Napi::CallbackInfo& info);  // attach.cc

}  // namespace ebpf_agent
