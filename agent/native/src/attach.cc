// SPDX-License-Identifier: Apache-2.0
// Attaching the programs to interfaces: legacy TC (clsact + cls_bpf in
// direct-action mode, through libbpf's bpf_tc_* API) and tcx links.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bpf_object.h"
#include "errors.h"
#include "links.h"

namespace ebpf_agent {
namespace {

// uapi of kernel 6.6+; Debian 12's headers predate tcx.
constexpr int kTcxIngress = 46;
constexpr int kTcxEgress = 47;
constexpr uint32_t kBeforeFlag = 1u << 3;  // BPF_F_BEFORE: first in the chain

struct TcTarget {
  bpf_tc_hook hook{};
  bpf_tc_opts opts{};
  std::string where;
};

TcTarget ReadTarget(const Napi::Object& o) {
  TcTarget t;
  t.hook.sz = sizeof(t.hook);
  t.opts.sz = sizeof(t.opts);
  t.hook.ifindex = o.Get("ifindex").As<Napi::Number>().Int32Value();
  std::string dir = o.Get("direction").As<Napi::String>();
  t.hook.attach_point = dir == "egress" ? BPF_TC_EGRESS : BPF_TC_INGRESS;
  t.opts.handle = o.Get("handle").As<Napi::Number>().Uint32Value();
  t.opts.priority = o.Get("priority").As<Napi::Number>().Uint32Value();
  t.where = "tc " + dir + " of ifindex " + std::to_string(t.hook.ifindex) + " (handle " +
            std::to_string(t.opts.handle) + ", priority " + std::to_string(t.opts.priority) + ")";
  return t;
}

}  // namespace

// attachTc({ifindex, direction, handle, priority, program, replace}) -> {createdQdisc, programId}
Napi::Value BpfObject::AttachTc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  TcTarget t = ReadTarget(o);
  int prog_fd = ProgramFd(env, o.Get("program").As<Napi::String>());

  int err = bpf_tc_hook_create(&t.hook);
  bool created = err == 0;
  if (err && err != -EEXIST) throw ErrnoError(env, err, "creating clsact qdisc for " + t.where);

  t.opts.prog_fd = prog_fd;
  t.opts.flags = o.Get("replace").ToBoolean() ? BPF_TC_F_REPLACE : 0;
  err = bpf_tc_attach(&t.hook, &t.opts);
  if (err) {
    if (created) {
      // Leave the interface as we found it.
      t.hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&t.hook);
    }
    throw ErrnoError(env, err, "attaching to " + t.where);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("createdQdisc", created);
  out.Set("programId", t.opts.prog_id);
  return out;
}

// detachTc({ifindex, direction, handle, priority, destroyQdisc})
Napi::Value BpfObject::DetachTc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  TcTarget t = ReadTarget(o);
  int err = bpf_tc_detach(&t.hook, &t.opts);
  // ENOENT/ENODEV: the filter or the interface is already gone (pod deleted).
  if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
    throw ErrnoError(env, err, "detaching from " + t.where);
  if (o.Get("destroyQdisc").ToBoolean()) {
    // Only BPF_TC_INGRESS|BPF_TC_EGRESS removes the clsact qdisc itself.
    t.hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
    err = bpf_tc_hook_destroy(&t.hook);
    if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
      throw ErrnoError(env, err, "removing clsact qdisc of ifindex " + std::to_string(t.hook.ifindex));
  }
  return env.Undefined();
}

// queryTc({ifindex, direction, handle, priority}) -> programId | null
Napi::Value BpfObject::QueryTc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TcTarget t = ReadTarget(info[0].As<Napi::Object>());
  int err = bpf_tc_query(&t.hook, &t.opts);
  if (err == -ENOENT || err == -EINVAL || err == -ENODEV) return env.Null();
  if (err) throw ErrnoError(env, err, "querying " + t.where);
  return Napi::Number::New(env, t.opts.prog_id);
}

// The ifindex a tcx link is attached to; 0 once its device is gone (a defunct
// link that only its pin keeps alive).
uint32_t TcxLinkIfindex(int fd) {
  // struct bpf_link_info of 6.6+: type, id, prog_id, then tcx {ifindex, attach_type} at 16.
  uint8_t buf[256] = {};
  uint32_t len = sizeof(buf);
  if (bpf_obj_get_info_by_fd(fd, buf, &len)) return 0;
  uint32_t ifindex;
  std::memcpy(&ifindex, buf + 16, sizeof(ifindex));
  return ifindex;
}

// attachTcx({ifindex, direction, program, pinPath?}) -> link fd. With a pin
// path, a live link already pinned there (left by an earlier agent) gets the
// new program atomically instead of a second link. Closing the fd of an
// unpinned link detaches it; a pinned one stays until unpinned.
Napi::Value BpfObject::AttachTcx(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  int ifindex = o.Get("ifindex").As<Napi::Number>().Int32Value();
  std::string dir = o.Get("direction").As<Napi::String>();
  int prog_fd = ProgramFd(env, o.Get("program").As<Napi::String>());
  std::string pin = o.Has("pinPath") && o.Get("pinPath").IsString() ? o.Get("pinPath").As<Napi::String>().Utf8Value() : "";
  if (!pin.empty()) {
    int old = bpf_obj_get(pin.c_str());
    if (old >= 0) {
      if (TcxLinkIfindex(old) == static_cast<uint32_t>(ifindex)) {
        if (bpf_link_update(old, prog_fd, nullptr)) {
          int e = errno;
          close(old);
          throw ErrnoError(env, e, "updating pinned tcx link " + pin);
        }
        return Napi::Number::New(env, old);
      }
      close(old);  // defunct, or another device now has this ifindex
      unlink(pin.c_str());
    }
  }
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = kBeforeFlag);
  int fd = bpf_link_create(prog_fd, ifindex,
                           static_cast<bpf_attach_type>(dir == "egress" ? kTcxEgress : kTcxIngress), &opts);
  if (fd < 0)
    throw ErrnoError(env, errno, "attaching tcx " + dir + " link to ifindex " + std::to_string(ifindex));
  if (!pin.empty() && bpf_obj_pin(fd, pin.c_str())) {
    int e = errno;
    close(fd);
    throw ErrnoError(env, e, "pinning tcx link at " + pin);
  }
  return Napi::Number::New(env, fd);
}

// tcxLinkIfindex(pinPath) -> ifindex of the pinned tcx link (0: defunct), null when nothing is pinned there.
Napi::Value TcxPinnedLinkIfindex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string pin = info[0].As<Napi::String>();
  int fd = bpf_obj_get(pin.c_str());
  if (fd < 0) return env.Null();
  uint32_t ifindex = TcxLinkIfindex(fd);
  close(fd);
  return Napi::Number::New(env, ifindex);
}

}  // namespace ebpf_agent
