// SPDX-License-Identifier: Apache-2.0
// Bench only (bench/service.ts): conntrack entries for the synthetic flows of
// benchFillFlows, each DNAT'd as kube-proxy would (ClusterIP -> backend), so the
// drain can be measured with every flow translated. Created over
// nf_conntrack_netlink in batches, in the caller's network namespace.
#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <napi.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "errors.h"
#include "flows.h"

namespace ebpf_agent {

void BenchSyntheticFlow(uint32_t i, uint32_t per_pair, bool v6, flow_key& k, flow_stats& s);  // bench.cc

namespace {

class Msg {
 public:
  explicit Msg(std::vector<char>& buf) : buf_(buf), start_(buf.size()) {}
  size_t Begin(uint16_t type) {
    size_t at = buf_.size();
    nlattr a{};
    a.nla_type = type;
    Put(&a, sizeof(a));
    return at;
  }
  void End(size_t at) {
    auto* a = reinterpret_cast<nlattr*>(buf_.data() + at);
    a->nla_len = static_cast<uint16_t>(buf_.size() - at);
  }
  void Attr(uint16_t type, const void* data, size_t len) {
    size_t at = Begin(type);
    Put(data, len);
    End(at);
    Pad();
  }
  void Put(const void* p, size_t len) {
    const char* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + len);
  }
  void Pad() { buf_.resize(start_ + NLMSG_ALIGN(buf_.size() - start_)); }

 private:
  std::vector<char>& buf_;
  size_t start_;
};

void PutTuple(Msg& m, uint16_t type, const flow_key& k, bool reverse) {
  size_t t = m.Begin(type | NLA_F_NESTED);
  size_t ip = m.Begin(CTA_TUPLE_IP | NLA_F_NESTED);
  const uint8_t* src = reverse ? k.dst_addr : k.src_addr;
  const uint8_t* dst = reverse ? k.src_addr : k.dst_addr;
  bool v6 = k.family == FLOW_FAMILY_IPV6;
  m.Attr(v6 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC, src, v6 ? 16 : 4);
  m.Attr(v6 ? CTA_IP_V6_DST : CTA_IP_V4_DST, dst, v6 ? 16 : 4);
  m.End(ip);
  size_t proto = m.Begin(CTA_TUPLE_PROTO | NLA_F_NESTED);
  m.Attr(CTA_PROTO_NUM, &k.protocol, 1);
  m.Attr(CTA_PROTO_SRC_PORT, reverse ? &k.dst_port : &k.src_port, 2);
  m.Attr(CTA_PROTO_DST_PORT, reverse ? &k.src_port : &k.dst_port, 2);
  m.End(proto);
  m.End(t);
}

}  // namespace

// benchFillConntrack({start?, count, connectionsPerPair, ipv6}) -> {created, errors}: flows start..start+count-1,
// flow i's destination DNAT'd to the same address with 50 added to its second byte.
Napi::Value BenchFillConntrack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  uint32_t count = o.Get("count").As<Napi::Number>().Uint32Value();
  uint32_t first = o.Has("start") ? o.Get("start").As<Napi::Number>().Uint32Value() : 0;
  uint32_t per_pair = o.Get("connectionsPerPair").As<Napi::Number>().Uint32Value();
  bool v6 = o.Get("ipv6").ToBoolean();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) throw ErrnoError(env, errno, "opening NETLINK_NETFILTER");
  int size = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
  std::vector<char> buf;
  uint32_t errors = 0, seq = 0;
  auto flush = [&]() {
    if (buf.empty()) return;
    if (send(fd, buf.data(), buf.size(), 0) < 0) errors++;
    buf.clear();
    // Errors only (no NLM_F_ACK): read whatever came back without waiting.
    std::vector<char> in(1 << 16);
    for (;;) {
      ssize_t n = recv(fd, in.data(), in.size(), MSG_DONTWAIT);
      if (n <= 0) break;
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(in.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
        if (h->nlmsg_type == NLMSG_ERROR && static_cast<nlmsgerr*>(NLMSG_DATA(h))->error) errors++;
    }
  };
  for (uint32_t i = first; i < first + count; i++) {
    flow_key k;
    flow_stats s;
    BenchSyntheticFlow(i, per_pair, v6, k, s);
    size_t start = buf.size();
    nlmsghdr h{};
    h.nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
    h.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
    h.nlmsg_seq = ++seq;
    nfgenmsg g{};
    g.nfgen_family = v6 ? AF_INET6 : AF_INET;
    g.version = NFNETLINK_V0;
    Msg m(buf);
    m.Put(&h, sizeof(h));
    m.Put(&g, sizeof(g));
    m.Pad();
    PutTuple(m, CTA_TUPLE_ORIG, k, false);
    PutTuple(m, CTA_TUPLE_REPLY, k, true);
    uint32_t timeout = htonl(3600);
    m.Attr(CTA_TIMEOUT | NLA_F_NET_BYTEORDER, &timeout, 4);
    if (k.protocol == IPPROTO_TCP) {
      size_t pi = m.Begin(CTA_PROTOINFO | NLA_F_NESTED);
      size_t tcp = m.Begin(CTA_PROTOINFO_TCP | NLA_F_NESTED);
      uint8_t state = TCP_CONNTRACK_ESTABLISHED;
      m.Attr(CTA_PROTOINFO_TCP_STATE, &state, 1);
      m.End(tcp);
      m.End(pi);
    }
    uint8_t backend[16];
    std::memcpy(backend, k.dst_addr, 16);
    backend[v6 ? 13 : 1] += 50;
    size_t nat = m.Begin(CTA_NAT_DST | NLA_F_NESTED);
    m.Attr((v6 ? CTA_NAT_V6_MINIP : CTA_NAT_V4_MINIP) | NLA_F_NET_BYTEORDER, backend, v6 ? 16 : 4);
    m.Attr((v6 ? CTA_NAT_V6_MAXIP : CTA_NAT_V4_MAXIP) | NLA_F_NET_BYTEORDER, backend, v6 ? 16 : 4);
    m.End(nat);
    reinterpret_cast<nlmsghdr*>(buf.data() + start)->nlmsg_len = static_cast<uint32_t>(buf.size() - start);
    if (buf.size() > (48 << 10)) flush();
  }
  flush();
  usleep(10000);
  flush();
  close(fd);
  Napi::Object out = Napi::Object::New(env);
  out.Set("created", count - errors);
  out.Set("errors", errors);
  return out;
}

}  // namespace ebpf_agent
