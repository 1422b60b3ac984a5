// SPDX-License-Identifier: Apache-2.0
#include "errors.h"

#include <cstring>

namespace ebpf_agent {

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what) {
  if (err < 0) err = -err;
  const char* name = strerrorname_np(err);
  // Appended rather than "E" + to_string(): GCC 12's -Wrestrict misfires on the
  // inlined operator+ (a known false positive) and buried real warnings.
  std::string code = name ? std::string(name) : std::string("E").append(std::to_string(err));
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err) + " (" + code + ")");
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

}  // namespace ebpf_agent
