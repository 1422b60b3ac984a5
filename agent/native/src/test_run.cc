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

// testRunBatch({program, frames, ends, gsoSize, gsoSegs}) -> {retvals, errnos}
// One call for many frames (the fuzzer's): frame i is frames[ends[i-1]..ends[i]),
// run with gsoSize[i]/gsoSegs[i] in its ctx. A frame the kernel refuses does not
// stop the batch: its errno is recorded (0 for the frames that ran). The arrays
// are typed and sized by the TypeScript caller.
Napi::Value BpfObject::TestRunBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  std::string program = o.Get("program").As<Napi::String>();
  int fd = ProgramFd(env, program);
  Napi::Buffer<uint8_t> frames = o.Get("frames").As<Napi::Buffer<uint8_t>>();
  Napi::Uint32Array ends = o.Get("ends").As<Napi::Uint32Array>();
  Napi::Uint32Array gso_size = o.Get("gsoSize").As<Napi::Uint32Array>();
  Napi::Uint32Array gso_segs = o.Get("gsoSegs").As<Napi::Uint32Array>();
  size_t n = ends.ElementLength();
  Napi::Int32Array retvals = Napi::Int32Array::New(env, n);
  Napi::Int32Array errnos = Napi::Int32Array::New(env, n);
  uint32_t start = 0;
  for (size_t i = 0; i < n; i++) {
    __sk_buff ctx;
    std::memset(&ctx, 0, sizeof(ctx));
    ctx.gso_size = gso_size[i];
    ctx.gso_segs = gso_segs[i];
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frames.Data() + start, .data_size_in = ends[i] - start,
                .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
    errnos[i] = bpf_prog_test_run_opts(fd, &run) ? errno : 0;
    retvals[i] = errnos[i] ? 0 : static_cast<int32_t>(run.retval);
    start = ends[i];
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("retvals", retvals);
  out.Set("errnos", errnos);
  return out;
}

}  // namespace ebpf_agent
