// SPDX-License-Identifier: Apache-2.0
// The testing addon (kubeadapt_testing.node): everything the production addon
// exports, built from the same sources, plus entry points only tests and
// bench/ use: BpfObject.drain/testRun/consumeOverflow (compiled in with
// KUBEADAPT_TESTING), attachTcxPinned (a stand-in CNI for the coexistence
// tests) and the bench helpers, some of which hand out raw fds. The image
// ships only ebpf_agent.node (scripts/image/build-app.sh).
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <napi.h>
#include <unistd.h>

#include "bench.h"
#include "errors.h"
#include "exports.h"

namespace ebpf_agent {
namespace {

// uapi of kernel 6.6+; Debian 12's headers predate tcx.
constexpr int kTcxIngress = 46;
constexpr int kTcxEgress = 47;
constexpr uint32_t kBeforeFlag = 1u << 3;  // BPF_F_BEFORE

// attachTcxPinned({programPath, ifindex, direction, head, linkPath}) -> program id.
// Attaches a program pinned by someone else (in tests a stand-in CNI's) with a
// tcx link at the head (BPF_F_BEFORE) or the tail of the chain, and pins the
// link so it outlives this process: removing the pin detaches it.
Napi::Value AttachTcxPinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  std::string program_path = o.Get("programPath").As<Napi::String>();
  std::string link_path = o.Get("linkPath").As<Napi::String>();
  int ifindex = o.Get("ifindex").As<Napi::Number>().Int32Value();
  std::string dir = o.Get("direction").As<Napi::String>();
  int prog_fd = bpf_obj_get(program_path.c_str());
  if (prog_fd < 0) throw ErrnoError(env, errno, "opening pinned program " + program_path);
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = o.Get("head").ToBoolean() ? kBeforeFlag : 0);
  int fd = bpf_link_create(prog_fd, ifindex,
                           static_cast<bpf_attach_type>(dir == "egress" ? kTcxEgress : kTcxIngress), &opts);
  int err = fd < 0 ? errno : 0;
  bpf_prog_info pi{};
  uint32_t len = sizeof(pi);
  if (!err && bpf_obj_get_info_by_fd(prog_fd, &pi, &len)) err = errno;
  close(prog_fd);
  if (err) {
    if (fd >= 0) close(fd);
    throw ErrnoError(env, err, "attaching " + program_path + " (tcx " + dir + ", ifindex " + std::to_string(ifindex) + ")");
  }
  if (bpf_obj_pin(fd, link_path.c_str())) {
    err = errno;
    close(fd);
    throw ErrnoError(env, err, "pinning tcx link at " + link_path);
  }
  close(fd);
  return Napi::Number::New(env, pi.id);
}

}  // namespace
}  // namespace ebpf_agent

static Napi::Object InitTesting(Napi::Env env, Napi::Object exports) {
  ebpf_agent::InitAgentExports(env, exports);
  exports.Set("attachTcxPinned", Napi::Function::New(env, ebpf_agent::AttachTcxPinned));
  ebpf_agent::InitBench(env, exports);
  return exports;
}

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitTesting)
