// Every IP pair the agent exports, one row each, kept in columns: the pinned
// ledger's totals (bytes, packets, epoch) mirrored in memory, the pair's key
// (its label text is written from it on each scrape) and its activity. It is the storage of the Ledger
// (ledger.ts), its only writer; /metrics renders the series from it through
// the read-only PairView (metrics/pair-series.ts). A pair costs a few hundred
// bytes instead of the ~1.8 KiB that prom-client's per-series objects plus two
// keyed maps took (bench/ footprint at 100k pairs).
import { PROTOCOL_NAMES } from '../bpf/records.js';
import { formatIPv4, formatIPv6 } from '../bpf/ip.js';

/** struct pair_key (bpf/flows.h): family, protocol, pad, src[16], dst[16]. */
export const PAIR_KEY_SIZE = 36;

export type PairColumn = 'bytes' | 'packets' | 'connections';

/**
 * What renderers may see of the pairs: rows below `end`, live ones with their
 * label text and their exported values. No writes: the ledger owns the values.
 */
export interface PairView {
  readonly end: number;
  readonly size: number;
  /** Whether the active-connections series are exported (EBPF_CONNECTION_TRACKING). */
  readonly trackConnections: boolean;
  live(row: number): boolean;
  labelsOf(row: number): PairLabels;
  /**
   * `{src_ip="…",dst_ip="…",protocol="…"}` of a live row written at out[at..]
   * (the caller has MAX_LABEL_TEXT bytes there); returns where it ends.
   */
  writeLabels(row: number, out: Uint8Array, at: number): number;
  column(name: PairColumn): ArrayLike<number>;
  /** A reader in progress keeps removed rows from being reused (see PairTable). */
  beginRead(): void;
  endRead(): void;
}

/** Longest label text: two full IPv6 addresses (114 bytes), plus room. */
export const MAX_LABEL_TEXT = 128;

export interface PairLabels {
  src_ip: string;
  dst_ip: string;
  protocol: string;
}

function grow<T extends Float64Array | Uint32Array | Uint8Array>(a: T, capacity: number): T {
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a);
  return b;
}

function protocolOf(key: Uint8Array, at: number): string {
  const protocol = PROTOCOL_NAMES[key[at + 1]!];
  if (!protocol) throw new Error(`pair with protocol ${key[at + 1]}: the BPF object and agent disagree`);
  return protocol;
}

/** Address text of a pair_key's source and destination, and its protocol's name. */
export function pairLabels(key: Uint8Array, at = 0): PairLabels {
  const protocol = protocolOf(key, at);
  const fmt = key[at] === 6 ? formatIPv6 : formatIPv4;
  return { src_ip: fmt(key, at + 4), dst_ip: fmt(key, at + 20), protocol };
}

/** A pair_key's 9 little-endian 32-bit words. */
const KEY_WORDS = PAIR_KEY_SIZE / 4;

/**
 * `bytes` as 32-bit words, without a copy where it is 4-byte aligned (the
 * addon's buffers and the table's keys are); undefined where it is not.
 */
export function wordsOf(bytes: Uint8Array): Int32Array | undefined {
  return bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) : undefined;
}

/** One key copied to an aligned place, for keys that are not. */
const oneKey = new Int32Array(KEY_WORDS);
const oneKeyBytes = new Uint8Array(oneKey.buffer);

/**
 * Raw pair_key bytes -> row, open addressing with linear probing over an
 * Int32Array: finding a pair allocates nothing (a Map needed a key string per
 * lookup, 100k a drain), and an entry costs 8 bytes, not a string and a Map slot.
 * Keys are hashed and compared a 32-bit word at a time: byte by byte, finding
 * a drain's 100k pairs took tens of ms (bench/ drain).
 */
class PairIndex {
  private slots = new Int32Array(1024).fill(-1);
  private mask = 1023;
  size = 0;

  constructor(private readonly table: PairTable) {}

  /** The key at words[w..w+9). */
  static hash(words: Int32Array, w: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < KEY_WORDS; i++) {
      h = Math.imul(h ^ words[w + i]!, 0x9e3779b1);
      h ^= h >>> 15;
    }
    return h >>> 0;
  }

  private hashRow(row: number): number {
    return PairIndex.hash(this.table.keyWords, row * KEY_WORDS);
  }

  find(raw: Uint8Array, at: number): number {
    const words = at % 4 === 0 ? wordsOf(raw) : undefined;
    if (words) return this.findWords(words, at >> 2);
    for (let i = 0; i < PAIR_KEY_SIZE; i++) oneKeyBytes[i] = raw[at + i]!;
    return this.findWords(oneKey, 0);
  }

  /** The row of the key at words[w..w+9), or -1. */
  findWords(words: Int32Array, w: number): number {
    const keys = this.table.keyWords;
    for (let i = PairIndex.hash(words, w) & this.mask; ; i = (i + 1) & this.mask) {
      const row = this.slots[i]!;
      if (row < 0) return -1;
      const k = row * KEY_WORDS;
      let j = 0;
      while (j < KEY_WORDS && keys[k + j] === words[w + j]) j++;
      if (j === KEY_WORDS) return row;
    }
  }

  /** The row's key is already in the table's keys. */
  insert(row: number): void {
    if ((this.size + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    this.place(row);
    this.size++;
  }

  private place(row: number): void {
    let i = this.hashRow(row) & this.mask;
    while (this.slots[i]! >= 0) i = (i + 1) & this.mask;
    this.slots[i] = row;
  }

  /** Backward-shift deletion: no tombstones, probe chains stay short. */
  delete(row: number): void {
    let i = this.hashRow(row) & this.mask;
    while (this.slots[i] !== row) i = (i + 1) & this.mask;
    for (let j = (i + 1) & this.mask; this.slots[j]! >= 0; j = (j + 1) & this.mask) {
      const home = this.hashRow(this.slots[j]!) & this.mask;
      // Move j into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      this.slots[i] = this.slots[j]!;
      i = j;
    }
    this.slots[i] = -1;
    this.size--;
  }

  private rehash(capacity: number): void {
    const old = this.slots;
    this.slots = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    for (const row of old) if (row >= 0) this.place(row);
  }
}

// The label text is written as bytes straight into the scrape's buffer: a
// string per pair (~75 bytes of V8 heap each, 7.5 MiB at 100k pairs: bench/
// footprint) was kept only to be copied there. IPv6 text, which needs
// formatIPv6's strings, is kept per row instead (IPv6 pairs are few).
function put(out: Uint8Array, s: string, n: number): number {
  for (let i = 0; i < s.length; i++) out[n++] = s.charCodeAt(i);
  return n;
}

function putIPv4(out: Uint8Array, key: Uint8Array, at: number, n: number): number {
  for (let i = 0; i < 4; i++) {
    const v = key[at + i]!;
    if (i) out[n++] = 46; // '.'
    if (v >= 100) out[n++] = 48 + ((v / 100) | 0);
    if (v >= 10) out[n++] = 48 + (((v / 10) | 0) % 10);
    out[n++] = 48 + (v % 10);
  }
  return n;
}

/** Writes the label text of the pair_key at key[at..] at out[n..], in prom-client's label order; returns its end. */
function putLabels(out: Uint8Array, key: Uint8Array, at: number, n: number): number {
  const protocol = protocolOf(key, at);
  const v6 = key[at] === 6;
  n = put(out, '{src_ip="', n);
  n = v6 ? put(out, formatIPv6(key, at + 4), n) : putIPv4(out, key, at + 4, n);
  n = put(out, '",dst_ip="', n);
  n = v6 ? put(out, formatIPv6(key, at + 20), n) : putIPv4(out, key, at + 20, n);
  n = put(out, '",protocol="', n);
  n = put(out, protocol, n);
  return put(out, '"}', n);
}

const scratch = Buffer.alloc(MAX_LABEL_TEXT);

/** `{src_ip="…",dst_ip="…",protocol="…"}` of the pair_key at key[at..], in prom-client's label order. */
export function labelText(key: Uint8Array, at: number): string {
  return scratch.toString('latin1', 0, putLabels(scratch, key, at, 0));
}

export class PairTable implements PairView {
  private readonly index = new PairIndex(this);
  private readonly freeRows: number[] = [];
  /**
   * Scrapes stream the table in chunks while collections go on. A pair removed
   * meanwhile keeps its row (dead, found again if it comes back) until the last
   * reader ends, so no scrape can see one pair at two rows.
   */
  private readers = 0;
  private deadRows: number[] = [];
  private capacity = 0;
  /** Rows in use are below it; a freed row has no label until it is reused. */
  end = 0;
  keys = Buffer.alloc(0);
  /** The same memory as 32-bit words (PairIndex hashes and compares them). */
  keyWords: Int32Array = new Int32Array(0);
  bytes = new Float64Array(0);
  packets = new Float64Array(0);
  /** The last ledger transaction applied (flow_control epochs stay far below 2^53). */
  epoch = new Float64Array(0);
  lastActiveMs = new Float64Array(0);
  /** Distinct connections in the last finished collection interval. */
  connections = new Uint32Array(0);
  /** The interval in progress: 1 where a transaction applied traffic, and the slot's connections. */
  seen = new Uint8Array(0);
  pending = new Uint32Array(0);
  /** 1 where a row holds a pair. */
  private alive = new Uint8Array(0);
  /** Label text of the IPv6 rows (IPv4 text is written from the key). */
  private readonly v6Labels = new Map<number, string>();
  /** Whether the active-connections series are exported (EBPF_CONNECTION_TRACKING). */
  trackConnections = true;

  get size(): number {
    return this.index.size;
  }

  column(name: PairColumn): ArrayLike<number> {
    return this[name];
  }

  /** Every pair gone (a ledger reopened); capacity and readers stay. */
  clear(): void {
    for (let row = 0; row < this.end; row++) this.remove(row);
  }

  /** The row of each of `n` pair_keys (`stride` bytes apart), -1 where there is none; adds nothing. */
  findRows(raw: Uint8Array, n: number, stride: number): Int32Array {
    const rows = new Int32Array(n);
    const words = stride % 4 === 0 ? wordsOf(raw) : undefined;
    if (!words) {
      for (let i = 0; i < n; i++) rows[i] = this.find(raw, i * stride);
      return rows;
    }
    for (let i = 0, w = 0; i < n; i++, w += stride >> 2) {
      const row = this.index.findWords(words, w);
      rows[i] = row >= 0 && this.live(row) ? row : -1;
    }
    return rows;
  }

  /** Room for `more` rows beyond the end, made in one step. */
  reserveRows(more: number): void {
    if (this.end + more > this.capacity) this.reserve(Math.max(this.end + more, this.capacity * 2));
  }

  /** The row of the pair_key at raw[at..], or -1. */
  find(raw: Uint8Array, at = 0): number {
    const row = this.index.find(raw, at);
    return row >= 0 && this.live(row) ? row : -1;
  }

  live(row: number): boolean {
    return this.alive[row] === 1;
  }

  writeLabels(row: number, out: Uint8Array, at: number): number {
    const v6 = this.v6Labels.get(row);
    return v6 === undefined ? putLabels(out, this.keys, row * PAIR_KEY_SIZE, at) : put(out, v6, at);
  }

  /** A new row for the pair_key at raw[at..], zeroed; the caller checked find() first. */
  add(raw: Uint8Array, at = 0): number {
    // An unknown protocol is refused here, not at a scrape; text is kept for IPv6 only.
    protocolOf(raw, at);
    const v6 = raw[at] === 6 ? labelText(raw, at) : undefined;
    const dead = this.index.find(raw, at);
    const row = dead >= 0 ? dead : (this.freeRows.pop() ?? this.end++);
    if (row >= this.capacity) this.reserve(Math.max(1024, this.capacity * 2));
    // Byte by byte: a subarray per pair was most of a drain's garbage at 100k new pairs.
    const keys = this.keys;
    const to = row * PAIR_KEY_SIZE;
    for (let i = 0; i < PAIR_KEY_SIZE; i++) keys[to + i] = raw[at + i]!;
    this.bytes[row] = this.packets[row] = this.epoch[row] = this.lastActiveMs[row] = 0;
    this.connections[row] = this.pending[row] = this.seen[row] = 0;
    this.alive[row] = 1;
    if (v6 !== undefined) this.v6Labels.set(row, v6);
    if (dead < 0) this.index.insert(row);
    return row;
  }

  remove(row: number): void {
    if (!this.live(row)) return;
    this.alive[row] = 0;
    this.v6Labels.delete(row);
    if (this.readers > 0) this.deadRows.push(row);
    else this.free(row);
  }

  private free(row: number): void {
    this.index.delete(row);
    this.freeRows.push(row);
  }

  beginRead(): void {
    this.readers++;
  }

  endRead(): void {
    if (--this.readers > 0) return;
    for (const row of this.deadRows) if (!this.live(row)) this.free(row);
    this.deadRows = [];
  }

  keyBytes(row: number): Buffer {
    return this.keys.subarray(row * PAIR_KEY_SIZE, (row + 1) * PAIR_KEY_SIZE);
  }

  labelsOf(row: number): PairLabels {
    return pairLabels(this.keys, row * PAIR_KEY_SIZE);
  }

  private reserve(capacity: number): void {
    // Its own ArrayBuffer, so aligned for keyWords.
    const keys = Buffer.from(new ArrayBuffer(capacity * PAIR_KEY_SIZE));
    this.keys.copy(keys);
    this.keys = keys;
    this.keyWords = wordsOf(keys)!;
    this.bytes = grow(this.bytes, capacity);
    this.packets = grow(this.packets, capacity);
    this.epoch = grow(this.epoch, capacity);
    this.lastActiveMs = grow(this.lastActiveMs, capacity);
    this.connections = grow(this.connections, capacity);
    this.seen = grow(this.seen, capacity);
    this.pending = grow(this.pending, capacity);
    this.alive = grow(this.alive, capacity);
    this.capacity = capacity;
  }
}
