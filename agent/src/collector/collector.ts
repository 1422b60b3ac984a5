// The collection loop: every interval, one ledger transaction drains the idle
// flow map slot; between intervals, the overflow ring buffer is folded in on
// a short timer. What a transaction applied goes to the counters; the
// counters start from the pinned ledger, so they continue across restarts.
import type { BpfObject } from '../native.js';
import type { Logger } from '../log.js';
import type { AgentMetrics } from '../metrics/registry.js';
import { AGENT_STATS, namedStats, type AgentStat } from '../bpf/stats.js';
import { pairKey, type PairTotals } from './aggregate.js';
import { Ledger, type TxnResult } from './ledger.js';

export interface CollectorOptions {
  intervalMs: number;
  pairTtlMs: number;
  maxFlows: number;
  connectionTracking: boolean;
  dumpMaps: boolean;
  /** How often the overflow ring buffer is folded in between collections. */
  overflowPollMs?: number;
}

const IGNORED_REASONS: Partial<Record<AgentStat, string>> = {
  ignored_non_ip: 'non_ip',
  ignored_other_l4: 'other_l4',
  ignored_truncated: 'truncated',
  ignored_ext_limit: 'ipv6_ext_limit',
};

export const COLLECTOR_ERROR_TYPES = ['drain', 'attach', 'ringbuf_full', 'ringbuf_consume', 'map_update'] as const;

interface SeriesState {
  labels: { src_ip: string; dst_ip: string; protocol: string };
  lastActiveMs: number;
  /** Bound to the series once: an inc() then skips prom-client's label hashing. */
  bytes: { inc(value: number): void };
  packets: { inc(value: number): void };
}

export class Collector {
  private timer: NodeJS.Timeout | undefined;
  private overflowTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly ledger: Ledger;
  private readonly series = new Map<string, SeriesState>();
  private readonly lastStats = new Map<AgentStat, number>();
  /** Connections the ring transactions applied since the last collection. */
  private ringConnections = new Map<string, Set<string>>();
  private ringRecords = 0;
  collections = 0;

  constructor(
    private readonly bpf: BpfObject,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly opts: CollectorOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.ledger = new Ledger(bpf);
    // Known label values start at 0 so dashboards and alerts see a series
    // (and rate() a first sample) before the first error happens.
    for (const reason of Object.values(IGNORED_REASONS)) metrics.ignoredPackets.inc({ reason }, 0);
    for (const type of COLLECTOR_ERROR_TYPES) metrics.collectorErrors.inc({ type }, 0);
  }

  /** Counters continue from the pinned ledger; a transaction a dead process left is finished. */
  async restore(): Promise<number> {
    const entries = await this.ledger.load();
    const now = this.now();
    for (const [key, e] of entries) {
      const s = this.seriesFor(key, e, now);
      s.bytes.inc(e.bytes);
      s.packets.inc(e.packets);
    }
    const recovered = await this.ledger.recover();
    if (recovered) this.exportDeltas(recovered.deltas, now);
    return entries.size;
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(async () => {
        await this.collect();
        if (this.timer) tick();
      }, this.opts.intervalMs);
    };
    tick();
    const poll = this.opts.overflowPollMs ?? Math.min(250, this.opts.intervalMs);
    this.overflowTimer = setInterval(() => void this.foldOverflow(), poll);
  }

  /** Waits for a transaction in progress; no new one starts after this. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.overflowTimer) clearInterval(this.overflowTimer);
    this.timer = undefined;
    this.overflowTimer = undefined;
    await this.running;
  }

  private async foldOverflow(): Promise<void> {
    try {
      for (const r of await this.ledger.drainRing()) this.onTxn(r);
    } catch (err) {
      this.metrics.collectorErrors.inc({ type: 'ringbuf_consume' });
      this.log.warn('folding the overflow ring buffer failed', { err });
    }
  }

  private onTxn(r: TxnResult): void {
    this.exportDeltas(r.deltas, this.now());
    if (r.kind !== 'ring') return;
    this.ringRecords += r.overflowRecords.length;
    for (const d of r.overflowRecords) {
      const key = pairKey(d.src, d.dst, d.protocol);
      let conns = this.ringConnections.get(key);
      if (!conns) this.ringConnections.set(key, (conns = new Set()));
      conns.add(`${d.srcPort}|${d.dstPort}`);
    }
  }

  /** One cycle; concurrent callers share the cycle in progress. */
  collect(): Promise<void> {
    if (!this.running) {
      this.running = this.cycle().finally(() => (this.running = undefined));
    }
    return this.running;
  }

  private async cycle(): Promise<void> {
    const end = this.metrics.collectionDuration.startTimer();
    try {
      await this.foldOverflow();
      let slot: TxnResult | undefined;
      for (const r of await this.ledger.drainSlot()) {
        this.onTxn(r);
        if (r.kind === 'slot') slot = r;
      }
      const active = new Map<string, number>();
      for (const [key, d] of slot?.deltas ?? []) active.set(key, d.connections);
      for (const [key, conns] of this.ringConnections) active.set(key, (active.get(key) ?? 0) + conns.size);
      const drained = slot?.drainedFlows ?? 0;
      this.metrics.overflowShare.set(this.ringRecords + drained ? this.ringRecords / (this.ringRecords + drained) : 0);
      this.ringRecords = 0;
      this.ringConnections = new Map();
      if (this.opts.dumpMaps && this.log.enabled('debug')) {
        for (const [key, d] of slot?.deltas ?? []) this.log.debug('pair drained', { pair: key, bytes: d.bytes, packets: d.packets, connections: d.connections });
      }
      this.updateActivity(active);
      this.metrics.ipPairsBatchSize.set(active.size);
      this.metrics.mapUtilization.set({ map: 'connection_flows' }, ((slot?.drainedFlows ?? 0) / this.opts.maxFlows) * 100);
      this.exportKernelStats();
      this.collections++;
    } catch (err) {
      this.metrics.collectorErrors.inc({ type: 'drain' });
      this.log.error('collection failed', { err });
    } finally {
      end();
    }
  }

  private seriesFor(key: string, p: { src: string; dst: string; protocol: string }, now: number): SeriesState {
    let s = this.series.get(key);
    if (!s) {
      const labels = { src_ip: p.src, dst_ip: p.dst, protocol: p.protocol };
      s = { labels, lastActiveMs: now, bytes: this.metrics.trafficBytes.labels(labels), packets: this.metrics.trafficPackets.labels(labels) };
      this.series.set(key, s);
    }
    return s;
  }

  private exportDeltas(deltas: Map<string, PairTotals>, now: number): void {
    for (const [key, d] of deltas) {
      const s = this.seriesFor(key, d, now);
      s.lastActiveMs = now;
      s.bytes.inc(d.bytes);
      s.packets.inc(d.packets);
    }
  }

  /** Active connections per pair for this interval; idle series past the TTL go. */
  private updateActivity(active: Map<string, number>): void {
    const now = this.now();
    const expired: string[] = [];
    for (const [key, s] of this.series) {
      const conns = active.get(key);
      if (conns !== undefined) {
        if (this.opts.connectionTracking) this.metrics.activeConnections.set(s.labels, conns);
        continue;
      }
      if (now - s.lastActiveMs > this.opts.pairTtlMs) {
        this.metrics.trafficBytes.remove(s.labels);
        this.metrics.trafficPackets.remove(s.labels);
        this.metrics.activeConnections.remove(s.labels);
        this.series.delete(key);
        expired.push(key);
      } else if (this.opts.connectionTracking) {
        this.metrics.activeConnections.set(s.labels, 0);
      }
    }
    this.ledger.forget(expired);
  }

  /** Kernel counters are cumulative (and survive restarts when pinned). */
  private exportKernelStats(): void {
    const stats = namedStats(this.bpf.stats());
    for (const name of AGENT_STATS) {
      const delta = stats[name] - (this.lastStats.get(name) ?? 0);
      this.lastStats.set(name, stats[name]);
      if (delta <= 0) continue;
      const reason = IGNORED_REASONS[name];
      if (reason) this.metrics.ignoredPackets.inc({ reason }, delta);
      else if (name === 'overflow_records') this.metrics.overflowFlows.inc(delta);
      else if (name === 'ringbuf_full_packets') this.metrics.collectorErrors.inc({ type: 'ringbuf_full' }, delta);
      else if (name === 'map_update_failed') this.metrics.collectorErrors.inc({ type: 'map_update' }, delta);
    }
  }
}
