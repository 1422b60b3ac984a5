// SPDX-License-Identifier: Apache-2.0
// Where a connection to a Service really went. The TC programs count a pod's
// packet before the node's DNAT, so its flow key holds the ClusterIP (or the
// node address of a NodePort); the connection's conntrack entry has the
// backend as its reply tuple's source. The agent follows conntrack's NEW and
// DESTROY events (nf_conntrack_netlink) and keeps the DNAT'd connections: the
// live ones, and for a while the ones that ended (TCP RST, short UDP
// exchanges), so a drain only looks them up. One dump of the DNAT'd entries
// (filtered by status in the kernel) seeds the table at the first drain and
// after the event socket overran. Nothing of this runs on the packet path; a
// dump per drain cost 5x the drain at 100k flows (docs/architecture.md).
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "flow_table.h"
#include "flows.h"

namespace ebpf_agent {

struct FlowKeyHash {
  size_t operator()(const flow_key& k) const;
};
struct FlowKeyEq {
  bool operator()(const flow_key& a, const flow_key& b) const;
};

// What one resolution pass found, for kubeadapt_unresolved_service_flows_total
// and the startup log.
struct ResolveCounts {
  uint32_t translated = 0;   // connections moved from a Service address to their backend
  uint32_t gone = 0;         // to a known Service, but no conntrack entry live or recently destroyed
  uint32_t events_lost = 0;  // the same while the DESTROY event socket had overrun (ENOBUFS)
  uint32_t unavailable = 0;  // the conntrack dump failed: nothing could be resolved
  uint32_t deferred = 0;     // to a known Service, no answer yet: left in the slot for its next round
  int dump_errno = 0;
  bool replayed = false;     // taken from the resolution log of a transaction a dead agent left
  // The first few unresolved connections, for the debug log: which 5-tuple, so
  // it can be matched against `conntrack -E` or a capture.
  static constexpr size_t kSamples = 8;
  std::vector<flow_key> unresolved_samples;
};

struct Backend {
  uint8_t addr[16];
};

// A connection held back for one more slot round: the backend of a resolution
// whose connection stays in its flow map (no conntrack answer yet).
Backend DeferredBackend();
bool IsDeferred(const Backend& b);

class Conntrack {
 public:
  // retain_ms: how long a destroyed connection's backend is kept (the agent
  // passes two collection intervals, so any drain after its end finds it).
  explicit Conntrack(uint64_t retain_ms);
  ~Conntrack();
  // Subscribes to NEW and DESTROY events; returns 0 or errno.
  int Open();
  void Close();
  // Reads the pending events (non-blocking); returns how many were of translated connections.
  uint32_t Poll();
  // Resolves n flow keys (at base + i * stride): out gets (index, backend)
  // for each translated one. Reads pending events first; dumps when the table needs seeding.
  // With may_defer, a connection to a known Service that conntrack does not
  // know yet gets DeferredBackend() the first time (its entry can be confirmed
  // after the program counted its first packet: the caller leaves it in the
  // slot), and counts as unresolved only the second time.
  void Resolve(const uint8_t* base, size_t stride, uint32_t n, bool may_defer,
               std::vector<std::pair<uint32_t, Backend>>& out, ResolveCounts& counts);
  struct Stats {
    uint64_t events = 0, overruns = 0, dumps = 0, live = 0, destroyed = 0, services = 0;
    double last_dump_seconds = 0;
    double last_resolve_seconds = 0;  // the last Resolve, lookups included
  };
  Stats GetStats();

 private:
  int Dump(FlowTable<Backend>& live);
  void Learn(const flow_key& orig, uint64_t now_ms);
  void ExpireLocked(uint64_t now_ms);
  uint32_t PollLocked();

  std::mutex mu_;
  int events_fd_ = -1;
  uint64_t retain_ms_;
  struct Destroyed {
    Backend backend;
    uint64_t at_ms;
  };
  FlowTable<Backend> live_;
  FlowTable<Destroyed> destroyed_;
  // The table misses what happened before the subscription or during an overrun: dump.
  bool resync_ = true;
  // Entries made before the subscription send no DESTROY event (the kernel adds
  // the event extension only while someone listens): a periodic dump replaces
  // the table so they do not stay in it for ever.
  uint64_t next_resync_ms_ = 0;
  // Service addresses seen translated (family, dst, dst_port; the rest zero)
  // and when: a flow to one of them that cannot be resolved is a
  // Service flow left under its Service address, and is counted as such.
  FlowTable<uint64_t> services_;
  // Connections deferred once, and when.
  FlowTable<uint64_t> deferred_;
  uint64_t lost_until_ms_ = 0;
  Stats stats_;
};

// The conntrack resolver as a JS object: new ConntrackResolver({retainMs}),
// poll(), stats(), close(). Drains share its Conntrack (a shared_ptr), so a
// worker in flight keeps it alive past close().
class ConntrackResolver : public Napi::ObjectWrap<ConntrackResolver> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  static bool IsResolver(Napi::Env env, Napi::Value v);
  explicit ConntrackResolver(const Napi::CallbackInfo& info);
  std::shared_ptr<Conntrack> conntrack() const { return ct_; }

 private:
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value GetStats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  std::shared_ptr<Conntrack> ct_;
  static Napi::FunctionReference* constructor_;
};

// The resolution of one transaction, made durable before it is applied
// (service.cc): replays the log when it already holds this epoch, else
// resolves with ct (when there is one) and writes the log.
int ResolveWithLog(int log_fd, uint64_t epoch, Conntrack* ct, const uint8_t* base, size_t stride, uint32_t n,
                   bool may_defer, std::vector<std::pair<uint32_t, Backend>>& out, ResolveCounts& counts);

Napi::Object ResolveCountsToJs(Napi::Env env, const ResolveCounts& c);

}  // namespace ebpf_agent
