// Service resolution (issue 12), measured against a baseline in the same run:
//  - hot path: tc_pod_egress per packet to a pod and to a ClusterIP (the
//    program does not know the difference: resolution runs at drain time);
//  - drain: N synthetic connections drained end to end by the Collector with
//    resolution off (baseline), on with nothing translated, and on with every
//    connection DNAT'd (N conntrack entries ClusterIP -> backend created over
//    netlink). Runs in a network namespace of its own (the conntrack table is
//    per namespace): the parent makes it and starts this file inside it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { DEFAULT_OBJECT_PATH } from '../agent/src/addon.js';
import { loadTestingAddon } from '../tests/helpers/testing-addon.js';
import { Ledger } from '../agent/src/collector/ledger.js';
import { Collector } from '../agent/src/collector/collector.js';
import { createMetrics } from '../agent/src/metrics/registry.js';
import type { ConntrackResolver } from '../agent/src/native.js';
import { ETH_P_IP, IPPROTO, frame, ipv4, tcp } from '../tests/bpf/packets.js';
import { quietLogger } from './quiet-log.js';
import { withSlotFd } from './slots.js';
import { spread, type Spread } from './stats.js';

export interface ServiceOptions {
  flows: number;
  connectionsPerPair: number;
  rounds: number;
  repeat: number;
}

export interface ServiceResult {
  flows: number;
  /** ns per packet, tc_pod_egress via BPF_PROG_TEST_RUN (flow already in the map). */
  hotToPod: Spread;
  hotToClusterIp: Spread;
  hotRatio: number;
  /** Seconds per Collector.collect() of N flows. */
  drainOff: Spread;
  drainUntranslated: Spread;
  drainTranslated: Spread;
  /** Per round, against a baseline drained in the same round: the target is at most 1.5. */
  translatedRatio: Spread;
  untranslatedRatio: Spread;
  /** Seconds of the last conntrack dump (the table seeded at the first drain, empty here). */
  dumpSeconds: number;
  /** Seconds of the look-ups inside each translated drain (Conntrack::Resolve). */
  resolveSeconds: Spread;
  /** ns of agent CPU per NEW event read (once per translated connection, off the drain). */
  eventNs: number;
  /** The in-kernel alternative, not shipped: ns per packet of a program without and with one bpf_skb_ct_lookup. */
  kfunc: { none: Spread; hit: Spread; miss: Spread; hits: number; misses: number };
  conntrackEntries: number;
}

const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

export const CT_LOOKUP_OBJECT = fileURLToPath(new URL('./build/ct_lookup.bpf.o', import.meta.url));

/**
 * bpf_skb_ct_lookup from a TC program (bench/ct_lookup.bpf.c) on a packet of
 * flow 0, whose conntrack entry benchFillConntrack made (hit), and of a flow
 * without one (miss), against the same program without the lookup.
 */
function kfuncLookup(o: ServiceOptions): ServiceResult['kfunc'] {
  const addon = loadTestingAddon();
  const obj = addon.benchLoadObject(CT_LOOKUP_OBJECT);
  try {
    const hitPacket = frame(ETH_P_IP, ipv4('10.244.0.1', '10.100.0.0', tcp(10000, 80, 10), { protocol: IPPROTO.tcp }));
    const missPacket = frame(ETH_P_IP, ipv4('10.244.0.1', '10.100.0.0', tcp(9999, 80, 10), { protocol: IPPROTO.tcp }));
    const run = (prog: string, packet: Buffer) => {
      const ns: number[] = [];
      for (let r = 0; r < o.rounds; r++) ns.push(addon.benchTestRun(obj.programs[prog]!, packet, o.repeat).durationNs);
      return spread(ns);
    };
    const none = run('tc_ct_none', hitPacket);
    const hit = run('tc_ct_lookup', hitPacket);
    const miss = run('tc_ct_lookup', missPacket);
    // What the lookups found, summed over CPUs: proof that "hit" hit.
    const dump = spawnSync('bpftool', ['-j', 'map', 'dump', 'name', 'ct_results'], { encoding: 'utf8' });
    const rows = JSON.parse(dump.stdout) as { formatted: { key: number; values: { value: number }[] } }[];
    const sum = (k: number) => rows.filter((r) => r.formatted.key === k).flatMap((r) => r.formatted.values).reduce((a, v) => a + v.value, 0);
    const runs = o.rounds * o.repeat;
    return { none, hit, miss, hits: sum(0) - runs /* tc_ct_none counted its IPv4 packets at 0 */, misses: sum(1) };
  } finally {
    addon.benchCloseObjects();
  }
}

async function child(o: ServiceOptions): Promise<ServiceResult> {
  const addon = loadTestingAddon();
  const n = o.flows;

  // Hot path: the same program and map, a packet to a pod and one to a ClusterIP.
  const hot = (dst: string) => {
    const bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: 1024, ringbufBytes: 1 << 16 });
    try {
      const packet = frame(ETH_P_IP, ipv4('10.244.1.10', dst, tcp(40000, 80, 10), { protocol: IPPROTO.tcp }));
      bpf.testRun({ program: 'tc_pod_egress', packet, repeat: 1000 });
      const ns: number[] = [];
      for (let r = 0; r < o.rounds; r++) ns.push(bpf.testRun({ program: 'tc_pod_egress', packet, repeat: o.repeat }).durationNs);
      return spread(ns);
    } finally {
      bpf.close();
    }
  };
  const hotToPod = hot('10.244.2.20');
  const hotToClusterIp = hot('10.96.0.10');

  /** A map and a Collector draining it; `resolver` undefined: resolution off. */
  const setup = (resolver: ConntrackResolver | undefined) => {
    const bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: n, ringbufBytes: 1 << 16 });
    const log = quietLogger();
    const ledger = new Ledger({ pairTtlMs: 3_600_000, trackConnections: true });
    const metrics = createMetrics(ledger.view);
    const collector = new Collector(bpf, ledger, metrics, log, { intervalMs: 3_600_000, maxFlows: n, dumpMaps: false, resolver });
    const restored = collector.restore(Math.max(131072, n * 2));
    let active = 0;
    return {
      metrics,
      async round(): Promise<number> {
        await restored;
        withSlotFd(addon, bpf, active, (fd) => addon.benchFillFlows(fd, { count: n, connectionsPerPair: o.connectionsPerPair, ipv6: false }));
        const t = process.hrtime.bigint();
        await collector.collect();
        const s = seconds(t);
        if (log.errors.length) throw new Error(`collector failed: ${log.errors.join('; ')}`);
        active ^= 1;
        return s;
      },
      close() {
        bpf.close();
      },
    };
  };
  /** Rounds alternate between the baseline and the case, so both see the same machine load. */
  const compare = async (resolver: ConntrackResolver) => {
    const base = setup(undefined), with_ = setup(resolver);
    try {
      await base.round();
      await with_.round(); // warm-up: the series are created, the table seeded
      const b: number[] = [], w: number[] = [], ratio: number[] = [], resolve: number[] = [];
      for (let r = 0; r < o.rounds; r++) {
        b.push(await base.round());
        w.push(await with_.round());
        resolve.push(resolver.stats().lastResolveSeconds);
        ratio.push(w[r]! / b[r]!);
      }
      return { base: spread(b), with: spread(w), ratio: spread(ratio), resolve: spread(resolve), metrics: with_.metrics };
    } finally {
      base.close();
      with_.close();
    }
  };
  const resolver = new addon.ConntrackResolver({ retainMs: 60_000 });
  try {
    const untranslated = await compare(resolver);
    // New connections arrive as NEW events, read on the agent's 250 ms timer:
    // created in chunks a node could see between two polls, each read and timed.
    const chunk = Math.min(n, 10_000);
    let pollSeconds = 0, events = 0;
    for (let start = 0; start < n; start += chunk) {
      const made = addon.benchFillConntrack({ start, count: Math.min(chunk, n - start), connectionsPerPair: o.connectionsPerPair, ipv6: false });
      if (made.errors) throw new Error(`creating conntrack entries: ${made.errors} of ${chunk} failed`);
      const t = process.hrtime.bigint();
      events += resolver.poll();
      pollSeconds += seconds(t);
    }
    if (resolver.stats().overruns) throw new Error('the event socket overran: the figures would include a resync dump');
    if (events !== n) throw new Error(`read ${events} NEW events of translated connections, created ${n}`);
    const translated = await compare(resolver);
    const kfunc = kfuncLookup(o);
    const stats = resolver.stats();
    return {
      flows: n, hotToPod, hotToClusterIp, hotRatio: hotToClusterIp.median / hotToPod.median,
      drainOff: translated.base, drainUntranslated: untranslated.with, drainTranslated: translated.with,
      translatedRatio: translated.ratio, untranslatedRatio: untranslated.ratio,
      dumpSeconds: stats.lastDumpSeconds, conntrackEntries: stats.live, resolveSeconds: translated.resolve,
      eventNs: (pollSeconds / events) * 1e9,
      kfunc,
    };
  } finally {
    resolver.close();
  }
}

export async function runService(o: ServiceOptions): Promise<ServiceResult> {
  const netns = `kabench-svc-${randomBytes(3).toString('hex')}`;
  spawnSync('ip', ['netns', 'add', netns], { stdio: 'inherit' });
  try {
    const r = spawnSync('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '--import=tsx', fileURLToPath(import.meta.url), JSON.stringify(o)], {
      encoding: 'utf8', maxBuffer: 16 << 20,
    });
    if (r.status !== 0) throw new Error(`bench service child exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as ServiceResult;
  } finally {
    spawnSync('ip', ['netns', 'del', netns]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  child(JSON.parse(process.argv[2]) as ServiceOptions).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
