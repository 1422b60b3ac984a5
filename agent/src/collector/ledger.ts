// The pair ledger: the one owner of every exported per-pair total, in the
// kernel (the pinned pair_totals map) and in memory (the PairTable /metrics
// renders). Nothing else writes either.
//
// Exactly once across restarts: every drain is a transaction recorded in
// flow_control before it starts, and each pair's entry carries the epoch of
// the last transaction applied to it. A process that dies anywhere in a
// transaction leaves it recorded; the next one finishes it, skipping the pairs
// already done.
//
// Durable first, visible second: a transaction writes the new totals to
// pair_totals and only then to the table, so /metrics never shows a count the
// next process would not continue from.
//
// It cannot stall: pair_totals holds at most `maxPairs` entries (the kernel
// refuses a new key beyond it with E2BIG, and a refused batch used to fail
// every collection after it). A transaction first expires pairs idle past
// EBPF_PAIR_TTL, then admits as many new pairs as there is room for, the ones
// with the most bytes first; the deltas of the pairs left out are loss, added
// to a reserved entry of pair_totals in the same write, so the loss metric is
// exactly once across restarts too.
import type { BpfObject, ConntrackResolver, FlowControl, MapContents, ServiceResolution } from '../native.js';
import { PROTOCOL_NAMES, PROTOCOL_NUMBERS, FLOW_KEY_SIZE, OVERFLOW_RECORD_SIZE, copyPairKey, type Protocol } from '../bpf/records.js';
import { parseIP } from '../bpf/ip.js';
import { PAIR_KEY_SIZE, PairTable, type PairView } from './pair-table.js';

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
/** The flow maps by slot index, as flow_control.active_slot and flow_slots number them. */
export const SLOT_MAPS = ['connection_flows', 'connection_flows_1'] as const;
const U32 = 2 ** 32;
/** The same layouts in 32-bit words. */
const KEY_WORDS = PAIR_KEY_SIZE / 4;
const RECORD_WORDS = PAIR_RECORD_SIZE / 4;
const BYTES_WORD = RECORD_BYTES / 4;
const PACKETS_WORD = RECORD_PACKETS / 4;
const TOTALS_WORDS = PAIR_TOTALS_SIZE / 4;

/** `b` as 32-bit words: its own memory where aligned (the addon's buffers are), else a copy. */
function alignedWords(b: Buffer): [ArrayBufferLike, number, number] {
  if (b.byteOffset % 4 === 0) return [b.buffer, b.byteOffset, b.length >> 2];
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return [copy.buffer, 0, b.length >> 2];
}

/**
 * The reserved pair_totals entry that holds the loss: family 0 and protocol 0,
 * which no traffic pair has (an older agent leaves keys with a protocol it
 * cannot name untouched), and the reason code in the first address byte.
 */
const LOSS_FULL_KEY = Buffer.alloc(PAIR_KEY_SIZE);
LOSS_FULL_KEY[4] = 1;

/** The maps a ledger reads and writes: a subset of the addon's BpfObject (tests use a fake). */
export type LedgerMaps = Pick<BpfObject, 'readMap' | 'readPairs' | 'updateMap' | 'deleteKeys' | 'releaseSlot' | 'control' | 'setControl' | 'waitForPrograms' | 'ringPeek' | 'ringAdvance' | 'resolveRecords'>;

export interface LedgerOptions {
  /** Pairs idle this long are expired (EBPF_PAIR_TTL). */
  pairTtlMs: number;
  /** Export the active-connections series (EBPF_CONNECTION_TRACKING). */
  trackConnections: boolean;
  now?: () => number;
}

export interface Loss {
  bytes: number;
  packets: number;
}

export interface TxnResult {
  kind: 'slot' | 'ring';
  /** Per pair what the transaction drained (PAIR_RECORD_SIZE bytes each). */
  records: Buffer;
  /** The table row record i was added to; -1 where an earlier attempt had applied it or it did not fit. */
  rows: Int32Array;
  /** Connections read from the idle slot (slot transactions). */
  drainedFlows: number;
  /** Slot transactions: the slot was released by replacing its map, not by deletes. */
  slotReplaced?: boolean;
  /** Why a replacement failed (the slot was then released by deletes). */
  slotReplaceError?: Error;
  /** Overflow records (flow_record) folded (ring transactions). */
  overflowRecords: number;
  /** Pairs this transaction left out because the ledger was full, and their deltas. */
  lostPairs: number;
  lost: Loss;
  /** Pairs expired before the transaction applied. */
  expired: number;
  /** Slot transactions of this process: the pairs with traffic in the interval that ended. */
  activePairs?: number;
  /** What service resolution found; absent when the transaction had nothing to resolve. */
  service?: ServiceResolution;
}

export interface LoadResult {
  /** Pairs whose totals the counters continue from. */
  pairs: number;
  /** Entries this agent cannot name (a newer object's): kept, and they take room. */
  foreign: number;
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

/** A pair_totals value: bytes, packets, epoch. */
export function encodeTotals(bytes: number, packets: number, epoch: number): Buffer {
  const b = Buffer.alloc(PAIR_TOTALS_SIZE);
  writeU64(b, 0, bytes);
  writeU64(b, 8, packets);
  writeU64(b, 16, epoch);
  return b;
}

/**
 * Overflow records folded per pair into readPairs' record layout, so both
 * transaction kinds apply the same way. Their connections field stays 0: the
 * ledger counts distinct connections across all of an interval's ring
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
  private readonly table = new PairTable();
  private readonly now: () => number;
  private maps: LedgerMaps | undefined;
  /** Resolves Service addresses to backends (EBPF_SERVICE_RESOLUTION=conntrack). */
  private resolver: ConntrackResolver | undefined;
  /** pair_totals' max_entries: the traffic pairs plus the reserved loss entry. */
  private maxPairs = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Entries in pair_totals: the table's pairs, foreign entries and the loss entry once written. */
  private stored = 0;
  private foreign = 0;
  /** The loss entry as pinned: durable totals, the last transaction that added to it. */
  private readonly loss: Loss = { bytes: 0, packets: 0 };
  private lossEpoch = 0;
  private lossStored = false;
  /** Loss that could not be written yet (no room even for the loss entry: a map filled by an older agent). */
  private readonly unwrittenLoss: Loss = { bytes: 0, packets: 0 };
  /** Connections (their ports) the ring transactions applied since the last slot transaction, per row. */
  private ringConnections = new Map<number, Set<number>>();
  /** The pair_totals batch update's keys and values, reused: MiBs a drain at 100k pairs. */
  private keysOut = Buffer.from(new ArrayBuffer(0));
  private valuesOut = Buffer.from(new ArrayBuffer(0));

  constructor(private readonly opts: LedgerOptions) {
    this.now = opts.now ?? Date.now;
    this.table.trackConnections = opts.trackConnections;
  }

  /** What /metrics renders: the pairs, read only. */
  get view(): PairView {
    return this.table;
  }

  /** Pairs exported. */
  get pairs(): number {
    return this.table.size;
  }

  /** pair_totals entries in use, of `capacity`. */
  get used(): number {
    return this.stored;
  }

  get capacity(): number {
    return this.maxPairs;
  }

  /** Bytes and packets never exported because the ledger was full, durable (continues across restarts). */
  get lost(): Loss {
    return { ...this.loss };
  }

  /**
   * Takes the maps (pair_totals with `maxPairs` entries) and reads the pinned
   * totals (what earlier processes exported) into the table. Reopening (a
   * reload) starts over from the pins.
   */
  async open(maps: LedgerMaps, maxPairs: number, resolver?: ConntrackResolver): Promise<LoadResult> {
    if (!Number.isInteger(maxPairs) || maxPairs < 2) throw new Error(`ledger: maxPairs ${maxPairs}: at least 2 (one entry is the loss entry)`);
    this.maps = maps;
    this.resolver = resolver;
    this.maxPairs = maxPairs;
    this.table.clear();
    this.ringConnections = new Map();
    this.stored = this.foreign = 0;
    this.loss.bytes = this.loss.packets = this.lossEpoch = 0;
    this.lossStored = false;
    this.unwrittenLoss.bytes = this.unwrittenLoss.packets = 0;
    const { keys, values, count }: MapContents = await maps.readMap('pair_totals');
    const t = this.table;
    const now = this.now();
    this.stored = count;
    t.reserveRows(count);
    let loaded = 0;
    for (let i = 0; i < count; i++) {
      const k = i * PAIR_KEY_SIZE;
      const v = i * PAIR_TOTALS_SIZE;
      if (keys.compare(LOSS_FULL_KEY, 0, PAIR_KEY_SIZE, k, k + PAIR_KEY_SIZE) === 0) {
        this.loss.bytes = readU64(values, v);
        this.loss.packets = readU64(values, v + 8);
        this.lossEpoch = readU64(values, v + 16);
        this.lossStored = true;
        continue;
      }
      // A pair from a newer object this agent cannot name stays pinned, untouched.
      if (PROTOCOL_NAMES[keys[k + 1]!] === undefined || (keys[k] !== 4 && keys[k] !== 6)) {
        this.foreign++;
        continue;
      }
      const row = t.add(keys, k);
      t.bytes[row] = readU64(values, v);
      t.packets[row] = readU64(values, v + 8);
      t.epoch[row] = readU64(values, v + 16);
      t.lastActiveMs[row] = now;
      loaded++;
    }
    return { pairs: loaded, foreign: this.foreign };
  }

  private get m(): LedgerMaps {
    if (!this.maps) throw new Error('ledger: used before open()');
    return this.maps;
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
      const ctl = this.m.control();
      return ctl.txnKind === TXN_NONE ? undefined : this.finish(ctl, false);
    });
  }

  /**
   * Applies a slot: flips it, waits out the writers, folds the idle slot into
   * the ledger. It ends a collection interval: the connection counts of the
   * interval become the exported ones. A transaction a dead process left is
   * finished first (and returned first).
   */
  applySlot(): Promise<TxnResult[]> {
    return this.serial(async () => {
      const maps = this.m;
      const done: TxnResult[] = [];
      let ctl = maps.control();
      if (ctl.txnKind !== TXN_NONE) done.push(await this.finish(ctl, false));
      ctl = maps.control();
      const next: FlowControl = { activeSlot: ctl.activeSlot ^ 1, txnKind: TXN_SLOT, txnEpoch: ctl.txnEpoch + 1n, txnRingEnd: 0n };
      maps.setControl(next);
      await maps.waitForPrograms();
      const r = await this.finish(next, true);
      r.activePairs = this.endInterval();
      done.push(r);
      return done;
    });
  }

  /** Applies the ring: folds the overflow records committed so far into the ledger. */
  applyRing(): Promise<TxnResult[]> {
    return this.serial(async () => {
      const maps = this.m;
      const done: TxnResult[] = [];
      let ctl = maps.control();
      if (ctl.txnKind !== TXN_NONE) done.push(await this.finish(ctl, false));
      ctl = maps.control();
      const peek = maps.ringPeek();
      if (peek.end === peek.start) return done;
      const next: FlowControl = { activeSlot: ctl.activeSlot, txnKind: TXN_RING, txnEpoch: ctl.txnEpoch + 1n, txnRingEnd: peek.end };
      maps.setControl(next);
      done.push(await this.finish(next, true));
      return done;
    });
  }

  private async finish(ctl: FlowControl, current: boolean): Promise<TxnResult> {
    const maps = this.m;
    let records: Buffer;
    let drainedFlows = 0;
    let overflow: Buffer = Buffer.alloc(0);
    let idleKeys: Buffer = Buffer.alloc(0);
    let deferredKeys: Buffer = Buffer.alloc(0);
    let service: ServiceResolution | undefined;
    const idle = SLOT_MAPS[ctl.activeSlot ^ 1]!;
    const slot = ctl.txnKind === TXN_SLOT;
    // The epoch keys the resolution log: a transaction finished after a crash
    // folds each connection under the pair the first attempt chose.
    const resolve = { epoch: ctl.txnEpoch, resolver: this.resolver };
    if (slot) {
      // Folded per pair in the addon, off the JS thread.
      const read = await maps.readPairs(idle, resolve);
      drainedFlows = read.count;
      idleKeys = read.keys;
      deferredKeys = read.deferredKeys;
      records = read.pairs;
      service = read.service;
    } else {
      const resolved = await maps.resolveRecords(maps.ringPeek(ctl.txnRingEnd).records, resolve);
      overflow = resolved.records;
      service = resolved.service;
      records = foldOverflow(overflow);
    }
    const r = await this.apply(records, Number(ctl.txnEpoch), slot);
    // Failpoint for the restart tests: die where a crash hurts most, after
    // pair_totals has the deltas and before the slot or ring is released.
    if (r.written > 0 && process.env.EBPF_FAILPOINT === 'ledger-after-apply') process.kill(process.pid, 'SIGKILL');
    let release: Awaited<ReturnType<LedgerMaps['releaseSlot']>> | undefined;
    // EBPF_TEST_SLOT_RELEASE=replace (tests, like EBPF_FAILPOINT): small test nodes take the fresh-map path too.
    if (slot) release = await maps.releaseSlot(idle, idleKeys, deferredKeys, process.env.EBPF_TEST_SLOT_RELEASE === 'replace' ? 'replace' : 'auto');
    else maps.ringAdvance(ctl.txnRingEnd);
    maps.setControl({ ...ctl, txnKind: TXN_NONE });
    this.noteActivity(r.rows, records, overflow, slot && current);
    return {
      kind: slot ? 'slot' : 'ring', records, rows: r.rows, drainedFlows, slotReplaced: release?.replaced, slotReplaceError: release?.replaceError, overflowRecords: overflow.length / OVERFLOW_RECORD_SIZE,
      lostPairs: r.lostPairs, lost: r.lost, expired: r.expired, service,
    };
  }

  /**
   * Adds each pair's delta once per epoch: expires idle pairs if room is
   * needed (always on a slot), admits what fits, writes pair_totals, then the table.
   */
  private async apply(records: Buffer, epoch: number, slot: boolean): Promise<{ rows: Int32Array; written: number; lostPairs: number; lost: Loss; expired: number }> {
    const t = this.table;
    const n = Math.floor(records.length / PAIR_RECORD_SIZE);
    const rows = t.findRows(records, n, PAIR_RECORD_SIZE);
    const fresh: number[] = [];
    for (let i = 0; i < n; i++) if (rows[i]! < 0) fresh.push(i);
    // A slot ends an interval, so its expiry is the TTL's clock; ring
    // transactions (every 250 ms) scan the table only when they need room.
    let expired = 0;
    if (slot || fresh.length > this.room()) expired = await this.expire(rows);
    const room = this.room();
    let admitted = fresh;
    const lost: Loss = { bytes: 0, packets: 0 };
    if (fresh.length > room) {
      // The pairs carrying the most bytes are the ones worth a series; ties keep drain order.
      const bytesOf = (i: number) => readU64(records, i * PAIR_RECORD_SIZE + RECORD_BYTES);
      const ranked = [...fresh].sort((a, b) => bytesOf(b) - bytesOf(a) || a - b);
      admitted = ranked.slice(0, room).sort((a, b) => a - b);
      for (const i of ranked.slice(room)) {
        lost.bytes += bytesOf(i);
        lost.packets += readU64(records, i * PAIR_RECORD_SIZE + RECORD_PACKETS);
      }
    }
    const lostPairs = fresh.length - admitted.length;
    const isAdmitted = new Uint8Array(n);
    for (const i of admitted) isAdmitted[i] = 1;

    // One buffer each for keys and values: no allocation per pair (bench/ drain).
    const cap = n + 1;
    if (this.keysOut.length < cap * PAIR_KEY_SIZE) {
      this.keysOut = Buffer.from(new ArrayBuffer(cap * PAIR_KEY_SIZE));
      this.valuesOut = Buffer.from(new ArrayBuffer(cap * PAIR_TOTALS_SIZE));
    }
    const keys = this.keysOut;
    const values = this.valuesOut;
    // Word by word through typed arrays: Buffer's per-field reads and a copy()
    // per pair were a third of a slot transaction's JavaScript (bench/ drain).
    const rec = new Uint32Array(...alignedWords(records));
    const keyWords = new Uint32Array(keys.buffer, keys.byteOffset, keys.length >> 2);
    const valueWords = new Uint32Array(values.buffer, values.byteOffset, values.length >> 2);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const r = i * RECORD_WORDS;
      const row = rows[i]!;
      let bytes = rec[r + BYTES_WORD]! + rec[r + BYTES_WORD + 1]! * U32;
      let packets = rec[r + PACKETS_WORD]! + rec[r + PACKETS_WORD + 1]! * U32;
      if (row >= 0) {
        // Transaction epochs start at 1: an entry at this epoch got this delta already.
        if (t.epoch[row] === epoch) continue;
        bytes += t.bytes[row]!;
        packets += t.packets[row]!;
      } else if (!isAdmitted[i]) {
        continue;
      }
      for (let j = 0, k = m * KEY_WORDS; j < KEY_WORDS; j++) keyWords[k + j] = rec[r + j]!;
      const v = m * TOTALS_WORDS;
      valueWords[v] = bytes % U32;
      valueWords[v + 1] = bytes / U32;
      valueWords[v + 2] = packets % U32;
      valueWords[v + 3] = packets / U32;
      valueWords[v + 4] = epoch % U32;
      valueWords[v + 5] = epoch / U32;
      m++;
    }
    // The loss goes into the same write, once per epoch (a retried transaction drops the same pairs again).
    const addLoss = this.lossEpoch !== epoch && lost.packets + this.unwrittenLoss.packets > 0;
    const lossFits = this.lossStored || this.stored + admitted.length < this.maxPairs;
    const newLoss: Loss = { bytes: this.loss.bytes + lost.bytes + this.unwrittenLoss.bytes, packets: this.loss.packets + lost.packets + this.unwrittenLoss.packets };
    if (addLoss && lossFits) {
      LOSS_FULL_KEY.copy(keys, m * PAIR_KEY_SIZE);
      const v = m * PAIR_TOTALS_SIZE;
      writeU64(values, v, newLoss.bytes);
      writeU64(values, v + 8, newLoss.packets);
      writeU64(values, v + 16, epoch);
      m++;
    }
    // Durable first: a failure here leaves the table as it was and the
    // transaction open; the retry computes the same totals from the same table.
    if (m) await this.m.updateMap('pair_totals', keys.subarray(0, m * PAIR_KEY_SIZE), values.subarray(0, m * PAIR_TOTALS_SIZE));

    // Visible second.
    t.reserveRows(admitted.length);
    for (let i = 0, w = 0; i < n; i++) {
      const row = rows[i]!;
      if (row >= 0 ? t.epoch[row] === epoch : !isAdmitted[i]) {
        rows[i] = -1;
        continue;
      }
      const v = w++ * TOTALS_WORDS;
      const r = row >= 0 ? row : t.add(records, i * PAIR_RECORD_SIZE);
      t.bytes[r] = valueWords[v]! + valueWords[v + 1]! * U32;
      t.packets[r] = valueWords[v + 2]! + valueWords[v + 3]! * U32;
      t.epoch[r] = epoch;
      rows[i] = r;
    }
    this.stored += admitted.length;
    if (addLoss) {
      if (lossFits) {
        if (!this.lossStored) this.stored++;
        this.lossStored = true;
        this.loss.bytes = newLoss.bytes;
        this.loss.packets = newLoss.packets;
        this.lossEpoch = epoch;
        this.unwrittenLoss.bytes = this.unwrittenLoss.packets = 0;
      } else {
        // Not even the loss entry fits: kept until it does, not shown before.
        this.unwrittenLoss.bytes += lost.bytes;
        this.unwrittenLoss.packets += lost.packets;
      }
    }
    return { rows, written: m, lostPairs, lost, expired };
  }

  /** New pairs that fit: one entry stays free for the loss entry until it is written. */
  private room(): number {
    return Math.max(0, this.maxPairs - this.stored - (this.lossStored ? 0 : 1));
  }

  /**
   * Deletes the pairs idle longer than the TTL from pair_totals, then from the
   * table; rows in `keep` (the transaction being applied has traffic for them)
   * stay. Returns how many went.
   */
  private async expire(keep: Int32Array = new Int32Array(0)): Promise<number> {
    const t = this.table;
    const now = this.now();
    const expired: number[] = [];
    for (let row = 0; row < t.end; row++) {
      if (now - t.lastActiveMs[row]! > this.opts.pairTtlMs && t.live(row)) expired.push(row);
    }
    if (!expired.length) return 0;
    // Marked only now: a Set of every drained row cost a slot transaction
    // tens of ms at 100k pairs (bench/ drain), and usually nothing is due.
    const kept = new Uint8Array(t.end);
    for (const row of keep) if (row >= 0) kept[row] = 1;
    let due = 0;
    for (const row of expired) if (!kept[row]) expired[due++] = row;
    expired.length = due;
    if (!expired.length) return 0;
    const keys = Buffer.allocUnsafe(expired.length * PAIR_KEY_SIZE);
    expired.forEach((row, i) => t.keys.copy(keys, i * PAIR_KEY_SIZE, row * PAIR_KEY_SIZE, (row + 1) * PAIR_KEY_SIZE));
    await this.m.deleteKeys('pair_totals', keys);
    for (const row of expired) {
      t.remove(row);
      this.ringConnections.delete(row);
    }
    this.stored -= expired.length;
    return expired.length;
  }

  /** The rows a transaction applied were active now; a current slot's connections are this interval's. */
  private noteActivity(rows: Int32Array, records: Buffer, overflow: Buffer, slotConnections: boolean): void {
    const t = this.table;
    const now = this.now();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row < 0) continue;
      t.lastActiveMs[row] = now;
      t.seen[row] = 1;
      // A recovered slot's connections may be the current slot's too: only the current one is counted.
      if (slotConnections) t.pending[row] = records.readUInt32LE(i * PAIR_RECORD_SIZE + RECORD_CONNECTIONS);
    }
    if (!overflow.length) return;
    const key = Buffer.alloc(PAIR_KEY_SIZE);
    for (let at = 0; at + OVERFLOW_RECORD_SIZE <= overflow.length; at += OVERFLOW_RECORD_SIZE) {
      copyPairKey(overflow, at, key, 0);
      const row = t.find(key);
      if (row < 0) continue;
      let conns = this.ringConnections.get(row);
      if (!conns) this.ringConnections.set(row, (conns = new Set()));
      conns.add(overflow.readUInt32LE(at + 4));
    }
  }

  /** The interval's connections become the exported ones; returns the pairs active in it. */
  private endInterval(): number {
    const t = this.table;
    for (const [row, conns] of this.ringConnections) if (t.live(row)) t.pending[row]! += conns.size;
    let active = 0;
    for (let row = 0; row < t.end; row++) {
      if (!t.live(row)) continue;
      t.connections[row] = t.pending[row]!;
      if (t.seen[row]) active++;
      t.seen[row] = 0;
      t.pending[row] = 0;
    }
    this.ringConnections = new Map();
    return active;
  }

  /** Settles once every transaction queued so far has (the BPF object can be closed then). */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }
}
