// SPDX-License-Identifier: Apache-2.0
#include "errors.h"

#include <cstring>

namespace ebpf_agent {

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what) {
  if (err < 0) err = -err;
  const char* name = strerrorname_np(err);
  std::string code = name ? name : "E" + std::to_string(err);
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err) + " (" + code + ")");
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

}  // namespace ebpf_agent
