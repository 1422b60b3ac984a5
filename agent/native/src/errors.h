// SPDX-License-Identifier: Apache-2.0
// One error type for every failure: a JS Error with `code` (errno name),
// `errno` (positive number) and a message saying what was being done.
#pragma once
#include <napi.h>
#include <string>

namespace ebpf_agent {

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what);

// Carries errno out of AsyncWorker::Execute, where no Napi::Value may be built.
struct ErrnoFailure {
  int err = 0;
  std::string what;
  bool failed() const { return err != 0; }
};

}  // namespace ebpf_agent
