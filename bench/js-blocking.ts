// JS-thread blocking during one collection: how long the event loop is held
// while the agent's own Collector drains a slot of N synthetic connections
// (bench.cc's bulk insert) into the ledger. Measured with
// perf_hooks.monitorEventLoopDelay at 1 ms resolution: its max is the longest
// stretch the JS thread could not serve anything else (a /metrics scrape, a
// link event, a readiness probe). On a busy machine that max also holds other
// processes' preemption, so the time each native call itself spends on the JS
// thread (until it returns, or returns its promise) is summed too: that part
// is the addon's alone. Run: tsx bench/js-blocking.ts [pairs] [connectionsPerPair]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { withSlotFd } from './slots.js';
import { DEFAULT_OBJECT_PATH } from '../agent/src/addon.js';
import { loadTestingAddon } from '../tests/helpers/testing-addon.js';
import { Collector } from '../agent/src/collector/collector.js';
import { Ledger } from '../agent/src/collector/ledger.js';
import { createMetrics } from '../agent/src/metrics/registry.js';
import { quietLogger } from './quiet-log.js';

export interface BlockingRound {
  /** 'new': every pair is new (the first interval after a start); 'known': every pair already has a series. */
  kind: 'new' | 'known';
  wallMs: number;
  maxDelayMs: number;
  p99DelayMs: number;
  meanDelayMs: number;
  /** Per BpfObject method: milliseconds on the JS thread inside the call. */
  nativeSyncMs: Record<string, number>;
}

/** Wraps every method of a BpfObject to sum the time spent inside each call. */
function timed<T extends object>(target: T, into: () => Record<string, number>): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const v = Reflect.get(obj, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const t = process.hrtime.bigint();
        try {
          return v.apply(obj, args);
        } finally {
          const sums = into();
          sums[String(prop)] = (sums[String(prop)] ?? 0) + Number(process.hrtime.bigint() - t) / 1e6;
        }
      };
    },
  });
}

export async function runJsBlocking(pairs: number, connectionsPerPair: number, rounds = 3): Promise<BlockingRound[]> {
  const addon = loadTestingAddon();
  const flows = pairs * connectionsPerPair;
  const bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: flows, ringbufBytes: 1 << 16, maxPairs: Math.max(131072, pairs * 2) });
  const out: BlockingRound[] = [];
  try {
    const log = quietLogger();
    let sums: Record<string, number> = {};
    const ledger = new Ledger({ pairTtlMs: 3_600_000, trackConnections: true });
    const collector = new Collector(timed(bpf, () => sums), ledger, createMetrics(ledger.view), log, {
      intervalMs: 3_600_000, maxFlows: flows, dumpMaps: false,
    });
    await collector.restore(Math.max(131072, pairs * 2));
    let active = 0;
    for (let r = 0; r <= rounds; r++) {
      withSlotFd(addon, bpf, active, (fd) => addon.benchFillFlows(fd, { count: flows, connectionsPerPair, ipv6: false }));
      const h = monitorEventLoopDelay({ resolution: 1 });
      // Let the fill's own blocking pass before the histogram starts.
      await new Promise((resolve) => setTimeout(resolve, 20));
      h.enable();
      sums = {};
      const t = process.hrtime.bigint();
      await collector.collect();
      const wallMs = Number(process.hrtime.bigint() - t) / 1e6;
      // One more turn so a block at the very end is sampled.
      await new Promise((resolve) => setTimeout(resolve, 5));
      h.disable();
      if (log.errors.length) throw new Error(`collector failed: ${log.errors.join('; ')}`);
      active ^= 1;
      out.push({ kind: r === 0 ? 'new' : 'known', wallMs, maxDelayMs: h.max / 1e6, p99DelayMs: h.percentile(99) / 1e6, meanDelayMs: h.mean / 1e6, nativeSyncMs: sums });
    }
  } finally {
    bpf.close();
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pairs = Number(process.argv[2] ?? 100_000);
  const perPair = Number(process.argv[3] ?? 2);
  const rounds = await runJsBlocking(pairs, perPair);
  console.log(`${pairs} pairs, ${perPair} connections each (${pairs * perPair} flows)`);
  for (const r of rounds) {
    console.log(`${r.kind.padEnd(5)} wall ${r.wallMs.toFixed(1)} ms  event-loop delay max ${r.maxDelayMs.toFixed(1)} ms p99 ${r.p99DelayMs.toFixed(1)} ms mean ${r.meanDelayMs.toFixed(2)} ms`);
    console.log(`      native calls on the JS thread: ${Object.entries(r.nativeSyncMs).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} ms`);
  }
}
