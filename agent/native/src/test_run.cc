// SPDX-License-Identifier: Apache-2.0
// BPF_PROG_TEST_RUN: runs a program on a hand-built packet, for unit tests and
// benchmarks (testing addon only).
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cstring>

#include "bpf_object.h"
#include "errors.h"

namespace ebpf_agent {

// testRun({program, packet, repeat?, gsoSegs?, gsoSize?, ingressIfindex?})
//   -> {retval, durationNs}
Napi::Value BpfObject::TestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  std::string program = o.Get("program").As<Napi::String>();
  int fd = ProgramFd(env, program);
  Napi::Buffer<uint8_t> packet = o.Get("packet").As<Napi::Buffer<uint8_t>>();

  __sk_buff ctx;
  std::memset(&ctx, 0, sizeof(ctx));
  auto opt = [&](const char* k) { return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().Uint32Value() : 0u; };
  ctx.gso_segs = opt("gsoSegs");
  ctx.gso_size = opt("gsoSize");
  ctx.ingress_ifindex = opt("ingressIfindex");
  uint32_t repeat = opt("repeat");

  LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet.Data(), .data_size_in = static_cast<uint32_t>(packet.Length()),
              .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(repeat ? repeat : 1));
  int err = bpf_prog_test_run_opts(fd, &run);
  if (err) throw ErrnoError(env, errno, "test-running " + program);
  Napi::Object out = Napi::Object::New(env);
  out.Set("retval", static_cast<int32_t>(run.retval));
  out.Set("durationNs", run.duration);
  return out;
}

}  // namespace ebpf_agent
