// Turns bench results into the printed tables and the target verdicts.
import type { DrainResult } from './drain.js';
import type { ExpositionResult } from './exposition.js';
import type { FootprintResult, FootprintScenario } from './footprint.js';
import type { KindResult } from './perpacket.js';
import type { ContentionResult } from './contention.js';
import { MIN_QUIET_ROUNDS, QUIET_OTHER_SHARE, type ThroughputCase } from './throughput.js';
import type { ServiceResult } from './service.js';
import type { CostResult } from './cost.js';
import { SHIPPED_NODE_FLAGS } from './node-flags.js';
import { atLeast, atMost, atMostInterval, fmtSpread, mapSpreadDecreasing, notJudged, round, spread, table, type Spread, type Target, SINGLE_VALUE_NOISE } from './stats.js';

const scale = (s: Spread, f: number): Spread => ({ median: s.median * f, min: s.min * f, max: s.max * f, q1: s.q1 * f, q3: s.q3 * f });

/** The issue's figures, measured on this machine with BPF_PROG_TEST_RUN. */
export const PEER_NS = 78;
export const ISSUE_EMPTY_NS = 14;
const MIB = 2 ** 20;

interface Results {
  perpacket?: KindResult[];
  contention?: ContentionResult;
  drain?: DrainResult[];
  exposition?: ExpositionResult[];
  footprint?: FootprintResult;
  throughput?: ThroughputCase[];
  service?: ServiceResult;
  cost?: CostResult;
}

export function report(r: Results): { text: string; targets: Target[] } {
  const parts: string[] = [];
  const targets: Target[] = [];

  if (r.perpacket) {
    parts.push('Per-packet cost, ns (BPF_PROG_TEST_RUN; median [min-max] over rounds; ratios taken within a round)');
    parts.push(table([
      ['packet', 'empty', 'floor per-CPU', 'floor shared', 'ours', 'ours/floor', 'ours/peer*', 'insert floor', 'insert ours', 'insert ratio'],
      ...r.perpacket.map((k) => {
        const peer = k.hotVsEmpty.median * (ISSUE_EMPTY_NS / PEER_NS);
        return [k.kind, round(k.hot.empty.median, 1), round(k.hot.floor_percpu.median, 1), round(k.hot.floor_shared.median, 1), round(k.hot.ours.median, 1),
          fmtSpread(k.hotVsPercpu), round(peer, 2), round(k.insert.floor_percpu.median, 0), round(k.insert.ours.median, 0), fmtSpread(k.insertVsPercpu)];
      }),
    ]));
    parts.push(`* ours/empty within each round, times the issue's ${ISSUE_EMPTY_NS} ns empty / ${PEER_NS} ns peer: the peer's figure scaled to this run`);
    // The worst packet kind's rounds, by median.
    const worst = (f: (k: KindResult) => Spread) => r.perpacket!.map(f).reduce((a, b) => (b.median > a.median ? b : a));
    targets.push(atMost('hot path / per-CPU floor (worst packet kind)', worst((k) => k.hotVsPercpu), 1.25));
    targets.push(atMost('hot path / peer (worst kind, scaled by the empty program)', worst((k) => scale(k.hotVsEmpty, ISSUE_EMPTY_NS / PEER_NS)), 0.5));
    targets.push(atMost('insert path / per-CPU floor insert (worst kind)', worst((k) => k.insertVsPercpu), 2));
  }

  if (r.contention) {
    const c = r.contention;
    parts.push(`\nOne flow from two CPUs at once (${c.packet}, CPUs ${c.cpus.join(' and ')}): ns per packet, median [min-max] over rounds`);
    parts.push(table([
      ['program', 'one CPU', 'two CPUs at once', 'slowdown'],
      ...(['floor_percpu', 'floor_shared', 'ours'] as const).map((p) => [p, fmtSpread(c.single[p], 1), fmtSpread(c.parallel[p], 1), fmtSpread(c.slowdown[p])]),
    ]));
    parts.push(`ours (shared entry, atomic adds) / per-CPU floor, both on two CPUs: ${fmtSpread(c.oursVsPercpuParallel)}`);
  }

  if (r.drain) {
    parts.push('\nDrain: full flow map -> series (Collector.collect(), end to end) vs the C floor (batch lookup-and-delete + per-pair sums)');
    parts.push(table([
      ['flows', 'pairs', 'end to end s', 'flows/s', 'floor s', 'floor flows/s', 'e2e/floor', 'addon drain() s', 'fold s'],
      ...r.drain.map((d) => [d.flows, d.pairs, fmtSpread(d.endToEnd, 3), Math.round(d.flowsPerSecond), fmtSpread(d.floor, 3), Math.round(d.floorFlowsPerSecond),
        fmtSpread(d.vsFloor), round(d.nativeDrain.median, 3), round(d.fold.median, 3)]),
    ]));
    parts.push('Where Collector.collect() spends it, s (median [min-max]): the addon calls it awaits, and the JavaScript between them');
    const names = Object.keys(r.drain[0]!.phases);
    parts.push(table([['flows', ...names], ...r.drain.map((d) => [d.flows, ...names.map((p) => fmtSpread(d.phases[p]!, 3))])]));
    const big = r.drain[r.drain.length - 1]!;
    targets.push(atLeast(`drain end to end at ${big.flows} flows, flows/s`, mapSpreadDecreasing(big.endToEnd, (s) => big.flows / s), 1_000_000, 'flows/s'));
    targets.push(atMost(`drain end to end / C floor at ${big.flows} flows`, big.vsFloor, 3));
  }

  if (r.exposition) {
    parts.push('\nExposition: /metrics text (render + encode), 3 series per IP pair');
    parts.push(table([
      ['pairs', 'lines', 'MiB', 'prom-client s', 'renderMetrics s', 'speedup'],
      ...r.exposition.map((e) => [e.pairs, e.lines, round(e.bytes / MIB, 1), fmtSpread(e.promClient, 3), fmtSpread(e.renderMetrics, 3), fmtSpread(e.speedup, 1)]),
    ]));
    const big = r.exposition[r.exposition.length - 1]!;
    targets.push(atMost(`/metrics render at ${big.pairs} pairs (${big.lines} series), s`, big.renderMetrics, 0.25, 's'));
  }

  if (r.footprint) {
    const f = r.footprint;
    parts.push('\nFootprint: the agent process (RSS median [min-max] over the window, CPU from /proc)');
    parts.push(table([
      ['active pairs', 'node flags', 'max flows', 'RSS MiB', 'peak RSS MiB (rounds)', 'CPU s/min', 'CPU s/collection', 'scrape s', '/metrics MiB'],
      ...f.scenarios.map((s) => [s.activePairs, s.nodeOptions || '(defaults)', s.maxFlows, fmtSpread(s.rssMiB, 0), s.peakRssRounds ? fmtSpread(s.peakRssRounds, 0) : round(s.peakRssMiB, 0), round(s.cpuSecondsPerMinute, 2), round(s.cpuSecondsPerCollection, 3),
        round(s.scrapeSeconds.median, 3), round(s.metricsBytes / MIB, 1)]),
    ]));
    parts.push(`BPF memory at the default map sizes (max flows ${f.bpfDefault.maxFlows}, bpftool bytes_memlock):`);
    parts.push(table([['map', 'type', 'max entries', 'MiB'], ...f.bpfDefault.maps.map((m) => [m.name, m.type, m.maxEntries, round(m.bytes / MIB, 2)]),
      ['total', '', '', round(f.bpfDefault.totalMapBytes / MIB, 2)]]));
    // Verdicts on what ships: the image's V8 flags.
    const shipped = f.scenarios.filter((s) => s.nodeOptions === SHIPPED_NODE_FLAGS.join(' '));
    const idle = shipped.find((s) => s.activePairs === 0);
    const busiest = shipped[shipped.length - 1]!;
    // Several rounds: judged on the middle half of their peaks; one: on the value.
    const peak = (s: FootprintScenario) => s.peakRssRounds ?? s.peakRssMiB;
    if (idle) targets.push(atMost('RSS idle, MiB (peak)', peak(idle), 60, 'MiB'));
    if (busiest.activePairs) targets.push(atMost(`RSS at ${busiest.activePairs} pairs, MiB (peak)`, peak(busiest), 128, 'MiB'));
  }

  if (r.throughput) {
    parts.push('\nThroughput: iperf3 pod -> pod over veth, without and with the agent attached (rates: median of all runs; ratios: median [min-max] of the quiet rounds, with+with / without+without each)');
    parts.push(table([
      ['case', 'without Gbit/s', 'with Gbit/s', 'bits ratio', 'without kpps*', 'with kpps*', 'pps ratio', 'counted/sent'],
      ...r.throughput.map((c) => [c.name, round(c.without.bitsPerSecond.median / 1e9, 3), round(c.with.bitsPerSecond.median / 1e9, 3), fmtSpread(c.bitsRatio, 3),
        round(c.without.packetsPerSecond.median / 1e3, 1), round(c.with.packetsPerSecond.median / 1e3, 1), fmtSpread(c.packetsRatio, 3), c.countedShare === undefined ? '' : round(c.countedShare, 4)]),
    ]));
    parts.push('* TCP: skbs per second at the pod veth (GSO super-packets); UDP: datagrams delivered per second. counted/sent: the agent\'s UDP packets for the pair / the veth\'s packets');
    parts.push(`What else ran, per round (the busiest of its four runs, share of all vCPUs); a round is quiet at <= ${QUIET_OTHER_SHARE * 100} % other CPU + steal:`);
    parts.push(table([
      ['case', 'rounds', 'quiet', 'other CPU %', 'steal %', 'agent %'],
      ...r.throughput.map((c) => [c.name, c.rounds.length, c.quietRounds, fmtSpread(spread(c.rounds.map((x) => x.otherShare * 100)), 1),
        fmtSpread(spread(c.rounds.map((x) => x.stealShare * 100)), 1), fmtSpread(spread(c.rounds.map((x) => x.agentShare * 100)), 2)]),
    ]));
    for (const c of r.throughput) {
      const pr = c.profile;
      if (!pr) continue;
      parts.push(`Where a ${c.name} packet's time goes (one more run with kernel.bpf_stats_enabled, ${round(pr.packetsPerSecond / 1e3, 1)} kpps):`);
      parts.push(table([
        ['what', 'ns per packet', 'share of both vCPUs'],
        ...pr.programs.map((p) => [`${p.name} (${p.runs} runs)`, round(p.nsPerRun, 1), '']),
        ['all programs', '', `${round(pr.programsCpuShare * 100, 2)} %`],
        ['agent process (collector, /metrics)', '', `${round(pr.agentCpuShare * 100, 2)} %`],
        ['end to end: 1/pps with - 1/pps without (medians)', round(pr.addedNsPerPacket, 1), ''],
      ]));
    }
    const tcp = r.throughput.find((c) => c.name.startsWith('tcp'));
    const udp = r.throughput.find((c) => c.name.startsWith('udp'));
    // Another process's burst moves a round by more than these limits: a
    // verdict comes only from rounds in which nothing else ran, or not at all.
    // A round's ratio moves by ±5-10 % even on a quiet VM, more than these
    // limits' distance from the true cost: the verdict reads the confidence
    // interval of the median, so a run says "within noise" where the rounds
    // cannot tell, instead of met or MISSED by the luck of a tight middle half.
    const judge = (c: ThroughputCase, name: string, ratio: Spread, interval: [number, number], limit: number) => {
      const loss = mapSpreadDecreasing(ratio, (v) => 1 - v);
      if (c.quietRounds >= MIN_QUIET_ROUNDS) return atMostInterval(name, loss.median, [1 - interval[1], 1 - interval[0]], limit, 'fraction');
      if (c.rounds.length < MIN_QUIET_ROUNDS) return notJudged(name, loss, limit, 'fraction', `${c.rounds.length} rounds, fewer than ${MIN_QUIET_ROUNDS}`);
      const other = round(spread(c.rounds.map((x) => x.otherShare + x.stealShare)).median * 100, 0);
      return notJudged(name, loss, limit, 'fraction', `machine busy (${other} % other CPU, ${c.quietRounds} of ${c.rounds.length} rounds quiet)`);
    };
    if (tcp) targets.push(judge(tcp, 'TCP throughput loss (1 - with/without bits)', tcp.bitsRatio, tcp.bitsRatioInterval, 0.02));
    if (udp) targets.push(judge(udp, '64-byte UDP loss (1 - with/without pps)', udp.packetsRatio, udp.packetsRatioInterval, 0.05));
  }

  if (r.service) {
    const s = r.service;
    parts.push(`\nService resolution at ${s.flows} flows (median [min-max]; baseline measured in the same run)`);
    parts.push(table([
      ['case', 'value', 'vs baseline'],
      ['hot path to a pod, ns/packet (baseline)', round(s.hotToPod.median, 1), 1],
      ['hot path to a ClusterIP, ns/packet', round(s.hotToClusterIp.median, 1), round(s.hotRatio, 3)],
      ['drain, resolution off, s (baseline)', fmtSpread(s.drainOff, 4), 1],
      ['drain, conntrack, nothing translated, s', fmtSpread(s.drainUntranslated, 4), fmtSpread(s.untranslatedRatio, 3)],
      ['drain, conntrack, 100% translated, s', fmtSpread(s.drainTranslated, 4), fmtSpread(s.translatedRatio, 3)],
      ['  of which resolving (look-ups), s', fmtSpread(s.resolveSeconds, 4), ''],
      ['NEW event of a translated connection, ns each (timer, not drain)', round(s.eventNs, 0), ''],
      ['in-kernel alternative: TC program without a lookup, ns/packet', round(s.kfunc.none.median, 1), 1],
      [`  with bpf_skb_ct_lookup, entry found (${s.kfunc.hits} found)`, round(s.kfunc.hit.median, 1), round(s.kfunc.hit.median / s.kfunc.none.median, 2)],
      [`  with bpf_skb_ct_lookup, no entry (${s.kfunc.misses} not found)`, round(s.kfunc.miss.median, 1), round(s.kfunc.miss.median / s.kfunc.none.median, 2)],
    ]));
    targets.push(atMost('drain with 100% translated flows / resolution off', s.translatedRatio, 1.5));
  }

  if (r.cost) {
    const i = r.cost.informers;
    const e = r.cost.exposition;
    parts.push('\nCost attribution: informers synced from a stand-in API server (another process), memory on top of the agent\'s own modules');
    parts.push(table([
      ['pods', 'nodes', 'services', 'sync s', 'agent base RSS MiB', 'API client +MiB', 'synced +MiB', 'total +MiB (after GC; median [min-max] of rounds)', 'peak +MiB', 'heap +MiB'],
      [i.counts.pods, i.counts.nodes, i.counts.services, round(i.syncSeconds, 2), round(i.baseRssMiB, 1), round(i.clientModuleMiB, 1), round(i.syncedMiB, 1), i.rssDeltaRounds ? fmtSpread(i.rssDeltaRounds, 1) : round(i.rssDeltaMiB, 1), round(i.peakRssDeltaMiB, 1), round(i.heapDeltaMiB, 1)],
    ]));
    parts.push('/metrics with both families (raw pairs and workloads) on one node');
    parts.push(table([
      ['pairs', 'pair series', 'workload rows', 'workload series', 'MiB', 'attribute s', 'render both s', 'render pairs only s', 'both streamed s'],
      [e.pairs, e.pairSeries, e.workloadRows, e.workloadSeries, round(e.bytes / MIB, 1), round(e.attributeSeconds, 3), fmtSpread(e.render, 3), fmtSpread(e.pairsOnly, 3), fmtSpread(e.streamed, 3)],
    ]));
    parts.push('render: renderMetrics(), the whole body in one fresh buffer; streamed: as metrics/server.ts sends it, 1 MiB chunks through one reused buffer');
    targets.push(atMost(`informers at ${i.counts.pods} pods, ${i.counts.nodes} nodes: RSS on top of the agent's, MiB`, i.rssDeltaRounds ?? i.rssDeltaMiB, 40, 'MiB'));
    targets.push(atMost(`/metrics both families at ${e.pairs} pairs, s`, e.render, 0.25, 's'));
  }

  parts.push('\nTargets');
  parts.push(table([['target', 'measured', 'interval judged', 'limit', 'verdict'],
    ...targets.map((t) => [t.name, `${t.value} ${t.unit}`, t.range ? `${t.range[0]}-${t.range[1]}` : '(one value)', `${t.limit} ${t.unit}`, t.verdict])]));
  parts.push(`Verdicts: met when the interval (the middle half of the rounds, unless said otherwise) is within the limit, MISSED when it is all past it, within noise when it straddles it; a single value within ${SINGLE_VALUE_NOISE * 100} % of its limit is within noise.`);
  if (r.throughput) parts.push(`Throughput is judged on its quiet rounds only, on the 90 % confidence interval of their median (not their middle half), and not judged when fewer than ${MIN_QUIET_ROUNDS} were quiet (its figures are then those of all rounds).`);
  return { text: parts.join('\n'), targets };
}
