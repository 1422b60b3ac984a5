// Exactly-once totals across restarts. The exported counters are the
// pair_totals map (pinned): every drain is a transaction recorded in
// flow_control before it starts, and each pair's entry carries the epoch of
// the last transaction applied to it. A process that dies anywhere in a
// transaction leaves it recorded; the next one finishes it, skipping the pairs
// already done. So a byte drained from the kernel is never only in memory.
// In memory the totals live in the PairTable the series are rendered from.
import type { BpfObject, ConntrackResolver, FlowControl, ServiceResolution } from '../native.js';
import { PROTOCOL_NAMES, PROTOCOL_NUMBERS, FLOW_KEY_SIZE, OVERFLOW_RECORD_SIZE, copyPairKey, type Protocol } from '../bpf/records.js';
import { parseIP } from '../bpf/ip.js';
import { PAIR_KEY_SIZE, type PairTable } from './pair-table.js';

export { PAIR_KEY_SIZE };
export const PAIR_TOTALS_SIZE = 24;
/** readPairs' records: pair_key, bytes u64, packets u64, connections u32. */
export const PAIR_RECORD_SIZE = 56;
export const RECORD_BYTES = PAIR_KEY_SIZE;
export const RECORD_PACKETS = PAIR_KEY_SIZE + 8;
export const RECORD_CONNECTIONS = PAIR_KEY_SIZE + 16;
const TXN_NONE = 0;
const TXN_SLOT = 1;
const TXN_RING = 2;
const SLOT_MAPS = ['connection_flows', 'connection_flows_1'] as const;
const U32 = 2 ** 32;

export interface TxnResult {
  kind: 'slot' | 'ring';
  /** Per pair what the transaction drained (PAIR_RECORD_SIZE bytes each). */
  records: Buffer;
  /** The table row record i was added to, or -1 where an earlier attempt had applied it. */
  rows: Int32Array;
  /** Connections read from the idle slot (slot transactions). */
  drainedFlows: number;
  /** Overflow records (flow_record) folded (ring transactions), Services resolved. */
  overflow: Buffer;
  /** What service resolution found; absent when the transaction had nothing to resolve. */
  service?: ServiceResolution;
}

/** Counts stay below 2^53: written as two 32-bit halves, no BigInt per value. */
function writeU64(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32LE(value % U32, at);
  buf.writeUInt32LE(Math.floor(value / U32), at + 4);
}

export function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * U32;
}

export function encodePairKey(src: string, dst: string, protocol: Protocol): Buffer {
  const b = Buffer.alloc(PAIR_KEY_SIZE);
  b[0] = src.includes(':') ? 6 : 4;
  b[1] = PROTOCOL_NUMBERS[protocol];
  b.set(parseIP(src), 4);
  b.set(parseIP(dst), 20);
  return b;
}

/**
 * Overflow records folded per pair into readPairs' record layout, so both
 * transaction kinds apply the same way. Their connections field stays 0: the
 * collector counts distinct connections across all of an interval's ring
 * transactions, which one batch cannot.
 */
export function foldOverflow(buf: Buffer): Buffer {
  const n = Math.floor(buf.length / OVERFLOW_RECORD_SIZE);
  const out = Buffer.alloc(n * PAIR_RECORD_SIZE);
  const index = new Map<string, number>();
  const bytes: number[] = [], packets: number[] = [];
  for (let at = 0; at + OVERFLOW_RECORD_SIZE <= buf.length; at += OVERFLOW_RECORD_SIZE) {
    if (!PROTOCOL_NAMES[buf[at + 1]!]) throw new Error(`flow record with protocol ${buf[at + 1]}: the BPF object and agent disagree`);
    // Written where the pair's record would start; kept only if the pair is new.
    copyPairKey(buf, at, out, index.size * PAIR_RECORD_SIZE);
    const key = out.toString('latin1', index.size * PAIR_RECORD_SIZE, index.size * PAIR_RECORD_SIZE + PAIR_KEY_SIZE);
    let i = index.get(key);
    if (i === undefined) {
      i = index.size;
      index.set(key, i);
      bytes.push(0), packets.push(0);
    }
    bytes[i]! += readU64(buf, at + FLOW_KEY_SIZE);
    packets[i]! += readU64(buf, at + FLOW_KEY_SIZE + 8);
  }
  for (let i = 0; i < index.size; i++) {
    const at = i * PAIR_RECORD_SIZE;
    writeU64(out, at + RECORD_BYTES, bytes[i]!);
    writeU64(out, at + RECORD_PACKETS, packets[i]!);
  }
  return out.subarray(0, index.size * PAIR_RECORD_SIZE);
}

export class Ledger {
  private queue: Promise<unknown> = Promise.resolve();
  /** The pair_totals batch update's keys and values, reused: MiBs a drain at 100k pairs. */
  private keysOut = Buffer.alloc(0);
  private valuesOut = Buffer.alloc(0);

  constructor(
    private readonly bpf: BpfObject,
    private readonly table: PairTable,
    /** Resolves Service addresses to backends (EBPF_SERVICE_RESOLUTION=conntrack). */
    private readonly resolver?: ConntrackResolver,
  ) {}

  /** Reads the pinned totals (what earlier processes exported) into the table; returns how many. */
  async load(): Promise<number> {
    const { keys, values, count } = await this.bpf.readMap('pair_totals');
    const t = this.table;
    // A pair from a newer object this agent cannot name stays pinned, untouched.
    const rows = t.rowsOf(keys, count, PAIR_KEY_SIZE, (k) => PROTOCOL_NAMES[keys[k + 1]!] !== undefined);
    let loaded = 0;
    for (let i = 0; i < count; i++) {
      const row = rows[i]!;
      if (row < 0) continue;
      const v = i * PAIR_TOTALS_SIZE;
      t.bytes[row] = readU64(values, v);
      t.packets[row] = readU64(values, v + 8);
      t.epoch[row] = readU64(values, v + 16);
      loaded++;
    }
    return loaded;
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
    let records: Buffer;
    let drainedFlows = 0;
    let overflow: Buffer = Buffer.alloc(0);
    let idleKeys: Buffer = Buffer.alloc(0);
    let service: ServiceResolution | undefined;
    const idle = SLOT_MAPS[ctl.activeSlot ^ 1]!;
    // The epoch keys the resolution log: a transaction finished after a crash
    // folds each connection under the pair the first attempt chose.
    const resolve = { epoch: ctl.txnEpoch, resolver: this.resolver };
    if (ctl.txnKind === TXN_SLOT) {
      // Folded per pair in the addon, off the JS thread.
      const read = await this.bpf.readPairs(idle, resolve);
      drainedFlows = read.count;
      idleKeys = read.keys;
      records = read.pairs;
      service = read.service;
    } else {
      const resolved = await this.bpf.resolveRecords(this.bpf.ringPeek(ctl.txnRingEnd).records, resolve);
      overflow = resolved.records;
      service = resolved.service;
      records = foldOverflow(overflow);
    }
    const { rows, applied } = this.apply(records, Number(ctl.txnEpoch));
    // Failpoint for the restart tests: die where a crash hurts most, after the
    // ledger has the deltas and before the slot or ring is released.
    if (applied > 0 && process.env.EBPF_FAILPOINT === 'ledger-after-apply') process.kill(process.pid, 'SIGKILL');
    if (ctl.txnKind === TXN_SLOT) {
      this.bpf.deleteKeys(idle, idleKeys);
    } else {
      this.bpf.ringAdvance(ctl.txnRingEnd);
    }
    this.bpf.setControl({ ...ctl, txnKind: TXN_NONE });
    return { kind: ctl.txnKind === TXN_SLOT ? 'slot' : 'ring', records, rows, drainedFlows, overflow, service };
  }

  /** Adds each pair's delta once per epoch and writes the new totals. */
  private apply(records: Buffer, epoch: number): { rows: Int32Array; applied: number } {
    const t = this.table;
    const n = Math.floor(records.length / PAIR_RECORD_SIZE);
    const rows = t.rowsOf(records, n, PAIR_RECORD_SIZE);
    // One buffer each for keys and values: no allocation per pair (bench/ drain).
    if (this.keysOut.length < n * PAIR_KEY_SIZE) {
      this.keysOut = Buffer.allocUnsafe(n * PAIR_KEY_SIZE);
      this.valuesOut = Buffer.allocUnsafe(n * PAIR_TOTALS_SIZE);
    }
    const keys = this.keysOut;
    const values = this.valuesOut;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const at = i * PAIR_RECORD_SIZE;
      const row = rows[i]!;
      // New rows start at epoch 0; transaction epochs start at 1.
      if (t.epoch[row] === epoch) {
        rows[i] = -1;
        continue;
      }
      t.bytes[row]! += readU64(records, at + RECORD_BYTES);
      t.packets[row]! += readU64(records, at + RECORD_PACKETS);
      t.epoch[row] = epoch;
      records.copy(keys, m * PAIR_KEY_SIZE, at, at + PAIR_KEY_SIZE);
      const v = m * PAIR_TOTALS_SIZE;
      writeU64(values, v, t.bytes[row]!);
      writeU64(values, v + 8, t.packets[row]!);
      writeU64(values, v + 16, epoch);
      m++;
    }
    if (m) this.bpf.updateMap('pair_totals', keys.subarray(0, m * PAIR_KEY_SIZE), values.subarray(0, m * PAIR_TOTALS_SIZE));
    return { rows, applied: m };
  }

  /** Forgets pairs whose series were dropped (TTL). */
  forget(rows: readonly number[]): void {
    if (!rows.length) return;
    const keys = Buffer.allocUnsafe(rows.length * PAIR_KEY_SIZE);
    rows.forEach((row, i) => this.table.keyBytes(row).copy(keys, i * PAIR_KEY_SIZE));
    this.bpf.deleteKeys('pair_totals', keys);
    for (const row of rows) this.table.remove(row);
  }
}
