// SPDX-License-Identifier: Apache-2.0
// rtnetlink requests beyond listing: a dummy link for the preflight attach
// test, and the TC filters and tcx programs already on a hook (a CNI's), so
// the agent can tell how it will coexist with them.
#include <bpf/bpf.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "errors.h"
#include "links.h"

namespace ebpf_agent {
namespace {

constexpr int kTcxIngress = 46;
constexpr int kTcxEgress = 47;

class Request {
 public:
  Request(uint16_t type, uint16_t flags) {
    buf_.resize(NLMSG_HDRLEN);
    hdr()->nlmsg_type = type;
    hdr()->nlmsg_flags = NLM_F_REQUEST | flags;
    hdr()->nlmsg_seq = 1;
    hdr()->nlmsg_len = NLMSG_HDRLEN;
  }
  template <typename T>
  T* Body() {
    Append(nullptr, NLMSG_ALIGN(sizeof(T)));
    return reinterpret_cast<T*>(buf_.data() + NLMSG_HDRLEN);
  }
  size_t Begin(uint16_t type) {
    size_t at = buf_.size();
    rtattr a{static_cast<unsigned short>(RTA_LENGTH(0)), type};
    Append(&a, sizeof(a));
    return at;
  }
  void End(size_t at) { reinterpret_cast<rtattr*>(buf_.data() + at)->rta_len = buf_.size() - at; }
  void Attr(uint16_t type, const void* data, size_t len) {
    size_t at = Begin(type);
    Append(data, len);
    End(at);
    Append(nullptr, RTA_ALIGN(len) - len);
  }
  void Raw(const void* data, size_t len) { Append(data, NLMSG_ALIGN(len)); }
  nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  const std::vector<char>& bytes() {
    hdr()->nlmsg_len = buf_.size();
    return buf_;
  }

 private:
  void Append(const void* data, size_t len) {
    size_t at = buf_.size();
    buf_.resize(at + len);
    if (data) std::memcpy(buf_.data() + at, data, len);
  }
  std::vector<char> buf_;
};

// Sends one request and feeds every reply message to on_msg until the final
// ACK / DONE; returns 0 or a positive errno.
int Transact(Request& req, const std::function<void(nlmsghdr*)>& on_msg) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return errno;
  const auto& bytes = req.bytes();
  if (send(fd, bytes.data(), bytes.size(), 0) < 0) {
    int e = errno;
    close(fd);
    return e;
  }
  // NLM_F_DUMP is two bits, one shared with NLM_F_EXCL.
  bool dump = (req.hdr()->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  std::vector<char> buf(1 << 16);
  int result = -1;
  while (result < 0) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = errno;
      break;
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) result = 0;
      else if (h->nlmsg_type == NLMSG_ERROR) {
        int e = -static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        if (e != 0 || !dump) result = e;
      } else on_msg(h);
    }
  }
  close(fd);
  return result;
}

}  // namespace

// createTestLink(name) -> ifindex of a new, up veth `name` (peer `name`p,
// down). veth rather than dummy: every node that runs pods has veth.
Napi::Value CreateTestLink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  std::string peer = name + "p";
  Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  auto* ifi = req.Body<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  req.Attr(IFLA_IFNAME, name.c_str(), name.size() + 1);
  size_t linkinfo = req.Begin(IFLA_LINKINFO);
  req.Attr(IFLA_INFO_KIND, "veth", 5);
  size_t data = req.Begin(IFLA_INFO_DATA);
  size_t peer_info = req.Begin(VETH_INFO_PEER);
  ifinfomsg peer_msg{};
  req.Raw(&peer_msg, sizeof(peer_msg));
  req.Attr(IFLA_IFNAME, peer.c_str(), peer.size() + 1);
  req.End(peer_info);
  req.End(data);
  req.End(linkinfo);
  int err = Transact(req, [](nlmsghdr*) {});
  if (err) throw ErrnoError(env, err, "creating test link " + name);
  unsigned idx = if_nametoindex(name.c_str());
  if (!idx) throw ErrnoError(env, errno, "finding test link " + name);
  return Napi::Number::New(env, idx);
}

// deleteLink(ifindex)
Napi::Value DeleteLink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  Request req(RTM_DELLINK, NLM_F_ACK);
  req.Body<ifinfomsg>()->ifi_index = ifindex;
  int err = Transact(req, [](nlmsghdr*) {});
  if (err && err != ENODEV) throw ErrnoError(env, err, "deleting link " + std::to_string(ifindex));
  return env.Undefined();
}

// listTcFilters(ifindex, direction) -> [{kind, priority, handle, name, programId, directAction}]
// on the clsact hook; [] when the interface has no clsact qdisc.
Napi::Value ListTcFilters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  std::string dir = info[1].As<Napi::String>();
  Request req(RTM_GETTFILTER, NLM_F_DUMP);
  auto* tcm = req.Body<tcmsg>();
  tcm->tcm_family = AF_UNSPEC;
  tcm->tcm_ifindex = ifindex;
  tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT, dir == "egress" ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  int err = Transact(req, [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWTFILTER) return;
    auto* t = static_cast<tcmsg*>(NLMSG_DATA(h));
    if (t->tcm_handle == 0) return;  // the chain head entry, not a filter
    Napi::Object f = Napi::Object::New(env);
    f.Set("priority", t->tcm_info >> 16);
    f.Set("handle", t->tcm_handle);
    int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*t));
    for (rtattr* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(t) + NLMSG_ALIGN(sizeof(*t)));
         RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      if (a->rta_type == TCA_KIND) f.Set("kind", static_cast<const char*>(RTA_DATA(a)));
      if (a->rta_type != TCA_OPTIONS) continue;
      int olen = RTA_PAYLOAD(a);
      for (rtattr* o = static_cast<rtattr*>(RTA_DATA(a)); RTA_OK(o, olen); o = RTA_NEXT(o, olen)) {
        if (o->rta_type == TCA_BPF_NAME) f.Set("name", static_cast<const char*>(RTA_DATA(o)));
        if (o->rta_type == TCA_BPF_ID) f.Set("programId", *static_cast<uint32_t*>(RTA_DATA(o)));
        if (o->rta_type == TCA_BPF_FLAGS) f.Set("directAction", (*static_cast<uint32_t*>(RTA_DATA(o)) & TCA_BPF_FLAG_ACT_DIRECT) != 0);
      }
    }
    out.Set(n++, f);
  });
  if (err == EINVAL || err == ENOENT) return Napi::Array::New(env);
  if (err) throw ErrnoError(env, err, "listing TC filters of ifindex " + std::to_string(ifindex));
  return out;
}

// listTcxPrograms(ifindex, direction) -> program ids in run order ([] before 6.6).
Napi::Value ListTcxPrograms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  std::string dir = info[1].As<Napi::String>();
  uint32_t ids[64];
  uint32_t count = 64;
  uint32_t flags = 0;
  int err = bpf_prog_query(ifindex, static_cast<bpf_attach_type>(dir == "egress" ? kTcxEgress : kTcxIngress), 0,
                           &flags, ids, &count);
  Napi::Array out = Napi::Array::New(env);
  if (err) {
    if (errno == EINVAL || errno == ENOENT) return out;
    throw ErrnoError(env, errno, "querying tcx programs of ifindex " + std::to_string(ifindex));
  }
  for (uint32_t i = 0; i < count; i++) out.Set(i, ids[i]);
  return out;
}

// programName(id) -> the kernel's name for a program id (null when gone).
Napi::Value ProgramName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return env.Null();
  bpf_prog_info pi{};
  uint32_t len = sizeof(pi);
  int err = bpf_obj_get_info_by_fd(fd, &pi, &len);
  close(fd);
  if (err) return env.Null();
  return Napi::String::New(env, pi.name);
}

}  // namespace ebpf_agent

namespace ebpf_agent {

// listRoutes() -> [{family, dst, dstLen, gateway, ifindex, table, type, protocol}]:
// every route of both families, one entry per next hop (a multipath route
// gives one per path). Discovery reads which links carry routes to networks
// or through gateways: those are uplinks, even when they are veths.
namespace {

struct RouteHop {
  int family;
  std::string dst;
  int dst_len;
  std::string gateway;
  int ifindex;
  uint32_t table;
  int type;
  int protocol;
};

std::string AddressText(int family, const void* data) {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(family, data, text, sizeof(text));
  return text;
}

// RTA_GATEWAY carries an address of the route's family; RTA_VIA (an IPv4
// route through an IPv6 next hop) carries its own family first.
std::string GatewayOf(int family, rtattr* a) {
  if (a->rta_type == RTA_GATEWAY) return AddressText(family, RTA_DATA(a));
  auto* via = static_cast<rtvia*>(RTA_DATA(a));
  return AddressText(via->rtvia_family, via->rtvia_addr);
}

}  // namespace

Napi::Value ListRoutes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<RouteHop> out;
  for (int family : {AF_INET, AF_INET6}) {
    Request req(RTM_GETROUTE, NLM_F_DUMP);
    req.Body<rtmsg>()->rtm_family = family;
    int err = Transact(req, [&](nlmsghdr* h) {
      if (h->nlmsg_type != RTM_NEWROUTE) return;
      auto* rt = static_cast<rtmsg*>(NLMSG_DATA(h));
      RouteHop base{family == AF_INET ? 4 : 6, family == AF_INET ? "0.0.0.0" : "::", rt->rtm_dst_len, "", 0, rt->rtm_table, rt->rtm_type, rt->rtm_protocol};
      rtattr* multipath = nullptr;
      int len = RTM_PAYLOAD(h);
      for (rtattr* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        switch (a->rta_type) {
          case RTA_TABLE: base.table = *static_cast<uint32_t*>(RTA_DATA(a)); break;
          case RTA_DST: base.dst = AddressText(family, RTA_DATA(a)); break;
          case RTA_OIF: base.ifindex = *static_cast<int*>(RTA_DATA(a)); break;
          case RTA_GATEWAY:
          case RTA_VIA: base.gateway = GatewayOf(family, a); break;
          case RTA_MULTIPATH: multipath = a; break;
        }
      }
      if (!multipath) {
        out.push_back(base);
        return;
      }
      int left = RTA_PAYLOAD(multipath);
      for (auto* nh = static_cast<rtnexthop*>(RTA_DATA(multipath)); RTNH_OK(nh, left); left -= NLMSG_ALIGN(nh->rtnh_len), nh = RTNH_NEXT(nh)) {
        RouteHop hop = base;
        hop.ifindex = nh->rtnh_ifindex;
        hop.gateway = "";
        int alen = nh->rtnh_len - sizeof(*nh);
        for (rtattr* a = RTNH_DATA(nh); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
          if (a->rta_type == RTA_GATEWAY || a->rta_type == RTA_VIA) hop.gateway = GatewayOf(family, a);
        }
        out.push_back(hop);
      }
    });
    if (err) throw ErrnoError(env, err, "listing routes over rtnetlink");
  }
  Napi::Array arr = Napi::Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("family", out[i].family);
    o.Set("dst", out[i].dst);
    o.Set("dstLen", out[i].dst_len);
    if (!out[i].gateway.empty()) o.Set("gateway", out[i].gateway);
    o.Set("ifindex", out[i].ifindex);
    o.Set("table", out[i].table);
    o.Set("type", out[i].type);
    o.Set("protocol", out[i].protocol);
    arr.Set(i, o);
  }
  return arr;
}

}  // namespace ebpf_agent
