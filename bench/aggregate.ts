// The reference fold of per-connection deltas into per-pair totals, in
// TypeScript objects: what the agent did before the addon folded slots
// (readPairs) and the pair table held the totals. The bench's js-fold and the
// tests check the addon's fold and bench/js-fold.ts against it.
import { PROTOCOL_NAMES, type Protocol } from '../agent/src/bpf/records.js';
import type { FlowDelta } from './flow-records.js';
import { PAIR_KEY_SIZE, PAIR_RECORD_SIZE, RECORD_BYTES, RECORD_CONNECTIONS, RECORD_PACKETS, readU64 } from '../agent/src/collector/ledger.js';
import { formatIPv4, formatIPv6 } from '../agent/src/bpf/ip.js';

export interface PairTotals {
  src: string;
  dst: string;
  protocol: Protocol;
  bytes: number;
  packets: number;
  /** Distinct 5-tuples seen in this batch. */
  connections: number;
  /** The pair as pair_key bytes (bpf/flows.h), when it came from a drain buffer. */
  rawKey?: Buffer;
}

export function pairKey(src: string, dst: string, protocol: Protocol): string {
  return `${src}|${dst}|${protocol}`;
}

export function aggregate(deltas: Iterable<FlowDelta>): Map<string, PairTotals> {
  const pairs = new Map<string, PairTotals>();
  const connections = new Set<string>();
  for (const d of deltas) fold(pairs, connections, d);
  return pairs;
}

export function fold(pairs: Map<string, PairTotals>, connections: Set<string>, d: FlowDelta): void {
  const key = pairKey(d.src, d.dst, d.protocol);
  let p = pairs.get(key);
  if (!p) {
    p = { src: d.src, dst: d.dst, protocol: d.protocol, bytes: 0, packets: 0, connections: 0 };
    pairs.set(key, p);
  }
  p.bytes += d.bytes;
  p.packets += d.packets;
  // Overflow records repeat a connection once per packet; count it once.
  const conn = `${key}|${d.srcPort}|${d.dstPort}`;
  if (!connections.has(conn)) {
    connections.add(conn);
    p.connections++;
  }
}

/** Pair records folded by the addon (readPairs): one per pair, not per connection. */
export function decodePairRecords(buf: Buffer): Map<string, PairTotals> {
  const pairs = new Map<string, PairTotals>();
  for (let at = 0; at + PAIR_RECORD_SIZE <= buf.length; at += PAIR_RECORD_SIZE) {
    const protocol = PROTOCOL_NAMES[buf[at + 1]!];
    if (!protocol) throw new Error(`pair record with protocol ${buf[at + 1]}: the BPF object and agent disagree`);
    const fmt = buf[at] === 6 ? formatIPv6 : formatIPv4;
    const src = fmt(buf, at + 4);
    const dst = fmt(buf, at + 20);
    pairs.set(pairKey(src, dst, protocol), {
      src, dst, protocol,
      bytes: readU64(buf, at + RECORD_BYTES),
      packets: readU64(buf, at + RECORD_PACKETS),
      connections: buf.readUInt32LE(at + RECORD_CONNECTIONS),
      rawKey: Buffer.from(buf.subarray(at, at + PAIR_KEY_SIZE)),
    });
  }
  return pairs;
}
