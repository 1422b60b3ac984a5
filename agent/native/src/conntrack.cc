// SPDX-License-Identifier: Apache-2.0
#include "conntrack.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"

namespace ebpf_agent {

size_t FlowKeyHash::operator()(const flow_key& k) const { return HashFlowKey(k); }

bool FlowKeyEq::operator()(const flow_key& a, const flow_key& b) const { return std::memcmp(&a, &b, sizeof(a)) == 0; }

namespace {

static_assert(sizeof(flow_key) == 40, "FlowKeyHash reads five words");

// How far ahead Resolve prefetches the live table: enough misses in flight
// to cover one's latency with the hashing of the keys in between.
constexpr uint32_t kPrefetchAhead = 8;

uint64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

double NowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

const nlattr* NextAttr(const nlattr* a) {
  return reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + NLA_ALIGN(a->nla_len));
}

template <typename F>
void ForEachAttr(const void* data, int len, F f) {
  const auto* a = static_cast<const nlattr*>(data);
  while (len >= static_cast<int>(sizeof(nlattr)) && a->nla_len >= sizeof(nlattr) && a->nla_len <= len) {
    f(a->nla_type & NLA_TYPE_MASK, static_cast<const void*>(reinterpret_cast<const char*>(a) + NLA_HDRLEN),
      static_cast<int>(a->nla_len - NLA_HDRLEN));
    len -= NLA_ALIGN(a->nla_len);
    a = NextAttr(a);
  }
}

struct Tuple {
  uint8_t family = 0, protocol = 0;
  uint16_t sport = 0, dport = 0;  // network byte order, as in flow_key
  uint8_t src[16] = {}, dst[16] = {};
};

void ParseTuple(const void* data, int len, Tuple& t) {
  ForEachAttr(data, len, [&](int type, const void* p, int l) {
    if (type == CTA_TUPLE_IP) {
      ForEachAttr(p, l, [&](int it, const void* ip, int il) {
        if (it == CTA_IP_V4_SRC && il >= 4) t.family = FLOW_FAMILY_IPV4, std::memcpy(t.src, ip, 4);
        if (it == CTA_IP_V4_DST && il >= 4) t.family = FLOW_FAMILY_IPV4, std::memcpy(t.dst, ip, 4);
        if (it == CTA_IP_V6_SRC && il >= 16) t.family = FLOW_FAMILY_IPV6, std::memcpy(t.src, ip, 16);
        if (it == CTA_IP_V6_DST && il >= 16) t.family = FLOW_FAMILY_IPV6, std::memcpy(t.dst, ip, 16);
      });
    } else if (type == CTA_TUPLE_PROTO) {
      ForEachAttr(p, l, [&](int pt, const void* pp, int pl) {
        if (pt == CTA_PROTO_NUM && pl >= 1) t.protocol = *static_cast<const uint8_t*>(pp);
        if (pt == CTA_PROTO_SRC_PORT && pl >= 2) std::memcpy(&t.sport, pp, 2);
        if (pt == CTA_PROTO_DST_PORT && pl >= 2) std::memcpy(&t.dport, pp, 2);
      });
    }
  });
}

// One conntrack message: its original tuple as a flow key and, when the
// destination was translated, the backend. false when it is not a TCP/UDP
// connection whose destination address was translated.
bool ParseEntry(const nlmsghdr* h, flow_key& key, Backend& backend) {
  const int hdr = NLMSG_LENGTH(sizeof(nfgenmsg));
  if (h->nlmsg_len < static_cast<uint32_t>(hdr)) return false;
  Tuple orig, reply;
  ForEachAttr(reinterpret_cast<const char*>(h) + NLMSG_ALIGN(hdr), h->nlmsg_len - NLMSG_ALIGN(hdr),
              [&](int type, const void* p, int l) {
                if (type == CTA_TUPLE_ORIG) ParseTuple(p, l, orig);
                if (type == CTA_TUPLE_REPLY) ParseTuple(p, l, reply);
              });
  if (!orig.family || orig.family != reply.family) return false;
  if (orig.protocol != IPPROTO_TCP && orig.protocol != IPPROTO_UDP) return false;
  if (std::memcmp(reply.src, orig.dst, 16) == 0) return false;
  std::memset(&key, 0, sizeof(key));
  key.family = orig.family;
  key.protocol = orig.protocol;
  key.src_port = orig.sport;
  key.dst_port = orig.dport;
  std::memcpy(key.src_addr, orig.src, 16);
  std::memcpy(key.dst_addr, orig.dst, 16);
  std::memcpy(backend.addr, reply.src, 16);
  return true;
}

// A Service address and port, either protocol: Services often serve one port
// over both (DNS: 53/udp and 53/tcp), and a connection of one protocol that
// ended tells as much as a live one of the other.
flow_key ServiceOf(const flow_key& k) {
  flow_key s;
  std::memset(&s, 0, sizeof(s));
  s.family = k.family;
  s.dst_port = k.dst_port;
  std::memcpy(s.dst_addr, k.dst_addr, 16);
  return s;
}

void PutAttr32(std::vector<char>& buf, uint16_t type, uint32_t value_be) {
  nlattr a{};
  a.nla_len = NLA_HDRLEN + 4;
  a.nla_type = type | NLA_F_NET_BYTEORDER;
  const char* ap = reinterpret_cast<const char*>(&a);
  buf.insert(buf.end(), ap, ap + sizeof(a));
  const char* vp = reinterpret_cast<const char*>(&value_be);
  buf.insert(buf.end(), vp, vp + 4);
}

// How long a Service address is remembered after it was last seen translated.
constexpr uint64_t kServiceRetainMs = 3600 * 1000;
// How often the table is replaced by a dump (0.35 s at 100k translated entries, loaded VM).
constexpr uint64_t kResyncMs = 10 * 60 * 1000;

// "udp [fd00::2]:40000 -> [fd00:10:96::1]:80" or "tcp 10.0.0.1:40000 -> 10.96.0.1:80".
std::string FlowKeyToString(const flow_key& k) {
  char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
  int af = k.family == FLOW_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  inet_ntop(af, k.src_addr, src, sizeof(src));
  inet_ntop(af, k.dst_addr, dst, sizeof(dst));
  const char* proto = k.protocol == IPPROTO_TCP ? "tcp" : k.protocol == IPPROTO_UDP ? "udp" : "ip";
  const char* open = af == AF_INET6 ? "[" : "";
  const char* close = af == AF_INET6 ? "]" : "";
  return std::string(proto) + " " + open + src + close + ":" + std::to_string(ntohs(k.src_port)) + " -> " + open + dst +
         close + ":" + std::to_string(ntohs(k.dst_port));
}

}  // namespace

Backend DeferredBackend() {
  Backend b;
  std::memset(b.addr, 0xff, sizeof(b.addr));
  return b;
}

bool IsDeferred(const Backend& b) {
  static const Backend deferred = DeferredBackend();
  return std::memcmp(b.addr, deferred.addr, sizeof(b.addr)) == 0;
}

Conntrack::Conntrack(uint64_t retain_ms) : retain_ms_(retain_ms) {}
Conntrack::~Conntrack() { Close(); }

int Conntrack::Open() {
  std::lock_guard<std::mutex> lock(mu_);
  if (events_fd_ >= 0) return 0;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
  if (fd < 0) return errno;
  // Room for a burst of ends between two polls (250 ms): ~50k events.
  int size = 16 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  int group_new = NFNLGRP_CONNTRACK_NEW, group_destroy = NFNLGRP_CONNTRACK_DESTROY;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group_new, sizeof(group_new)) != 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group_destroy, sizeof(group_destroy)) != 0) {
    int e = errno;
    close(fd);
    return e;
  }
  events_fd_ = fd;
  return 0;
}

void Conntrack::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (events_fd_ >= 0) close(events_fd_);
  events_fd_ = -1;
}

void Conntrack::Learn(const flow_key& orig, uint64_t now_ms) { services_.Put(ServiceOf(orig), now_ms); }

uint32_t Conntrack::Poll() {
  // The JS thread never waits for a drain's look-ups: the drain reads the events itself.
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  return lock.owns_lock() ? PollLocked() : 0;
}

uint32_t Conntrack::PollLocked() {
  if (events_fd_ < 0) return 0;
  uint32_t translated = 0;
  std::vector<char> buf(1 << 16);
  uint64_t now = NowMs();
  for (;;) {
    ssize_t n = recv(events_fd_, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        // Events were dropped: connections that ended meanwhile cannot be
        // resolved once their entry is gone; say so in the reason label.
        stats_.overruns++;
        lost_until_ms_ = now + retain_ms_;
        resync_ = true;
        continue;
      }
      break;  // EAGAIN: nothing more
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (NFNL_SUBSYS_ID(h->nlmsg_type) != NFNL_SUBSYS_CTNETLINK) continue;
      stats_.events++;
      flow_key key;
      Backend backend;
      if (!ParseEntry(h, key, backend)) continue;
      if (NFNL_MSG_TYPE(h->nlmsg_type) == IPCTNL_MSG_CT_DELETE) {
        live_.Erase(key);
        destroyed_.Put(key, Destroyed{backend, now});
      } else {
        live_.Put(key, backend);
      }
      Learn(key, now);
      translated++;
    }
  }
  return translated;
}

int Conntrack::Dump(FlowTable<Backend>& live) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return errno;
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  std::vector<char> req(NLMSG_LENGTH(sizeof(nfgenmsg)));
  auto* h = reinterpret_cast<nlmsghdr*>(req.data());
  h->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  h->nlmsg_seq = 1;
  auto* g = reinterpret_cast<nfgenmsg*>(NLMSG_DATA(h));
  g->nfgen_family = AF_UNSPEC;
  g->version = NFNETLINK_V0;
  // Only entries whose destination was translated: the kernel skips the rest
  // before building a message for them (status filter, Linux 5.19+; older
  // kernels ignore it and ParseEntry drops the untranslated ones).
  PutAttr32(req, CTA_STATUS, htonl(IPS_DST_NAT));
  PutAttr32(req, CTA_STATUS_MASK, htonl(IPS_DST_NAT));
  reinterpret_cast<nlmsghdr*>(req.data())->nlmsg_len = req.size();
  if (send(fd, req.data(), req.size(), 0) < 0) {
    int e = errno;
    close(fd);
    return e;
  }
  std::vector<char> buf(1 << 17);
  int err = 0;
  for (bool done = false; !done;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    int len = static_cast<int>(n);
    for (auto* m = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(m, len); m = NLMSG_NEXT(m, len)) {
      if (m->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (m->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(m));
        err = e->error ? -e->error : 0;
        done = true;
        break;
      }
      flow_key key;
      Backend backend;
      if (ParseEntry(m, key, backend)) live.Put(key, backend);
    }
  }
  close(fd);
  return err;
}

void Conntrack::ExpireLocked(uint64_t now_ms) {
  destroyed_.EraseIf([&](const Destroyed& d) { return now_ms - d.at_ms > retain_ms_; });
  services_.EraseIf([&](uint64_t seen) { return now_ms - seen > kServiceRetainMs; });
  // A deferred connection comes back within two intervals; one that never does
  // (its next round was taken by a dead agent's replay) is forgotten.
  deferred_.EraseIf([&](uint64_t at) { return now_ms - at > retain_ms_; });
}

void Conntrack::Resolve(const uint8_t* base, size_t stride, uint32_t n, bool may_defer,
                        std::vector<std::pair<uint32_t, Backend>>& out, ResolveCounts& counts) {
  double resolve_started = NowSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  // Events of connections that started or ended just before the drain.
  PollLocked();
  uint64_t now = NowMs();
  int err = 0;
  if ((resync_ || now >= next_resync_ms_) && n) {
    // Subscribed first, dumped second: nothing falls between the two. Events
    // read after the dump only refresh what it found.
    FlowTable<Backend> live;
    double started = NowSeconds();
    err = Dump(live);
    stats_.dumps++;
    stats_.last_dump_seconds = NowSeconds() - started;
    if (!err) {
      live.ForEach([&](const flow_key& k, const Backend&) { Learn(k, now); });
      live_.Swap(live);
      resync_ = false;
      next_resync_ms_ = now + kResyncMs;
      PollLocked();
    }
  }
  stats_.live = live_.size();
  counts.dump_errno = err;
  auto key_at = [&](uint32_t i) {
    flow_key k;
    std::memcpy(&k, base + static_cast<size_t>(i) * stride, sizeof(k));
    k.pad = 0;
    return k;
  };
  for (uint32_t i = 0; i < n; i++) {
    if (i + kPrefetchAhead < n) live_.Prefetch(key_at(i + kPrefetchAhead));
    flow_key k = key_at(i);
    const Backend* found = live_.Find(k);
    if (!found) {
      if (const Destroyed* d = destroyed_.Find(k)) found = &d->backend;
    }
    if (found) {
      out.emplace_back(i, *found);
      counts.translated++;
      if (deferred_.size()) deferred_.Erase(k);
      continue;
    }
    if (!services_.Find(ServiceOf(k))) continue;  // not to a Service we know
    if (may_defer && !err && !deferred_.Find(k)) {
      deferred_.Put(k, now);
      out.emplace_back(i, DeferredBackend());
      counts.deferred++;
      continue;
    }
    if (deferred_.size()) deferred_.Erase(k);
    if (counts.unresolved_samples.size() < ResolveCounts::kSamples) counts.unresolved_samples.push_back(k);
    if (err) counts.unavailable++;
    else if (now < lost_until_ms_) counts.events_lost++;
    else counts.gone++;
  }
  ExpireLocked(now);
  stats_.last_resolve_seconds = NowSeconds() - resolve_started;
  stats_.destroyed = destroyed_.size();
  stats_.services = services_.size();
}

Conntrack::Stats Conntrack::GetStats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Napi::Object ResolveCountsToJs(Napi::Env env, const ResolveCounts& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("translated", c.translated);
  o.Set("gone", c.gone);
  o.Set("eventsLost", c.events_lost);
  o.Set("unavailable", c.unavailable);
  o.Set("deferred", c.deferred);
  o.Set("dumpErrno", c.dump_errno);
  o.Set("replayed", c.replayed);
  Napi::Array samples = Napi::Array::New(env, c.unresolved_samples.size());
  for (size_t i = 0; i < c.unresolved_samples.size(); i++) samples.Set(i, FlowKeyToString(c.unresolved_samples[i]));
  o.Set("unresolvedSamples", samples);
  return o;
}

Napi::FunctionReference* ConntrackResolver::constructor_ = nullptr;

Napi::Object ConntrackResolver::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "ConntrackResolver",
                                    {
                                        InstanceMethod("poll", &ConntrackResolver::Poll),
                                        InstanceMethod("stats", &ConntrackResolver::GetStats),
                                        InstanceMethod("close", &ConntrackResolver::Close),
                                    });
  constructor_ = new Napi::FunctionReference(Napi::Persistent(ctor));
  exports.Set("ConntrackResolver", ctor);
  return exports;
}

bool ConntrackResolver::IsResolver(Napi::Env, Napi::Value v) {
  return v.IsObject() && constructor_ && v.As<Napi::Object>().InstanceOf(constructor_->Value());
}

// new ConntrackResolver({retainMs}): subscribes to DESTROY events at once, so
// connections that end from now on are kept.
ConntrackResolver::ConntrackResolver(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ConntrackResolver>(info) {
  Napi::Env env = info.Env();
  uint64_t retain = 60000;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    if (o.Has("retainMs")) retain = static_cast<uint64_t>(o.Get("retainMs").As<Napi::Number>().Int64Value());
  }
  ct_ = std::make_shared<Conntrack>(retain);
  int err = ct_->Open();
  if (err) throw ErrnoError(env, err, "subscribing to conntrack destroy events (NETLINK_NETFILTER)");
}

// poll() -> translated connections that ended since the last poll.
Napi::Value ConntrackResolver::Poll(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ct_->Poll());
}

Napi::Value ConntrackResolver::GetStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Conntrack::Stats s = ct_->GetStats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("events", static_cast<double>(s.events));
  o.Set("overruns", static_cast<double>(s.overruns));
  o.Set("dumps", static_cast<double>(s.dumps));
  o.Set("live", static_cast<double>(s.live));
  o.Set("destroyed", static_cast<double>(s.destroyed));
  o.Set("services", static_cast<double>(s.services));
  o.Set("lastDumpSeconds", s.last_dump_seconds);
  o.Set("lastResolveSeconds", s.last_resolve_seconds);
  return o;
}

Napi::Value ConntrackResolver::Close(const Napi::CallbackInfo& info) {
  ct_->Close();
  return info.Env().Undefined();
}

}  // namespace ebpf_agent
