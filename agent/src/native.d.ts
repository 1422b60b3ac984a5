// The typed contract of the native addon (agent/native). TypeScript validates
// every input before it crosses; the C++ side trusts these types.

/** Thrown by every native call: errno name, number and what was being done. */
export interface NativeError extends Error {
  code: string;
  errno: number;
}

export interface OpenOptions {
  objectPath: string;
  maxFlows: number;
  /** Ring buffer size in bytes: a power of two, at least one page. */
  ringbufBytes: number;
  /** bpffs directory to pin (and reuse) the maps in. */
  pinPath?: string;
  countHostSystemTraffic?: boolean;
  /** The pods' parent cgroup v2 directory (netns filter mode default). */
  podCgroupPath?: string;
  /** Capacity of the pair_totals ledger. */
  maxPairs?: number;
}

/** flow_control: the live slot and the ledger transaction in flight. */
export interface FlowControl {
  activeSlot: number;
  /** 0 none, 1 draining the idle slot, 2 folding ring buffer records. */
  txnKind: number;
  txnEpoch: bigint;
  txnRingEnd: bigint;
}

export interface MapContents {
  count: number;
  keys: Buffer;
  values: Buffer;
}

export interface ObjectInfo {
  loadSeconds: number;
  coarseClock: boolean;
  programs: { name: string; id?: number }[];
  maps: { name: string; maxEntries: number; id?: number; pinPath?: string }[];
}

export type Direction = 'ingress' | 'egress';

export interface TcTarget {
  ifindex: number;
  direction: Direction;
  handle: number;
  priority: number;
}

/** What one service resolution pass found (agent/native/src/conntrack.h). */
export interface ServiceResolution {
  /** Connections moved from a Service address to their backend. */
  translated: number;
  /** To a known Service, with no conntrack entry live or recently destroyed. */
  gone: number;
  /** The same while the DESTROY event socket had overrun. */
  eventsLost: number;
  /** The conntrack dump failed (dumpErrno): nothing was resolved. */
  unavailable: number;
  /** To a known Service with no conntrack answer yet: left in the slot for its next round (a slot read only). */
  deferred: number;
  dumpErrno: number;
  /** Taken from the resolution log a dead agent left for this transaction. */
  replayed: boolean;
  /** The first few connections left under their Service address ("udp [a]:p -> [b]:q"), for the debug log. */
  unresolvedSamples: string[];
}

/** Options of a resolving read: the transaction's epoch keys the resolution log. */
export interface ServiceOptions {
  epoch: bigint;
  /** Absent (EBPF_SERVICE_RESOLUTION=off): only a logged resolution is replayed. */
  resolver?: ConntrackResolver;
}

export declare class ConntrackResolver {
  /** Subscribes to conntrack DESTROY events; retainMs: how long an ended connection's backend is kept. */
  constructor(options: { retainMs: number });
  /** Reads pending DESTROY events; returns how many were of translated connections. */
  poll(): number;
  stats(): { events: number; overruns: number; dumps: number; live: number; destroyed: number; services: number; lastDumpSeconds: number; lastResolveSeconds: number };
  close(): void;
}

/**
 * The loaded flows object. Lifetime: every method returning a Promise runs on
 * a worker thread with this object's map fds and keeps the object alive until
 * it settles; `busy()` counts them. `close()` refuses (throws EBUSY) while any
 * is in flight, as better-sqlite3 refuses to close a busy database: a closed fd
 * number is soon reused by the next open(), and a worker still holding it would
 * read or delete someone else's map. Await every operation, then close.
 * After close() every method throws EBADF.
 */
export declare class BpfObject {
  constructor(options: OpenOptions);
  info(): ObjectInfo;
  /** Sums of the per-CPU agent_stats counters, indexed by enum agent_stat. */
  stats(): number[];
  /** Async operations in flight (each holds this object's map fds). */
  busy(): number;
  /** Throws EBUSY while busy() > 0, and then leaves the object open and usable. Closing twice is harmless. */
  close(options?: { unpin?: boolean }): void;
  attachTc(target: TcTarget & { program: string; replace?: boolean }): { createdQdisc: boolean; programId: number };
  detachTc(target: TcTarget & { destroyQdisc?: boolean }): void;
  queryTc(target: TcTarget): number | null;
  /** Returns the tcx link's fd; closeFd detaches it unless it is pinned (pinPath). */
  attachTcx(target: { ifindex: number; direction: Direction; program: string; pinPath?: string }): number;
  /** Every entry of a map no program writes at the time (off the JS thread);
   * interleave adds `records`: key, value, key, value... */
  readMap(name: string, options?: { interleave?: boolean }): Promise<MapContents & { records?: Buffer }>;
  /** A flow map folded per pair off the JS thread: `keys` (flow_key each, the
   * connections folded), `deferredKeys` (those left for the next drain: their
   * Service's conntrack entry is not there yet) and `pairs` (pair_key, bytes
   * u64, packets u64, connections u32: 56 B each). */
  readPairs(flowMap: string, service?: ServiceOptions): Promise<{ count: number; keys: Buffer; deferredKeys: Buffer; pairs: Buffer; service?: ServiceResolution }>;
  /** A copy of flow_records (64 B each) with translated connections' dst set to their backend. */
  resolveRecords(records: Buffer, service: ServiceOptions): Promise<{ records: Buffer; service: ServiceResolution }>;
  /**
   * Batch writes off the JS thread (a ledger write at 100k pairs is ~200 ms of
   * syscalls). The Buffers are read by the worker: leave them unchanged until
   * the promise settles.
   */
  updateMap(name: string, keys: Buffer, values: Buffer): Promise<void>;
  /** Missing keys are not an error. Same contract on `keys` as updateMap. */
  deleteKeys(name: string, keys: Buffer): Promise<void>;
  /**
   * Empties a drained flow slot (connection_flows, connection_flows_1) of
   * `drained` and keeps `kept`: by putting a fresh map holding only `kept`
   * into the slot when that is cheaper than deleting (`how` 'auto') or when
   * told ('replace'), else by deleting them. A replacement that failed
   * (`replaceError`) falls back to deleting. Same contract on the Buffers as
   * updateMap.
   */
  releaseSlot(flowMap: string, drained: Buffer, kept: Buffer, how?: 'auto' | 'replace' | 'delete'): Promise<{ replaced: boolean; replaceError?: NativeError }>;
  /** One entry, one syscall, on the JS thread: for small bookkeeping maps (tc_qdiscs). */
  updateEntry(name: string, key: Buffer, value: Buffer): void;
  /** One entry, one syscall, on the JS thread; a missing key is not an error. */
  deleteEntry(name: string, key: Buffer): void;
  control(): FlowControl;
  setControl(control: FlowControl): void;
  /** One RCU grace period: every program that saw the old control has returned. */
  waitForPrograms(): Promise<void>;
  /** Committed overflow records from the consumer position (up to limit); moves nothing. */
  ringPeek(limit?: bigint): { records: Buffer; start: bigint; end: bigint };
  ringAdvance(position: bigint): void;
}

export interface LinkInfo {
  ifindex: number;
  name: string;
  /** rtnetlink IFLA_INFO_KIND: veth, bridge, vlan, vxlan, ipip, '' for physical. */
  kind: string;
  link: number;
  /** IFLA_LINK_NETNSID; -1 when the link's peer is in this namespace or it has none. */
  peerNetnsId: number;
  master: number;
  up: boolean;
}

/** One next hop of a route (a multipath route gives one entry per path). */
export interface RouteInfo {
  family: 4 | 6;
  /** Destination network address ('0.0.0.0' / '::' with dstLen 0 for a default route). */
  dst: string;
  dstLen: number;
  /** The next hop's address (RTA_GATEWAY or RTA_VIA), when the route has one. */
  gateway?: string;
  /** Output interface; 0 for routes without one (blackhole, unreachable). */
  ifindex: number;
  /** Routing table id (254 main, 255 local). */
  table: number;
  /** RTN_* route type (1 unicast, 2 local, 3 broadcast, ...). */
  type: number;
  /** RTPROT_* (2 kernel: a connected route made from an address). */
  protocol: number;
}

/** Follows rtnetlink link and route events. */
export declare class LinkMonitor {
  constructor(onChange: () => void);
  close(): void;
}

export interface TcFilterInfo {
  kind?: string;
  priority: number;
  handle: number;
  name?: string;
  programId?: number;
  directAction?: boolean;
}

/**
 * The production addon (ebpf_agent.node). Test- and bench-only entry points
 * are in the separate kubeadapt_testing.node (tests/helpers/testing-addon.ts),
 * which the image does not ship.
 */
export interface NativeAddon {
  BpfObject: typeof BpfObject;
  LinkMonitor: typeof LinkMonitor;
  ConntrackResolver: typeof ConntrackResolver;
  listLinks(): LinkInfo[];
  closeFd(fd: number): void;
  /** Hands the free pages of every malloc arena back to the kernel (malloc_trim). */
  releaseFreedMemory(): void;
  /** Creates an up veth `name` (peer `name`p); returns its ifindex. */
  createTestLink(name: string): number;
  deleteLink(ifindex: number): void;
  /** Filters on the clsact hook, in kernel order; [] without clsact. */
  listTcFilters(ifindex: number, direction: Direction): TcFilterInfo[];
  /** tcx program ids in run order; [] before kernel 6.6. */
  listTcxPrograms(ifindex: number, direction: Direction): number[];
  programName(id: number): string | null;
  /** Every key of the map pinned at path; null when nothing is pinned there. */
  pinnedMapKeys(path: string): Buffer | null;
  /** max_entries of the map pinned at path; null when nothing is pinned there. */
  pinnedMapMaxEntries(path: string): number | null;
  /** Every route of both families (all tables), one entry per next hop. */
  listRoutes(): RouteInfo[];
  /** ifindex of the tcx link pinned at path (0: its device is gone); null when none is pinned. */
  tcxPinnedLinkIfindex(path: string): number | null;
}
