// The testing addon (agent/native/src/testing.cc, target kubeadapt_testing):
// the production addon's exports built from the same sources, plus the entry
// points only tests and bench/ use. The agent never loads it and the image
// does not ship it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BpfObject, Direction, NativeAddon, OpenOptions } from '../../agent/src/native.js';

export const TESTING_ADDON_PATH = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'agent', 'native', 'build', 'Release', 'kubeadapt_testing.node');

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

/** BpfObject with the test-only methods compiled in (KUBEADAPT_TESTING). */
export interface TestingBpfObject extends BpfObject {
  /** Flip, grace period, lookup-and-delete in one call; flip=false drains the idle slot only. */
  drain(options?: { flip?: boolean }): Promise<DrainResult>;
  /** flow_record (64 B) per overflow delta: peek everything and release it. */
  consumeOverflow(): Buffer;
  testRun(options: TestRunOptions): { retval: number; durationNs: number };
  /**
   * Many frames in one call: frame i is frames[ends[i-1]..ends[i]) (ends
   * ascending, within frames), its ctx gsoSize[i]/gsoSegs[i] (all three arrays
   * the same length). errnos[i] is 0 when frame i ran, else why the kernel
   * refused it (retvals[i] then 0).
   */
  testRunBatch(options: { program: string; frames: Buffer; ends: Uint32Array; gsoSize: Uint32Array; gsoSegs: Uint32Array }): { retvals: Int32Array; errnos: Int32Array };
}

/** Benchmark-only exports (agent/native/src/bench.cc), used by bench/. */
export interface BenchExports {
  /** Loads any BPF object as is; fds stay valid until benchCloseObjects(). */
  benchLoadObject(path: string): { programs: Record<string, number>; maps: Record<string, number> };
  benchCloseObjects(): void;
  /** A new fd of a program or map by id: close it with closeFd. */
  benchFdById(kind: 'prog' | 'map', id: number): number;
  benchObjGet(pinnedPath: string): number;
  benchTestRun(progFd: number, packet: Buffer, repeat: number): { retval: number; durationNs: number };
  /** The same run on one thread per CPU, started together: ns per packet on each. */
  benchTestRunParallel(progFd: number, packet: Buffer, repeat: number, cpus: number[]): number[];
  /** Bulk-inserts `count` synthetic flow_key -> flow_stats entries. */
  benchFillFlows(mapFd: number, options: { count: number; connectionsPerPair: number; ipv6: boolean }): { flows: number; bytes: number; packets: number };
  /** Creates a DNAT'd conntrack entry (ClusterIP -> backend) for each flow benchFillFlows makes, in this netns. */
  benchFillConntrack(options: { start?: number; count: number; connectionsPerPair: number; ipv6: boolean }): { created: number; errors: number };
  /** Batch lookup-and-delete plus per-pair sums in C: the drain floor. */
  benchDrainFloor(mapFd: number): { flows: number; pairs: number; bytes: number; packets: number; seconds: number };
}

export interface TestingAddon extends Omit<NativeAddon, 'BpfObject'>, BenchExports {
  BpfObject: new (options: OpenOptions) => TestingBpfObject;
  /**
   * Attaches a program pinned at programPath (another component's, e.g. a
   * CNI's) with a tcx link at the head or the tail and pins the link at
   * linkPath; unlinking that pin detaches it. Returns the program id.
   */
  attachTcxPinned(target: { programPath: string; linkPath: string; ifindex: number; direction: Direction; head: boolean }): number;
}

let cached: TestingAddon | undefined;

export function loadTestingAddon(): TestingAddon {
  if (cached) return cached;
  if (!existsSync(TESTING_ADDON_PATH)) throw new Error(`testing addon not built: ${TESTING_ADDON_PATH} is missing (run: npm run build)`);
  cached = createRequire(import.meta.url)(TESTING_ADDON_PATH) as TestingAddon;
  return cached;
}
