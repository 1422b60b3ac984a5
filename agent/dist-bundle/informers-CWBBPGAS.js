import {
  CidrTable,
  addressBytes,
  canonicalIP,
  parseCidr
} from "./chunk-XSLD4COI.js";
import {
  retryDelayMs
} from "./chunk-WNMV4U57.js";

// agent/dist/kubernetes/ip-history.js
var KEEP = 4;
var IpHistory = class {
  retentionMs;
  byIp = /* @__PURE__ */ new Map();
  constructor(retentionMs) {
    this.retentionMs = retentionMs;
  }
  get size() {
    return this.byIp.size;
  }
  /** `owner` has `ip` from `atMs` on; another current owner's time ends there. `same` says when two owners are one. */
  claim(ip, owner, atMs, same = Object.is) {
    let list = this.byIp.get(ip);
    if (!list)
      this.byIp.set(ip, list = []);
    const current = list[list.length - 1];
    if (current && current.untilMs === Infinity) {
      if (same(current.owner, owner)) {
        list[list.length - 1] = { owner, fromMs: current.fromMs, untilMs: Infinity };
        return;
      }
      current.untilMs = atMs;
    }
    list.push({ owner, fromMs: atMs, untilMs: Infinity });
    if (list.length > KEEP + 1)
      list.splice(0, list.length - KEEP - 1);
  }
  /** `owner` gave `ip` up at `atMs` (deleted, or its status lost the address). */
  release(ip, owner, atMs, same = Object.is) {
    const current = this.byIp.get(ip)?.at(-1);
    if (current && current.untilMs === Infinity && same(current.owner, owner))
      current.untilMs = atMs;
  }
  /**
   * The owner for packets counted between `fromMs` and `toMs`: of the owners
   * whose time overlaps the interval, the one that held the address first
   * (packets of a pod that left within the interval were sent before its
   * successor existed); undefined when nobody owned it then.
   */
  lookup(ip, fromMs, toMs) {
    const list = this.byIp.get(ip);
    if (!list)
      return void 0;
    for (const o of list)
      if (o.fromMs <= toMs && o.untilMs >= fromMs)
        return o.owner;
    return void 0;
  }
  /** The current owner, if any. */
  current(ip) {
    const o = this.byIp.get(ip)?.at(-1);
    return o && o.untilMs === Infinity ? o.owner : void 0;
  }
  /** Drops ownerships that ended before `nowMs - retention`. */
  prune(nowMs) {
    const before = nowMs - this.retentionMs;
    for (const [ip, list] of this.byIp) {
      const kept = list.filter((o) => o.untilMs >= before);
      if (!kept.length)
        this.byIp.delete(ip);
      else if (kept.length !== list.length)
        this.byIp.set(ip, kept);
    }
  }
};

// agent/dist/kubernetes/owners.js
var CRONJOB_SUFFIX = /^(.+)-(\d{8,10})$/;
function workloadOf(pod) {
  const refs = pod.ownerReferences ?? [];
  const owner = refs.find((r) => r.controller) ?? refs[0];
  if (!owner?.kind || !owner.name)
    return { kind: "Pod", name: pod.name };
  if (owner.kind === "ReplicaSet") {
    const hash = pod.labels?.["pod-template-hash"];
    if (hash && owner.name.endsWith(`-${hash}`))
      return { kind: "Deployment", name: owner.name.slice(0, -hash.length - 1) };
    return { kind: "ReplicaSet", name: owner.name };
  }
  if (owner.kind === "Job") {
    const m = CRONJOB_SUFFIX.exec(owner.name);
    if (m)
      return { kind: "CronJob", name: m[1] };
    return { kind: "Job", name: owner.name };
  }
  return { kind: owner.kind, name: owner.name };
}

// agent/dist/kubernetes/cluster.js
var sameEndpoint = (a, b) => a.uid === b.uid && a.kind === b.kind;
var ZONE_LABELS = ["topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"];
var REGION_LABELS = ["topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"];
function projectPod(o) {
  const m = o?.metadata;
  if (!m?.uid || !m.name || !m.namespace)
    return void 0;
  const phase = o.status?.phase;
  const finished = phase === "Succeeded" || phase === "Failed";
  const raw = (o.status?.podIPs ?? []).map((p) => p.ip).filter(Boolean);
  if (!raw.length && o.status?.podIP)
    raw.push(o.status.podIP);
  const ips = finished ? [] : raw.map((ip) => canonicalIP(ip)).filter((ip) => ip !== void 0);
  return {
    uid: m.uid,
    namespace: m.namespace,
    name: m.name,
    node: o.spec?.nodeName ?? "",
    hostNetwork: Boolean(o.spec?.hostNetwork),
    ips,
    workload: workloadOf({ name: m.name, labels: m.labels, ownerReferences: m.ownerReferences })
  };
}
function projectNode(o) {
  const m = o?.metadata;
  if (!m?.name)
    return void 0;
  const labels = m.labels ?? {};
  const first = (keys) => keys.map((k) => labels[k]).find((v) => v) ?? "";
  const internalIPs = (o.status?.addresses ?? []).filter((a) => a.type === "InternalIP").map((a) => canonicalIP(a.address ?? "")).filter((ip) => ip !== void 0);
  const podCIDRs = o.spec?.podCIDRs ?? (o.spec?.podCIDR ? [o.spec.podCIDR] : []);
  return { name: m.name, zone: first(ZONE_LABELS), region: first(REGION_LABELS), internalIPs, podCIDRs };
}
function projectService(o) {
  const m = o?.metadata;
  if (!m?.uid || !m.name || !m.namespace)
    return void 0;
  const raw = o.spec?.clusterIPs ?? (o.spec?.clusterIP ? [o.spec.clusterIP] : []);
  const clusterIPs = raw.filter((ip) => ip && ip !== "None").map((ip) => canonicalIP(ip)).filter((ip) => ip !== void 0);
  return { uid: m.uid, namespace: m.namespace, name: m.name, clusterIPs };
}
var ClusterIndex = class {
  now;
  onRelease;
  /** Pod and Service addresses over time. */
  history;
  pods = /* @__PURE__ */ new Map();
  services = /* @__PURE__ */ new Map();
  nodes = /* @__PURE__ */ new Map();
  nodeIPs = /* @__PURE__ */ new Map();
  podCIDRs = new CidrTable();
  /** Node changes mark the address index stale; it is rebuilt at the next lookup (a 1000-node list is one rebuild, not 1000). */
  nodesDirty = false;
  constructor(retentionMs, now = Date.now, onRelease = () => void 0) {
    this.now = now;
    this.onRelease = onRelease;
    this.history = new IpHistory(retentionMs);
  }
  get counts() {
    return { pods: this.pods.size, nodes: this.nodes.size, services: this.services.size };
  }
  node(name) {
    return this.nodes.get(name);
  }
  podEndpoint(p) {
    return { namespace: p.namespace, workload: p.workload.name, kind: p.workload.kind, node: p.node, uid: p.uid };
  }
  upsertPod(key, p) {
    const before = this.pods.get(key);
    this.pods.set(key, p);
    const ips = p.hostNetwork ? [] : p.ips;
    const at = this.now();
    const ep = this.podEndpoint(p);
    for (const ip of ips)
      this.history.claim(ip, ep, at, sameEndpoint);
    if (before && !before.hostNetwork) {
      for (const ip of before.ips)
        if (!ips.includes(ip))
          this.releasePodIP(ip, this.podEndpoint(before), at);
    }
  }
  removePod(key) {
    const p = this.pods.get(key);
    if (!p)
      return;
    this.pods.delete(key);
    if (p.hostNetwork)
      return;
    const at = this.now();
    for (const ip of p.ips)
      this.releasePodIP(ip, this.podEndpoint(p), at);
  }
  releasePodIP(ip, ep, at) {
    const held = this.history.current(ip);
    this.history.release(ip, ep, at, sameEndpoint);
    if (held && sameEndpoint(held, ep))
      this.onRelease(ip);
  }
  upsertService(key, s) {
    const before = this.services.get(key);
    this.services.set(key, s);
    const ep = { namespace: s.namespace, workload: s.name, kind: "Service", uid: s.uid };
    const at = this.now();
    for (const ip of s.clusterIPs)
      this.history.claim(ip, ep, at, sameEndpoint);
    for (const ip of before?.clusterIPs ?? [])
      if (!s.clusterIPs.includes(ip))
        this.history.release(ip, ep, at, sameEndpoint);
  }
  removeService(key) {
    const s = this.services.get(key);
    if (!s)
      return;
    this.services.delete(key);
    const ep = { namespace: s.namespace, workload: s.name, kind: "Service", uid: s.uid };
    for (const ip of s.clusterIPs)
      this.history.release(ip, ep, this.now(), sameEndpoint);
  }
  upsertNode(n) {
    this.nodes.set(n.name, n);
    this.nodesDirty = true;
  }
  removeNode(name) {
    if (this.nodes.delete(name))
      this.nodesDirty = true;
  }
  /** Node updates are rare (labels, addresses): rebuilt whole. */
  rebuildNodeIndex() {
    this.nodesDirty = false;
    this.nodeIPs.clear();
    const cidrs = new CidrTable();
    for (const n of this.nodes.values()) {
      for (const ip of n.internalIPs)
        this.nodeIPs.set(ip, n.name);
      for (const c of n.podCIDRs) {
        try {
          cidrs.add(parseCidr(c), n.name);
        } catch {
        }
      }
    }
    this.podCIDRs = cidrs;
  }
  /**
   * Who had `ip` (canonical text) while packets were counted between `fromMs`
   * and `toMs`: a pod or Service, a node (its InternalIP, hostNetwork pods
   * too), an address in a node's pod CIDR that no known pod had (Unknown,
   * placed on that node), or undefined: not the cluster's.
   */
  resolve(ip, fromMs, toMs) {
    const owner = this.history.lookup(ip, fromMs, toMs);
    if (owner)
      return owner;
    if (this.nodesDirty)
      this.rebuildNodeIndex();
    const node = this.nodeIPs.get(ip);
    if (node)
      return { namespace: "", workload: node, kind: "Node", node };
    if (this.podCIDRs.size) {
      const bytes = addressBytes(ip);
      const onNode = bytes && this.podCIDRs.lookup(bytes);
      if (onNode)
        return { namespace: "", workload: "", kind: "Unknown", node: onNode };
    }
    return void 0;
  }
  prune() {
    this.history.prune(this.now());
  }
};

// agent/dist/kubernetes/informers.js
var PAGE = 100;
var WATCH_SECONDS = 300;
var keyOf = (o) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
var ResourceWatch = class {
  api;
  resource;
  path;
  handlers;
  log;
  onSynced;
  onError;
  stopped = false;
  resourceVersion = "";
  abort;
  timer;
  failures = 0;
  known = /* @__PURE__ */ new Set();
  synced = false;
  /** Lists done (1 after start; more after a watch could not resume). */
  lists = 0;
  constructor(api, resource, path, handlers, log, onSynced = () => void 0, onError = () => void 0) {
    this.api = api;
    this.resource = resource;
    this.path = path;
    this.handlers = handlers;
    this.log = log;
    this.onSynced = onSynced;
    this.onError = onError;
  }
  start() {
    void this.list();
  }
  stop() {
    this.stopped = true;
    if (this.timer)
      clearTimeout(this.timer);
    this.abort?.abort();
  }
  retry(err, what) {
    if (this.stopped)
      return;
    this.onError();
    const delay = retryDelayMs(this.failures);
    if (this.failures === 0)
      this.log.warn("Kubernetes API unreachable: attribution goes on from what is known, retrying", { resource: this.resource, err, retryInMs: delay });
    this.failures++;
    this.timer = setTimeout(() => void what(), delay);
  }
  recovered() {
    if (this.failures > 0)
      this.log.info("Kubernetes API reachable again", { resource: this.resource, failedAttempts: this.failures });
    this.failures = 0;
  }
  async list() {
    if (this.stopped)
      return;
    const seen = /* @__PURE__ */ new Set();
    let next = "";
    try {
      do {
        const q = `?limit=${PAGE}${next ? `&continue=${encodeURIComponent(next)}` : ""}`;
        const page = await this.api.request("GET", this.path + q);
        for (const item of page.items ?? []) {
          const key = keyOf(item);
          seen.add(key);
          this.handlers.upsert(key, item);
        }
        next = page.metadata?.continue ?? "";
        this.resourceVersion = page.metadata?.resourceVersion ?? this.resourceVersion;
      } while (next && !this.stopped);
    } catch (err) {
      return this.retry(err, () => this.list());
    }
    for (const key of this.known)
      if (!seen.has(key))
        this.handlers.remove(key);
    this.known.clear();
    for (const key of seen)
      this.known.add(key);
    this.lists++;
    this.recovered();
    if (!this.synced) {
      this.synced = true;
      this.onSynced();
    }
    this.watch();
  }
  watch() {
    if (this.stopped)
      return;
    let expired = false;
    let watchdog;
    const pet = () => {
      if (watchdog)
        clearTimeout(watchdog);
      watchdog = setTimeout(() => this.abort?.abort(), (WATCH_SECONDS + 30) * 1e3);
    };
    const done = (err) => {
      if (watchdog)
        clearTimeout(watchdog);
      if (this.stopped)
        return;
      if (expired)
        return void this.list();
      if (!err)
        return this.watch();
      this.retry(err, async () => this.watch());
    };
    pet();
    this.abort = this.api.watch(this.path, { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_SECONDS }, (type, o) => {
      const obj = o;
      pet();
      this.recovered();
      if (type === "ERROR") {
        if (obj?.code === 410)
          expired = true;
        this.abort?.abort();
        return;
      }
      if (obj?.metadata?.resourceVersion)
        this.resourceVersion = obj.metadata.resourceVersion;
      if (type === "BOOKMARK")
        return;
      const key = keyOf(obj);
      if (type === "DELETED") {
        this.known.delete(key);
        this.handlers.remove(key);
      } else {
        this.known.add(key);
        this.handlers.upsert(key, obj);
      }
    }, done);
  }
};
var KubernetesEnrichment = class {
  log;
  cluster;
  watches;
  pruneTimer;
  constructor(api, log, opts, now = Date.now) {
    this.log = log;
    const c = this.cluster = new ClusterIndex(opts.historyMs, now, opts.onRelease);
    const synced = () => {
      if (this.watches.every((w) => w.synced))
        this.log.info("Kubernetes enrichment synced", c.counts);
    };
    const counted = (fn) => (...a) => {
      fn(...a);
      opts.onCount?.(c.counts);
    };
    const failed = (resource) => () => opts.onWatchError?.(resource);
    this.watches = [
      new ResourceWatch(api, "nodes", "/api/v1/nodes", {
        upsert: counted((_k, o) => {
          const n = projectNode(o);
          if (n)
            c.upsertNode(n);
        }),
        remove: counted((k) => c.removeNode(k.slice(1)))
      }, log, synced, failed("nodes")),
      new ResourceWatch(api, "pods", "/api/v1/pods", {
        upsert: counted((k, o) => {
          const p = projectPod(o);
          if (p)
            c.upsertPod(k, p);
        }),
        remove: counted((k) => c.removePod(k))
      }, log, synced, failed("pods")),
      new ResourceWatch(api, "services", "/api/v1/services", {
        upsert: counted((k, o) => {
          const s = projectService(o);
          if (s)
            c.upsertService(k, s);
        }),
        remove: counted((k) => c.removeService(k))
      }, log, synced, failed("services"))
    ];
  }
  get synced() {
    return this.watches.every((w) => w.synced);
  }
  start() {
    for (const w of this.watches)
      w.start();
    this.pruneTimer = setInterval(() => this.cluster.prune(), 3e4);
    this.pruneTimer.unref();
  }
  stop() {
    if (this.pruneTimer)
      clearInterval(this.pruneTimer);
    for (const w of this.watches)
      w.stop();
  }
};
export {
  KubernetesEnrichment,
  ResourceWatch
};
