// Drain: a flow map filled with N synthetic connections (bench.cc's bulk
// insert), emptied and folded into series by the agent's own Collector, end to
// end (slot flip, grace period, batch lookup, fold, pair_totals, slot release,
// per-pair aggregation, prom-client counters). The floor drains the same map
// in a C loop with per-pair sums and nothing else.
import { DEFAULT_OBJECT_PATH } from '../agent/src/addon.js';
import { loadTestingAddon as loadAddon } from '../tests/helpers/testing-addon.js';
import { aggregateDrained } from './js-fold.js';
import { Collector } from '../agent/src/collector/collector.js';
import { createMetrics } from '../agent/src/metrics/registry.js';
import { Ledger } from '../agent/src/collector/ledger.js';
import { quietLogger } from './quiet-log.js';
import { withSlotFd } from './slots.js';
import { spread, type Spread } from './stats.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface DrainOptions {
  sizes: number[];
  rounds: number;
  connectionsPerPair: number;
}

export interface DrainResult {
  flows: number;
  pairs: number;
  /** Seconds per drain, end to end through Collector.collect(). */
  endToEnd: Spread;
  /** Its parts, measured in separate rounds: the addon's drain() and the fold into pairs. */
  nativeDrain: Spread;
  fold: Spread;
  floor: Spread;
  flowsPerSecond: number;
  floorFlowsPerSecond: number;
  /** endToEnd / floor, per round. */
  vsFloor: Spread;
  /** Seconds per drain in each addon call Collector.collect() awaited, and the rest (JavaScript). */
  phases: Record<string, Spread>;
}

/** The addon calls a collection waits on, timed from the call to the settled promise. */
const TIMED = ['waitForPrograms', 'readPairs', 'updateMap', 'releaseSlot'] as const;

/**
 * The BPF object as the collector sees it, every call in TIMED timed into
 * `spent` (seconds, summed per name): where a collection's time goes, without
 * a timer in the agent.
 */
function timedObject<T extends object>(target: T, spent: Map<string, number>): T {
  return new Proxy(target, {
    get(t, name, receiver) {
      const v = Reflect.get(t, name, receiver);
      if (typeof v !== 'function' || !(TIMED as readonly (string | symbol)[]).includes(name)) return typeof v === 'function' ? v.bind(t) : v;
      return (...args: unknown[]) => {
        const from = process.hrtime.bigint();
        const add = () => spent.set(name as string, (spent.get(name as string) ?? 0) + seconds(from));
        return (v.apply(t, args) as Promise<unknown>).finally(add);
      };
    },
  });
}

/**
 * A full GC. The TypeScript fold measured between two collections leaves
 * ~60 MiB of maps and strings behind, which no agent makes; without this the
 * next collection paid for collecting them (a 10-25 ms mark-compact each).
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

export async function runDrain(o: DrainOptions): Promise<DrainResult[]> {
  const addon = loadAddon();
  const out: DrainResult[] = [];
  for (const n of o.sizes) {
    const bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: n, maxPairs: Math.max(1024, n + 1), ringbufBytes: 1 << 16 });
    try {
      // Programs write slot 0 after load; every drain flips to the other one.
      let active = 0;
      const fill = (slot: number) => {
        const r = withSlotFd(addon, bpf, slot, (fd) => addon.benchFillFlows(fd, { count: n, connectionsPerPair: o.connectionsPerPair, ipv6: false }));
        if (r.flows !== n) throw new Error(`filled ${r.flows} of ${n} flows`);
        return r;
      };
      const log = quietLogger();
      const ledger = new Ledger({ pairTtlMs: 3_600_000, trackConnections: true });
      const metrics = createMetrics(ledger.view);
      const spent = new Map<string, number>();
      const collector = new Collector(timedObject(bpf, spent), ledger, metrics, log, { intervalMs: 3_600_000, maxFlows: n, dumpMaps: false });
      await collector.restore(Math.max(1024, n + 1));
      const phases: Record<string, number[]> = Object.fromEntries([...TIMED, 'javascript'].map((p) => [p, []]));
      const e2e: number[] = [], native: number[] = [], fold: number[] = [], floor: number[] = [], ratio: number[] = [];
      let pairs = 0;
      // What the collector must have exported so far, every round's fill summed: counts are exact or the bench fails.
      const expected = { bytes: 0, packets: 0 };
      const exported = (name: 'bytes' | 'packets') => {
        const v = ledger.view, c = v.column(name);
        let sum = 0;
        for (let row = 0; row < v.end; row++) if (v.live(row)) sum += c[row]!;
        return sum;
      };
      // One warm-up round creates the series, as the first interval of a node would.
      for (let r = 0; r <= o.rounds; r++) {
        const into = fill(active);
        expected.bytes += into.bytes;
        expected.packets += into.packets;
        spent.clear();
        collectGarbage();
        let t = process.hrtime.bigint();
        await collector.collect();
        const e = seconds(t);
        const inAddon = [...spent.values()].reduce((a, b) => a + b, 0);
        if (log.errors.length) throw new Error(`collector failed: ${log.errors.join('; ')}`);
        if (exported('bytes') !== expected.bytes || exported('packets') !== expected.packets) {
          throw new Error(`the collector exported ${exported('bytes')} B ${exported('packets')} packets, filled ${expected.bytes} / ${expected.packets}`);
        }
        active ^= 1;

        const filled = fill(active);
        const f = withSlotFd(addon, bpf, active, (fd) => addon.benchDrainFloor(fd));
        if (f.flows !== n || f.bytes !== filled.bytes || f.packets !== filled.packets) {
          throw new Error(`floor drained ${f.flows} flows ${f.bytes} B ${f.packets} packets, filled ${n} / ${filled.bytes} / ${filled.packets}`);
        }
        pairs = f.pairs;

        fill(active);
        t = process.hrtime.bigint();
        const { records, slot } = await bpf.drain();
        const nd = seconds(t);
        if (slot !== active) throw new Error(`drained slot ${slot}, expected ${active}`);
        active ^= 1;
        t = process.hrtime.bigint();
        const folded = aggregateDrained(records);
        const fd = seconds(t);
        let bytes = 0, packets = 0, connections = 0;
        for (const p of folded.values()) {
          bytes += p.bytes;
          packets += p.packets;
          connections += p.connections;
        }
        if (folded.size !== f.pairs || bytes !== f.bytes || packets !== f.packets || connections !== n) {
          throw new Error(`folded ${folded.size} pairs ${bytes} B ${packets} packets ${connections} connections, the C floor ${f.pairs} / ${f.bytes} / ${f.packets} / ${n}`);
        }
        if (r === 0) continue;
        for (const p of TIMED) phases[p]!.push(spent.get(p) ?? 0);
        phases.javascript!.push(e - inAddon);
        e2e.push(e);
        floor.push(f.seconds);
        ratio.push(e / f.seconds);
        native.push(nd);
        fold.push(fd);
      }
      const e2eS = spread(e2e);
      const floorS = spread(floor);
      out.push({
        flows: n, pairs,
        endToEnd: e2eS, nativeDrain: spread(native), fold: spread(fold), floor: floorS,
        flowsPerSecond: n / e2eS.median, floorFlowsPerSecond: n / floorS.median, vsFloor: spread(ratio),
        phases: Object.fromEntries(Object.entries(phases).map(([p, v]) => [p, spread(v)])),
      });
    } finally {
      bpf.close();
    }
  }
  return out;
}
