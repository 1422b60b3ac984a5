// The collection loop: every interval, drain the inactive flow map and the
// overflow ring buffer, fold the deltas per IP pair, add them to the counters.
import type { BpfObject } from '../native.js';
import type { Logger } from '../log.js';
import type { AgentMetrics } from '../metrics/registry.js';
import { decodeDrained, decodeOverflow, type FlowDelta } from '../bpf/records.js';
import { AGENT_STATS, namedStats, type AgentStat } from '../bpf/stats.js';
import { aggregate, type PairTotals } from './aggregate.js';

export interface CollectorOptions {
  intervalMs: number;
  pairTtlMs: number;
  maxFlows: number;
  connectionTracking: boolean;
  dumpMaps: boolean;
  /** How often the overflow ring buffer is emptied between collections. */
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
  active: boolean;
}

export class Collector {
  private timer: NodeJS.Timeout | undefined;
  private overflowTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly series = new Map<string, SeriesState>();
  private readonly lastStats = new Map<AgentStat, number>();
  private overflowPending: FlowDelta[] = [];
  collections = 0;

  constructor(
    private readonly bpf: BpfObject,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly opts: CollectorOptions,
    private readonly now: () => number = Date.now,
  ) {
    // Known label values start at 0 so dashboards and alerts see a series
    // (and rate() a first sample) before the first error happens.
    for (const reason of Object.values(IGNORED_REASONS)) metrics.ignoredPackets.inc({ reason }, 0);
    for (const type of COLLECTOR_ERROR_TYPES) metrics.collectorErrors.inc({ type }, 0);
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
    this.overflowTimer = setInterval(() => this.pollOverflow(), poll);
  }

  /** Waits for a collection in progress; no new one starts after this. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.overflowTimer) clearInterval(this.overflowTimer);
    this.timer = undefined;
    this.overflowTimer = undefined;
    await this.running;
  }

  private pollOverflow(): void {
    try {
      const buf = this.bpf.consumeOverflow();
      if (buf.length) this.overflowPending.push(...decodeOverflow(buf));
    } catch (err) {
      this.metrics.collectorErrors.inc({ type: 'ringbuf_consume' });
      this.log.warn('consuming the overflow ring buffer failed', { err });
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
      const { records } = await this.bpf.drain();
      this.pollOverflow();
      const drained = decodeDrained(records);
      const overflow = this.overflowPending;
      this.overflowPending = [];
      if (this.opts.dumpMaps && this.log.enabled('debug')) {
        for (const d of drained) this.log.debug('flow', { ...d, firstSeenNs: String(d.firstSeenNs), lastSeenNs: String(d.lastSeenNs) });
      }
      const pairs = aggregate(drained.concat(overflow));
      this.export(pairs);
      this.metrics.overflowFlows.inc(overflow.length);
      this.metrics.ipPairsBatchSize.set(pairs.size);
      this.metrics.mapUtilization.set({ map: 'connection_flows' }, (drained.length / this.opts.maxFlows) * 100);
      this.exportKernelStats();
      this.collections++;
    } catch (err) {
      this.metrics.collectorErrors.inc({ type: 'drain' });
      this.log.error('collection failed', { err });
    } finally {
      end();
    }
  }

  private export(pairs: Map<string, PairTotals>): void {
    const now = this.now();
    for (const s of this.series.values()) s.active = false;
    for (const [key, p] of pairs) {
      let s = this.series.get(key);
      if (!s) {
        s = { labels: { src_ip: p.src, dst_ip: p.dst, protocol: p.protocol }, lastActiveMs: now, active: true };
        this.series.set(key, s);
      }
      s.lastActiveMs = now;
      s.active = true;
      this.metrics.trafficBytes.inc(s.labels, p.bytes);
      this.metrics.trafficPackets.inc(s.labels, p.packets);
      if (this.opts.connectionTracking) this.metrics.activeConnections.set(s.labels, p.connections);
    }
    for (const [key, s] of this.series) {
      if (s.active) continue;
      if (now - s.lastActiveMs > this.opts.pairTtlMs) {
        this.metrics.trafficBytes.remove(s.labels);
        this.metrics.trafficPackets.remove(s.labels);
        this.metrics.activeConnections.remove(s.labels);
        this.series.delete(key);
      } else if (this.opts.connectionTracking) {
        this.metrics.activeConnections.set(s.labels, 0);
      }
    }
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
      else if (name === 'ringbuf_full_packets') this.metrics.collectorErrors.inc({ type: 'ringbuf_full' }, delta);
      else if (name === 'map_update_failed') this.metrics.collectorErrors.inc({ type: 'map_update' }, delta);
    }
  }

  seriesCount(): number {
    return this.series.size;
  }
}
