// The collection loop: every interval, one ledger transaction drains the idle
// flow map slot; between intervals, the overflow ring buffer is folded in on
// a short timer. What a transaction applied goes to the counters; the
// counters start from the pinned ledger, so they continue across restarts.
import type { BpfObject } from '../native.js';
import type { Logger } from '../log.js';
import type { AgentMetrics } from '../metrics/registry.js';
import { AGENT_STATS, namedStats, type AgentStat } from '../bpf/stats.js';
import { OVERFLOW_RECORD_SIZE, copyPairKey } from '../bpf/records.js';
import { Ledger, PAIR_RECORD_SIZE, RECORD_BYTES, RECORD_CONNECTIONS, RECORD_PACKETS, readU64, type TxnResult } from './ledger.js';
import { PAIR_KEY_SIZE, type PairTable } from './pair-table.js';

export interface CollectorOptions {
  intervalMs: number;
  pairTtlMs: number;
  maxFlows: number;
  connectionTracking: boolean;
  dumpMaps: boolean;
  /** How often the overflow ring buffer is folded in between collections. */
  overflowPollMs?: number;
  /** Sees what each transaction applied, once (the cost attribution). */
  onApplied?: (r: TxnResult) => void;
  /** The pinned totals are in the pair table; a recovered transaction is not applied yet. */
  onLoaded?: () => void;
}

const IGNORED_REASONS: Partial<Record<AgentStat, string>> = {
  ignored_non_ip: 'non_ip',
  ignored_other_l4: 'other_l4',
  ignored_truncated: 'truncated',
  ignored_ext_limit: 'ipv6_ext_limit',
};

export const COLLECTOR_ERROR_TYPES = ['drain', 'attach', 'ringbuf_full', 'ringbuf_consume', 'map_update'] as const;

export class Collector {
  private timer: NodeJS.Timeout | undefined;
  private overflowTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly ledger: Ledger;
  private readonly pairs: PairTable;
  private readonly lastStats = new Map<AgentStat, number>();
  /** Connections (their ports) the ring transactions applied since the last collection, per row. */
  private ringConnections = new Map<number, Set<number>>();
  private ringRecords = 0;
  collections = 0;

  constructor(
    private readonly bpf: BpfObject,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly opts: CollectorOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.pairs = metrics.pairs;
    this.pairs.trackConnections = opts.connectionTracking;
    this.ledger = new Ledger(bpf, this.pairs);
    // Known label values start at 0 so dashboards and alerts see a series
    // (and rate() a first sample) before the first error happens.
    for (const reason of Object.values(IGNORED_REASONS)) metrics.ignoredPackets.inc({ reason }, 0);
    for (const type of COLLECTOR_ERROR_TYPES) metrics.collectorErrors.inc({ type }, 0);
  }

  /** Counters continue from the pinned ledger; a transaction a dead process left is finished. */
  async restore(): Promise<number> {
    const loaded = await this.ledger.load();
    const now = this.now();
    const t = this.pairs;
    for (let row = 0; row < t.end; row++) t.lastActiveMs[row] = now;
    this.opts.onLoaded?.();
    const recovered = await this.ledger.recover();
    if (recovered) this.onTxn(recovered, false);
    return loaded;
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

  /** What a transaction applied is this interval's activity; the table already has the totals. */
  private onTxn(r: TxnResult, current = true): void {
    this.opts.onApplied?.(r);
    const now = this.now();
    const t = this.pairs;
    // A recovered slot's connections may be the current slot's too: only the current one is counted.
    const slotConns = r.kind === 'slot' && current;
    for (let i = 0; i < r.rows.length; i++) {
      const row = r.rows[i]!;
      if (row < 0) continue;
      t.lastActiveMs[row] = now;
      t.seen[row] = 1;
      if (slotConns) t.pending[row] = r.records.readUInt32LE(i * PAIR_RECORD_SIZE + RECORD_CONNECTIONS);
    }
    if (r.kind === 'slot') return;
    this.ringRecords += r.overflow.length / OVERFLOW_RECORD_SIZE;
    const key = Buffer.alloc(PAIR_KEY_SIZE);
    for (let at = 0; at + OVERFLOW_RECORD_SIZE <= r.overflow.length; at += OVERFLOW_RECORD_SIZE) {
      copyPairKey(r.overflow, at, key, 0);
      const row = t.find(key);
      if (row < 0) continue;
      let conns = this.ringConnections.get(row);
      if (!conns) this.ringConnections.set(row, (conns = new Set()));
      conns.add(r.overflow.readUInt32LE(at + 4));
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
      let drained = 0;
      const done = await this.ledger.drainSlot();
      for (const [i, r] of done.entries()) {
        // The last one is this interval's; one before it was left by a dead process.
        this.onTxn(r, i === done.length - 1);
        if (r.kind === 'slot') {
          drained = r.drainedFlows;
          if (this.opts.dumpMaps && this.log.enabled('debug')) this.dumpPairs(r);
        }
      }
      this.metrics.overflowShare.set(this.ringRecords + drained ? this.ringRecords / (this.ringRecords + drained) : 0);
      this.metrics.ipPairsBatchSize.set(this.endInterval());
      this.metrics.mapUtilization.set({ map: 'connection_flows' }, (drained / this.opts.maxFlows) * 100);
      this.exportKernelStats();
      this.collections++;
    } catch (err) {
      this.metrics.collectorErrors.inc({ type: 'drain' });
      this.log.error('collection failed', { err });
    } finally {
      end();
    }
  }

  private dumpPairs(r: TxnResult): void {
    for (let i = 0; i < r.rows.length; i++) {
      if (r.rows[i]! < 0) continue;
      const at = i * PAIR_RECORD_SIZE;
      const l = this.pairs.labelsOf(r.rows[i]!);
      this.log.debug('pair drained', {
        pair: `${l.src_ip}|${l.dst_ip}|${l.protocol}`,
        bytes: readU64(r.records, at + RECORD_BYTES), packets: readU64(r.records, at + RECORD_PACKETS), connections: r.records.readUInt32LE(at + RECORD_CONNECTIONS),
      });
    }
  }

  /** Active connections per pair for the interval that ends; idle pairs past the TTL go. Returns the active pairs. */
  private endInterval(): number {
    const now = this.now();
    const t = this.pairs;
    for (const [row, conns] of this.ringConnections) t.pending[row]! += conns.size;
    const expired: number[] = [];
    let active = 0;
    for (let row = 0; row < t.end; row++) {
      if (!t.live(row)) continue;
      t.connections[row] = t.pending[row]!;
      if (t.seen[row]) active++;
      else if (now - t.lastActiveMs[row]! > this.opts.pairTtlMs) expired.push(row);
      t.seen[row] = 0;
      t.pending[row] = 0;
    }
    this.ledger.forget(expired);
    this.ringRecords = 0;
    this.ringConnections = new Map();
    return active;
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
