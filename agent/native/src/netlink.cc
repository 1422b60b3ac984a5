// SPDX-License-Identifier: Apache-2.0
#include "netlink.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "errors.h"

namespace ebpf_agent {
namespace {

struct Link {
  int ifindex = 0;
  std::string name;
  std::string kind;
  int link = 0;              // IFLA_LINK: the peer's ifindex for a veth
  int peer_netns_id = -1;    // IFLA_LINK_NETNSID: set when the peer is in another netns
  int master = 0;
  bool up = false;
};

void ParseLinkInfo(rtattr* info, int len, Link& link) {
  for (rtattr* a = info; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_INFO_KIND) link.kind = static_cast<const char*>(RTA_DATA(a));
  }
}

Link ParseLink(nlmsghdr* h) {
  auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(h));
  Link link;
  link.ifindex = ifi->ifi_index;
  link.up = ifi->ifi_flags & IFF_UP;
  int len = IFLA_PAYLOAD(h);
  for (rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (a->rta_type) {
      case IFLA_IFNAME: link.name = static_cast<const char*>(RTA_DATA(a)); break;
      case IFLA_LINK: link.link = *static_cast<int*>(RTA_DATA(a)); break;
      case IFLA_LINK_NETNSID: link.peer_netns_id = *static_cast<int*>(RTA_DATA(a)); break;
      case IFLA_MASTER: link.master = *static_cast<int*>(RTA_DATA(a)); break;
      case IFLA_LINKINFO:
        ParseLinkInfo(static_cast<rtattr*>(RTA_DATA(a)), RTA_PAYLOAD(a), link);
        break;
    }
  }
  return link;
}

int DumpLinks(std::vector<Link>& out) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return errno;
  struct {
    nlmsghdr h;
    ifinfomsg i;
  } req{};
  req.h.nlmsg_len = sizeof(req);
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  req.i.ifi_family = AF_UNSPEC;
  if (send(fd, &req, sizeof(req), 0) < 0) {
    int e = errno;
    close(fd);
    return e;
  }
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      return e;
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        close(fd);
        return 0;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        int e = -static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        close(fd);
        return e;
      }
      if (h->nlmsg_type == RTM_NEWLINK) out.push_back(ParseLink(h));
    }
  }
}

}  // namespace

// listLinks() -> [{ifindex, name, kind, link, peerNetnsId, master, up}]
Napi::Value ListLinks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<Link> links;
  int err = DumpLinks(links);
  if (err) throw ErrnoError(env, err, "listing links over rtnetlink");
  Napi::Array out = Napi::Array::New(env, links.size());
  for (size_t i = 0; i < links.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("ifindex", links[i].ifindex);
    o.Set("name", links[i].name);
    o.Set("kind", links[i].kind);
    o.Set("link", links[i].link);
    o.Set("peerNetnsId", links[i].peer_netns_id);
    o.Set("master", links[i].master);
    o.Set("up", links[i].up);
    out.Set(i, o);
  }
  return out;
}

Napi::Object LinkMonitor::Init(Napi::Env env, Napi::Object exports) {
  exports.Set("LinkMonitor", DefineClass(env, "LinkMonitor", {InstanceMethod("close", &LinkMonitor::Close)}));
  return exports;
}

// new LinkMonitor(onChange): onChange() runs on the JS thread after links
// appear, vanish or change, or routes do; bursts are coalesced into one call.
LinkMonitor::LinkMonitor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LinkMonitor>(info) {
  Napi::Env env = info.Env();
  sock_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (sock_ < 0) throw ErrnoError(env, errno, "opening rtnetlink socket");
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  // Routes too: a link becomes an uplink when routes through it appear (interfaces/roles.ts).
  addr.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    int e = errno;
    close(sock_);
    throw ErrnoError(env, e, "subscribing to rtnetlink link and route events");
  }
  wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  notify_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "LinkMonitor", 0, 1);
  running_ = true;
  reader_ = std::thread([this] { Run(); });
}

LinkMonitor::~LinkMonitor() { Stop(); }

void LinkMonitor::Run() {
  std::vector<char> buf(1 << 16);
  pollfd fds[2] = {{sock_, POLLIN, 0}, {wake_, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    bool changed = false;
    for (;;) {
      ssize_t n = recv(sock_, buf.data(), buf.size(), 0);
      if (n < 0) {
        // ENOBUFS: events were dropped; a full relist on the JS side covers it.
        if (errno == ENOBUFS) changed = true;
        break;
      }
      if (n > 0) changed = true;
    }
    if (changed) notify_.NonBlockingCall();
  }
}

void LinkMonitor::Stop() {
  if (!running_) return;
  running_ = false;
  uint64_t one = 1;
  if (write(wake_, &one, sizeof(one)) < 0) { /* the thread also ends when the fd closes */ }
  if (reader_.joinable()) reader_.join();
  notify_.Release();
  close(sock_);
  close(wake_);
}

Napi::Value LinkMonitor::Close(const Napi::CallbackInfo& info) {
  Stop();
  return info.Env().Undefined();
}

}  // namespace ebpf_agent
