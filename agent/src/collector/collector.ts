// The collection loop: every interval the ledger applies the idle flow map
// slot; between intervals it applies the overflow ring buffer on a short
// timer. The ledger (ledger.ts) owns every per-pair total; the collector only
// schedules it and turns what it reports (loss, fill level, the interval's
// flows) and the kernel's statistics into the agent's health metrics.
import type { BpfObject, ConntrackResolver, ServiceResolution } from '../native.js';
import type { Logger } from '../log.js';
import type { AgentMetrics } from '../metrics/registry.js';
import { AGENT_STATS, namedStats, type AgentStat } from '../bpf/stats.js';
import { PAIR_RECORD_SIZE, RECORD_BYTES, RECORD_CONNECTIONS, RECORD_PACKETS, readU64, type Ledger, type LoadResult, type TxnResult } from './ledger.js';
import { pairLabels } from './pair-table.js';

export interface CollectorOptions {
  intervalMs: number;
  maxFlows: number;
  dumpMaps: boolean;
  /** How often the overflow ring buffer is folded in between collections. */
  overflowPollMs?: number;
  /** Service resolution (EBPF_SERVICE_RESOLUTION=conntrack); the collector polls its DESTROY events. */
  resolver?: ConntrackResolver;
  /** Sees what each transaction applied, once (the cost attribution). */
  onApplied?: (r: TxnResult) => void;
  /** The pinned totals are in the pair table; a recovered transaction is not applied yet. */
  onLoaded?: () => void;
}

export const UNRESOLVED_REASONS = ['entry_gone', 'events_lost', 'conntrack_unavailable'] as const;

const IGNORED_REASONS: Partial<Record<AgentStat, string>> = {
  ignored_non_ip: 'non_ip',
  ignored_other_l4: 'other_l4',
  ignored_truncated: 'truncated',
  ignored_ext_limit: 'ipv6_ext_limit',
};

export const COLLECTOR_ERROR_TYPES = ['drain', 'attach', 'ringbuf_full', 'ringbuf_consume', 'map_update'] as const;
/** Why counted traffic was not exported (kubeadapt_connection_traffic_dropped_*_total). */
export const DROP_REASONS = ['pair_ledger_full', 'ringbuf_full'] as const;

/**
 * Hands a drain's records (the addon's memory: 5.6 MB at 100k pairs) back
 * now. Freed only when V8 collects their Buffer, they stayed for intervals
 * (a collection makes little JavaScript garbage) and the next drain came on
 * top: the agent's peak RSS at 100k pairs (bench/ footprint). Detaching the
 * ArrayBuffer frees it at once; nothing reads a transaction's records after
 * the cycle that applied it.
 */
function release(b: Buffer): void {
  const ab = b.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (b.byteOffset === 0 && b.byteLength === ab.byteLength && ab.transfer) ab.transfer(0);
}

export class Collector {
  private timer: NodeJS.Timeout | undefined;
  private overflowTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly lastStats = new Map<AgentStat, number>();
  /** The ledger's durable loss as last exported: the counters move by what it grew. */
  private readonly exportedLoss = { bytes: 0, packets: 0 };
  private ringRecords = 0;
  private lastFullWarning = 0;
  private conntrackFailing = false;
  collections = 0;

  constructor(
    private readonly bpf: BpfObject,
    private readonly ledger: Ledger,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly opts: CollectorOptions,
  ) {
    // Known label values start at 0 so dashboards and alerts see a series
    // (and rate() a first sample) before the first error happens.
    for (const reason of Object.values(IGNORED_REASONS)) metrics.ignoredPackets.inc({ reason }, 0);
    for (const type of COLLECTOR_ERROR_TYPES) metrics.collectorErrors.inc({ type }, 0);
    for (const reason of DROP_REASONS) {
      metrics.droppedBytes.inc({ reason }, 0);
      metrics.droppedPackets.inc({ reason }, 0);
    }
    if (opts.resolver) for (const reason of UNRESOLVED_REASONS) metrics.unresolvedServiceFlows.inc({ reason }, 0);
  }

  /** Counters continue from the pinned ledger (pair_totals of `maxPairs` entries); a transaction a dead process left is finished. */
  async restore(maxPairs: number): Promise<LoadResult> {
    const loaded = await this.ledger.open(this.bpf, maxPairs, this.opts.resolver);
    this.opts.onLoaded?.();
    const recovered = await this.ledger.recover();
    if (recovered) this.onTxn(recovered);
    this.exportLedger();
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

  /**
   * Waits for the transactions in progress (a ring fold from the overflow
   * timer too: its map writes hold the BPF object's fds, and close() refuses
   * a busy object); no new one starts after this.
   */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.overflowTimer) clearInterval(this.overflowTimer);
    this.timer = undefined;
    this.overflowTimer = undefined;
    await this.running;
    await this.ledger.idle();
  }

  private async foldOverflow(): Promise<void> {
    // Ended connections' backends, read often enough that the socket never fills.
    this.opts.resolver?.poll();
    try {
      for (const r of await this.ledger.applyRing()) this.onTxn(r);
      this.exportLedger();
    } catch (err) {
      this.metrics.collectorErrors.inc({ type: 'ringbuf_consume' });
      this.log.warn('folding the overflow ring buffer failed', { err });
    }
  }

  private onTxn(r: TxnResult): void {
    if (r.service) this.onService(r.service);
    this.opts.onApplied?.(r);
    this.ringRecords += r.overflowRecords;
    if (r.lostPairs === 0) return;
    // One line a minute at most: a full ledger loses pairs on every transaction.
    const now = Date.now();
    if (now - this.lastFullWarning < 60_000) return;
    this.lastFullWarning = now;
    this.log.warn('the pair ledger is full: new pairs are not exported, their traffic is counted as dropped (raise EBPF_MAX_PAIRS or lower EBPF_PAIR_TTL)', {
      maxPairs: this.ledger.capacity, lostPairs: r.lostPairs, lostBytes: r.lost.bytes, lostPackets: r.lost.packets,
    });
  }

  /** The ledger's state as metrics: loss (durable, so it moves only after the write) and fill level. */
  private exportLedger(): void {
    const lost = this.ledger.lost;
    const reason = 'pair_ledger_full';
    if (lost.bytes > this.exportedLoss.bytes) this.metrics.droppedBytes.inc({ reason }, lost.bytes - this.exportedLoss.bytes);
    if (lost.packets > this.exportedLoss.packets) this.metrics.droppedPackets.inc({ reason }, lost.packets - this.exportedLoss.packets);
    this.exportedLoss.bytes = lost.bytes;
    this.exportedLoss.packets = lost.packets;
    this.metrics.mapUtilization.set({ map: 'pair_totals' }, (this.ledger.used / this.ledger.capacity) * 100);
  }

  /** A replayed resolution was counted by the agent that made it. */
  private onService(s: ServiceResolution): void {
    if (s.replayed) return;
    const m = this.metrics.unresolvedServiceFlows;
    if (s.gone) m.inc({ reason: 'entry_gone' }, s.gone);
    if (s.eventsLost) m.inc({ reason: 'events_lost' }, s.eventsLost);
    if (s.unavailable) m.inc({ reason: 'conntrack_unavailable' }, s.unavailable);
    if (s.unresolvedSamples.length && this.log.enabled('debug')) {
      this.log.debug('Service connections left under the Service address', { gone: s.gone, eventsLost: s.eventsLost, unavailable: s.unavailable, connections: s.unresolvedSamples });
    }
    const failing = s.dumpErrno !== 0;
    if (failing && !this.conntrackFailing) {
      this.log.error('conntrack dump failed: Service traffic stays under the Service address', { errno: s.dumpErrno });
    } else if (!failing && this.conntrackFailing) this.log.info('conntrack dump works again');
    this.conntrackFailing = failing;
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
      let active = 0;
      for (const r of await this.ledger.applySlot()) {
        this.onTxn(r);
        if (r.kind !== 'slot') continue;
        if (r.slotReplaceError) this.log.warn('could not give the drained slot a fresh map; deleted its entries instead', { err: r.slotReplaceError });
        this.log.debug('slot released', { flows: r.drainedFlows, by: r.slotReplaced ? 'a fresh map' : 'deletes' });
        // The last one is this interval's; one before it was left by a dead process.
        if (r.activePairs !== undefined) {
          drained = r.drainedFlows;
          active = r.activePairs;
        }
        if (this.opts.dumpMaps && this.log.enabled('debug')) this.dumpPairs(r);
        release(r.records);
      }
      this.exportLedger();
      this.metrics.overflowShare.set(this.ringRecords + drained ? this.ringRecords / (this.ringRecords + drained) : 0);
      this.metrics.ipPairsBatchSize.set(active);
      this.metrics.mapUtilization.set({ map: 'connection_flows' }, (drained / this.opts.maxFlows) * 100);
      this.ringRecords = 0;
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
      const at = i * PAIR_RECORD_SIZE;
      const l = pairLabels(r.records, at);
      this.log.debug(r.rows[i]! < 0 ? 'pair drained, not applied (done before or ledger full)' : 'pair drained', {
        pair: `${l.src_ip}|${l.dst_ip}|${l.protocol}`,
        bytes: readU64(r.records, at + RECORD_BYTES), packets: readU64(r.records, at + RECORD_PACKETS), connections: r.records.readUInt32LE(at + RECORD_CONNECTIONS),
      });
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
      else if (name === 'overflow_records') this.metrics.overflowFlows.inc(delta);
      else if (name === 'ringbuf_full_packets') {
        this.metrics.collectorErrors.inc({ type: 'ringbuf_full' }, delta);
        this.metrics.droppedPackets.inc({ reason: 'ringbuf_full' }, delta);
      } else if (name === 'ringbuf_full_bytes') this.metrics.droppedBytes.inc({ reason: 'ringbuf_full' }, delta);
      else if (name === 'map_update_failed') this.metrics.collectorErrors.inc({ type: 'map_update' }, delta);
    }
  }
}
