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

export interface DrainResult {
  slot: number;
  /** flow_key (40 B) + flow_stats (32 B) per connection. */
  records: Buffer;
}

export interface TestRunOptions {
  program: string;
  packet: Buffer;
  repeat?: number;
  gsoSegs?: number;
  gsoSize?: number;
  ingressIfindex?: number;
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
  dumpErrno: number;
  /** Taken from the resolution log a dead agent left for this transaction. */
  replayed: boolean;
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

export declare class BpfObject {
  constructor(options: OpenOptions);
  info(): ObjectInfo;
  /** Sums of the per-CPU agent_stats counters, indexed by enum agent_stat. */
  stats(): number[];
  close(options?: { unpin?: boolean }): void;
  attachTc(target: TcTarget & { program: string; replace?: boolean }): { createdQdisc: boolean; programId: number };
  detachTc(target: TcTarget & { destroyQdisc?: boolean }): void;
  queryTc(target: TcTarget): number | null;
  /** Returns the tcx link's fd; closeFd detaches it unless it is pinned (pinPath). */
  attachTcx(target: { ifindex: number; direction: Direction; program: string; pinPath?: string }): number;
  /** flip=false drains the idle slot only (state left by an earlier process). */
  drain(options?: { flip?: boolean }): Promise<DrainResult>;
  /** flow_record (64 B) per overflow delta. */
  consumeOverflow(): Buffer;
  testRun(options: TestRunOptions): { retval: number; durationNs: number };
  /** Every entry of a map no program writes at the time (off the JS thread);
   * interleave adds `records`: key, value, key, value... */
  readMap(name: string, options?: { interleave?: boolean }): Promise<MapContents & { records?: Buffer }>;
  /** A flow map folded per pair off the JS thread: `keys` (flow_key each) and
   * `pairs` (pair_key, bytes u64, packets u64, connections u32: 56 B each). */
  readPairs(flowMap: string, service?: ServiceOptions): Promise<{ count: number; keys: Buffer; pairs: Buffer; service?: ServiceResolution }>;
  /** A copy of flow_records (64 B each) with translated connections' dst set to their backend. */
  resolveRecords(records: Buffer, service: ServiceOptions): Promise<{ records: Buffer; service: ServiceResolution }>;
  updateMap(name: string, keys: Buffer, values: Buffer): void;
  deleteKeys(name: string, keys: Buffer): void;
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

/** Benchmark-only exports (agent/native/src/bench.cc), used by bench/. */
export interface BenchExports {
  /** Loads any BPF object as is; fds stay valid until benchCloseObjects(). */
  benchLoadObject(path: string): { programs: Record<string, number>; maps: Record<string, number> };
  benchCloseObjects(): void;
  benchFdById(kind: 'prog' | 'map', id: number): number;
  benchObjGet(pinnedPath: string): number;
  benchTestRun(progFd: number, packet: Buffer, repeat: number): { retval: number; durationNs: number };
  /** Bulk-inserts `count` synthetic flow_key -> flow_stats entries. */
  benchFillFlows(mapFd: number, options: { count: number; connectionsPerPair: number; ipv6: boolean }): { flows: number; bytes: number; packets: number };
  /** Batch lookup-and-delete plus per-pair sums in C: the drain floor. */
  /** Creates a DNAT'd conntrack entry (ClusterIP -> backend) for each flow benchFillFlows makes, in this netns. */
  benchFillConntrack(options: { start?: number; count: number; connectionsPerPair: number; ipv6: boolean }): { created: number; errors: number };
  benchDrainFloor(mapFd: number): { flows: number; pairs: number; bytes: number; packets: number; seconds: number };
}

export interface NativeAddon extends BenchExports {
  BpfObject: typeof BpfObject;
  LinkMonitor: typeof LinkMonitor;
  ConntrackResolver: typeof ConntrackResolver;
  listLinks(): LinkInfo[];
  closeFd(fd: number): void;
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
  /** Interfaces that carry a default route (IPv4 or IPv6, main table). */
  defaultRouteIfindexes(): number[];
  /** ifindex of the tcx link pinned at path (0: its device is gone); null when none is pinned. */
  tcxPinnedLinkIfindex(path: string): number | null;
  /**
   * Attaches a program pinned at programPath (another component's, e.g. a
   * CNI's) with a tcx link at the head or the tail and pins the link at
   * linkPath; unlinking that pin detaches it. Returns the program id.
   */
  attachTcxPinned(target: { programPath: string; linkPath: string; ifindex: number; direction: Direction; head: boolean }): number;
}
