// Exactly-once totals across restarts. The exported counters are the
// pair_totals map (pinned): every drain is a transaction recorded in
// flow_control before it starts, and each pair's entry carries the epoch of
// the last transaction applied to it. A process that dies anywhere in a
// transaction leaves it recorded; the next one finishes it, skipping the pairs
// already done. So a byte drained from the kernel is never only in memory.
import type { BpfObject, FlowControl } from '../native.js';
import { PROTOCOL_NAMES, PROTOCOL_NUMBERS, decodeOverflow, type FlowDelta, type Protocol } from '../bpf/records.js';
import { formatIPv4, formatIPv6, parseIP } from '../bpf/ip.js';
import { aggregate, decodePairRecords, pairKey, type PairTotals } from './aggregate.js';

export const PAIR_KEY_SIZE = 36;
export const PAIR_TOTALS_SIZE = 24;
const TXN_NONE = 0;
const TXN_SLOT = 1;
const TXN_RING = 2;
const SLOT_MAPS = ['connection_flows', 'connection_flows_1'] as const;

export interface LedgerEntry {
  src: string;
  dst: string;
  protocol: Protocol;
  bytes: number;
  packets: number;
  epoch: bigint;
}

export interface TxnResult {
  kind: 'slot' | 'ring';
  /** Per pair, what this transaction added (pairs it had already applied are absent). */
  deltas: Map<string, PairTotals>;
  /** Connections read from the idle slot (slot transactions). */
  drainedFlows: number;
  /** Overflow records folded (ring transactions). */
  overflowRecords: FlowDelta[];
}

/** Counts stay below 2^53: written as two 32-bit halves, no BigInt per value. */
function writeU64(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32LE(value % 2 ** 32, at);
  buf.writeUInt32LE(Math.floor(value / 2 ** 32), at + 4);
}

export function encodePairKey(src: string, dst: string, protocol: Protocol): Buffer {
  const b = Buffer.alloc(PAIR_KEY_SIZE);
  b[0] = src.includes(':') ? 6 : 4;
  b[1] = PROTOCOL_NUMBERS[protocol];
  b.set(parseIP(src), 4);
  b.set(parseIP(dst), 20);
  return b;
}

export class Ledger {
  private readonly entries = new Map<string, LedgerEntry>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly bpf: BpfObject) {}

  /** Reads the pinned totals: what earlier processes exported. */
  async load(): Promise<ReadonlyMap<string, LedgerEntry>> {
    const { keys, values, count } = await this.bpf.readMap('pair_totals');
    for (let i = 0; i < count; i++) {
      const k = keys.subarray(i * PAIR_KEY_SIZE, (i + 1) * PAIR_KEY_SIZE);
      const v = values.subarray(i * PAIR_TOTALS_SIZE, (i + 1) * PAIR_TOTALS_SIZE);
      const protocol = PROTOCOL_NAMES[k[1]!];
      if (!protocol) continue;
      const fmt = k[0] === 6 ? formatIPv6 : formatIPv4;
      const p = { src: fmt(k, 4), dst: fmt(k, 20), protocol };
      this.entries.set(pairKey(p.src, p.dst, p.protocol), {
        ...p,
        bytes: Number(v.readBigUInt64LE(0)), packets: Number(v.readBigUInt64LE(8)), epoch: v.readBigUInt64LE(16),
      });
    }
    return this.entries;
  }

  get(key: string): LedgerEntry | undefined {
    return this.entries.get(key);
  }

  /** Transactions never interleave: each waits for the one before. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Finishes a transaction left by a dead process, if any. */
  recover(): Promise<TxnResult | undefined> {
    return this.serial(async () => {
      const ctl = this.bpf.control();
      return ctl.txnKind === TXN_NONE ? undefined : this.finish(ctl);
    });
  }

  /** Flips the slot, waits out the writers, folds the idle slot into the ledger. */
  drainSlot(): Promise<TxnResult[]> {
    return this.serial(async () => {
      const done: TxnResult[] = [];
      let ctl = this.bpf.control();
      if (ctl.txnKind !== TXN_NONE) done.push(await this.finish(ctl));
      ctl = this.bpf.control();
      const next: FlowControl = { activeSlot: ctl.activeSlot ^ 1, txnKind: TXN_SLOT, txnEpoch: ctl.txnEpoch + 1n, txnRingEnd: 0n };
      this.bpf.setControl(next);
      await this.bpf.waitForPrograms();
      done.push(await this.finish(next));
      return done;
    });
  }

  /** Folds the overflow records committed so far into the ledger. */
  drainRing(): Promise<TxnResult[]> {
    return this.serial(async () => {
      const done: TxnResult[] = [];
      let ctl = this.bpf.control();
      if (ctl.txnKind !== TXN_NONE) done.push(await this.finish(ctl));
      ctl = this.bpf.control();
      const peek = this.bpf.ringPeek();
      if (peek.end === peek.start) return done;
      const next: FlowControl = { activeSlot: ctl.activeSlot, txnKind: TXN_RING, txnEpoch: ctl.txnEpoch + 1n, txnRingEnd: peek.end };
      this.bpf.setControl(next);
      done.push(await this.finish(next));
      return done;
    });
  }

  private async finish(ctl: FlowControl): Promise<TxnResult> {
    let deltas: Map<string, PairTotals>;
    let drainedFlows = 0;
    let overflowRecords: FlowDelta[] = [];
    let idleKeys: Buffer = Buffer.alloc(0);
    const idle = SLOT_MAPS[ctl.activeSlot ^ 1]!;
    if (ctl.txnKind === TXN_SLOT) {
      // Folded per pair in the addon, off the JS thread.
      const read = await this.bpf.readPairs(idle);
      drainedFlows = read.count;
      idleKeys = read.keys;
      deltas = decodePairRecords(read.pairs);
    } else {
      const { records } = this.bpf.ringPeek(ctl.txnRingEnd);
      overflowRecords = decodeOverflow(records);
      deltas = aggregate(overflowRecords);
    }
    const applied = this.apply(deltas, ctl.txnEpoch);
    // Failpoint for the restart tests: die where a crash hurts most, after the
    // ledger has the deltas and before the slot or ring is released.
    if (applied.size > 0 && process.env.EBPF_FAILPOINT === 'ledger-after-apply') process.kill(process.pid, 'SIGKILL');
    if (ctl.txnKind === TXN_SLOT) {
      this.bpf.deleteKeys(idle, idleKeys);
    } else {
      this.bpf.ringAdvance(ctl.txnRingEnd);
    }
    this.bpf.setControl({ ...ctl, txnKind: TXN_NONE });
    return { kind: ctl.txnKind === TXN_SLOT ? 'slot' : 'ring', deltas: applied, drainedFlows, overflowRecords };
  }

  /** Adds each pair's delta once per epoch and writes the new totals. */
  private apply(deltas: Map<string, PairTotals>, epoch: bigint): Map<string, PairTotals> {
    const applied = new Map<string, PairTotals>();
    // One buffer each for keys and values: no allocation per pair (bench/ drain).
    const keys = Buffer.allocUnsafe(deltas.size * PAIR_KEY_SIZE);
    const values = Buffer.allocUnsafe(deltas.size * PAIR_TOTALS_SIZE);
    let n = 0;
    for (const [key, d] of deltas) {
      let e = this.entries.get(key);
      if (e?.epoch === epoch) continue;
      if (!e) {
        e = { src: d.src, dst: d.dst, protocol: d.protocol, bytes: 0, packets: 0, epoch };
        this.entries.set(key, e);
      }
      e.bytes += d.bytes;
      e.packets += d.packets;
      e.epoch = epoch;
      applied.set(key, d);
      if (d.rawKey) d.rawKey.copy(keys, n * PAIR_KEY_SIZE);
      else encodePairKey(d.src, d.dst, d.protocol).copy(keys, n * PAIR_KEY_SIZE);
      const v = n * PAIR_TOTALS_SIZE;
      writeU64(values, v, e.bytes);
      writeU64(values, v + 8, e.packets);
      values.writeBigUInt64LE(epoch, v + 16);
      n++;
    }
    if (n) this.bpf.updateMap('pair_totals', keys.subarray(0, n * PAIR_KEY_SIZE), values.subarray(0, n * PAIR_TOTALS_SIZE));
    return applied;
  }

  /** Forgets pairs whose series were dropped (TTL). */
  forget(keys: readonly string[]): void {
    const bufs: Buffer[] = [];
    for (const key of keys) {
      const e = this.entries.get(key);
      if (!e) continue;
      bufs.push(encodePairKey(e.src, e.dst, e.protocol));
      this.entries.delete(key);
    }
    if (bufs.length) this.bpf.deleteKeys('pair_totals', Buffer.concat(bufs));
  }
}
