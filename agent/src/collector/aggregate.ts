// Folds per-connection deltas into per-pair totals: the unit a series is
// exported for. Pure, so it is unit-tested without a kernel.
import type { FlowDelta, Protocol } from '../bpf/records.js';

export interface PairTotals {
  src: string;
  dst: string;
  protocol: Protocol;
  bytes: number;
  packets: number;
  /** Distinct 5-tuples seen in this batch. */
  connections: number;
}

export function pairKey(src: string, dst: string, protocol: Protocol): string {
  return `${src}|${dst}|${protocol}`;
}

export function aggregate(deltas: Iterable<FlowDelta>): Map<string, PairTotals> {
  const pairs = new Map<string, PairTotals>();
  const connections = new Set<string>();
  for (const d of deltas) {
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
  return pairs;
}
