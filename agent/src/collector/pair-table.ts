// Every IP pair the agent exports, one row each, kept in columns: the pinned
// ledger's totals (bytes, packets, epoch) mirrored in memory, the pair's label
// text built once, and its activity. It is both the ledger's memory and the
// series /metrics renders (metrics/pair-series.ts), so a pair costs a few
// hundred bytes instead of the ~1.8 KiB that prom-client's per-series objects
// plus two keyed maps took (bench/ footprint at 100k pairs).
import { PROTOCOL_NAMES } from '../bpf/records.js';
import { formatIPv4, formatIPv6 } from '../bpf/ip.js';

/** struct pair_key (bpf/flows.h): family, protocol, pad, src[16], dst[16]. */
export const PAIR_KEY_SIZE = 36;

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

/** Address text of a pair_key's source and destination, and its protocol's name. */
export function pairLabels(key: Uint8Array, at = 0): PairLabels {
  const protocol = PROTOCOL_NAMES[key[at + 1]!];
  if (!protocol) throw new Error(`pair with protocol ${key[at + 1]}: the BPF object and agent disagree`);
  const buf = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const fmt = key[at] === 6 ? formatIPv6 : formatIPv4;
  return { src_ip: fmt(buf, at + 4), dst_ip: fmt(buf, at + 20), protocol };
}

export class PairTable {
  /** The raw pair_key as a latin1 string: no address formatting to find a row. */
  private readonly index = new Map<string, number>();
  private readonly freeRows: number[] = [];
  private capacity = 0;
  /** Rows in use are below it; a freed row has no label until it is reused. */
  end = 0;
  keys = Buffer.alloc(0);
  bytes = new Float64Array(0);
  packets = new Float64Array(0);
  /** The last ledger transaction applied (flow_control epochs stay far below 2^53). */
  epoch = new Float64Array(0);
  lastActiveMs = new Float64Array(0);
  /** Distinct connections in the last finished collection interval. */
  connections = new Uint32Array(0);
  /** `{src_ip="…",dst_ip="…",protocol="…"}`, in prom-client's label order. */
  labels: (string | undefined)[] = [];
  /** Whether the active-connections series are exported (EBPF_CONNECTION_TRACKING). */
  trackConnections = true;

  get size(): number {
    return this.index.size;
  }

  static keyOf(raw: Uint8Array, at: number): string {
    return Buffer.from(raw.buffer, raw.byteOffset + at, PAIR_KEY_SIZE).toString('latin1');
  }

  find(key: string): number {
    return this.index.get(key) ?? -1;
  }

  live(row: number): boolean {
    return this.labels[row] !== undefined;
  }

  /** A new row for the pair_key at raw[at..], zeroed; the caller checked find() first. */
  add(raw: Uint8Array, at: number, key = PairTable.keyOf(raw, at)): number {
    const l = pairLabels(raw, at);
    const row = this.freeRows.pop() ?? this.end++;
    if (row >= this.capacity) this.reserve(Math.max(1024, this.capacity * 2));
    this.keys.set(raw.subarray(at, at + PAIR_KEY_SIZE), row * PAIR_KEY_SIZE);
    this.bytes[row] = this.packets[row] = this.epoch[row] = this.lastActiveMs[row] = this.connections[row] = 0;
    this.labels[row] = `{src_ip="${l.src_ip}",dst_ip="${l.dst_ip}",protocol="${l.protocol}"}`;
    this.index.set(key, row);
    return row;
  }

  remove(row: number): void {
    if (!this.live(row)) return;
    this.index.delete(PairTable.keyOf(this.keys, row * PAIR_KEY_SIZE));
    this.labels[row] = undefined;
    this.freeRows.push(row);
  }

  keyBytes(row: number): Buffer {
    return this.keys.subarray(row * PAIR_KEY_SIZE, (row + 1) * PAIR_KEY_SIZE);
  }

  labelsOf(row: number): PairLabels {
    return pairLabels(this.keys, row * PAIR_KEY_SIZE);
  }

  private reserve(capacity: number): void {
    const keys = Buffer.alloc(capacity * PAIR_KEY_SIZE);
    this.keys.copy(keys);
    this.keys = keys;
    this.bytes = grow(this.bytes, capacity);
    this.packets = grow(this.packets, capacity);
    this.epoch = grow(this.epoch, capacity);
    this.lastActiveMs = grow(this.lastActiveMs, capacity);
    this.connections = grow(this.connections, capacity);
    this.capacity = capacity;
  }
}
