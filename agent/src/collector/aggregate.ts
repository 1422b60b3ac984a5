// Folds per-connection deltas into per-pair totals: the unit a series is
// exported for. Pure, so it is unit-tested without a kernel.
import { DRAIN_RECORD_SIZE, FLOW_KEY_SIZE, type FlowDelta, type Protocol } from '../bpf/records.js';
import { formatIPv4, formatIPv6 } from '../bpf/ip.js';

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

function fold(pairs: Map<string, PairTotals>, connections: Set<string>, d: FlowDelta): void {
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

const PROTOCOL_NAMES: Record<number, Protocol> = { 6: 'tcp', 17: 'udp' };
const U32 = 2 ** 32;

/**
 * The same as aggregate(decodeDrained(records).concat(overflow)), read straight
 * from the drain buffer: no object per connection, addresses formatted once
 * per pair, not per connection (bench/ measured decoding as ~75% of a drain).
 */
export function aggregateDrained(records: Buffer, overflow: readonly FlowDelta[] = []): Map<string, PairTotals> {
  const pairs = new Map<string, PairTotals>();
  // Raw key -> its pair, so addresses are formatted once per pair. IPv4: one
  // map per protocol, keyed by source then destination address read as signed
  // 32-bit integers (small integers: no allocation per record; at 1M
  // connections string keys cost more in GC than all the rest, bench/).
  // IPv6: a short string of family, protocol and both addresses.
  const raw4 = new Map<number, Map<number, PairTotals>>();
  const raw4udp = new Map<number, Map<number, PairTotals>>();
  const raw6 = new Map<string, PairTotals>();
  // Map keys are unique, so each drained record is a distinct connection;
  // only overflow records can repeat one, and only then is the set needed.
  const connections = overflow.length ? new Set<string>() : undefined;
  for (let at = 0; at + DRAIN_RECORD_SIZE <= records.length; at += DRAIN_RECORD_SIZE) {
    const proto = records[at + 1]!;
    if (proto !== 6 && proto !== 17) throw new Error(`flow record with protocol ${proto}: the BPF object and agent disagree`);
    let bySrc: Map<number, PairTotals> | undefined;
    let id4 = 0;
    let id6 = '';
    let p: PairTotals | undefined;
    if (records[at] === 4) {
      const byProto = proto === 17 ? raw4udp : raw4;
      const src = records.readInt32BE(at + 8);
      bySrc = byProto.get(src);
      if (!bySrc) byProto.set(src, (bySrc = new Map()));
      id4 = records.readInt32BE(at + 24);
      p = bySrc.get(id4);
    } else {
      id6 = records.toString('latin1', at, at + 2) + records.toString('latin1', at + 8, at + FLOW_KEY_SIZE);
      p = raw6.get(id6);
    }
    if (!p) {
      const protocol = PROTOCOL_NAMES[proto]!;
      const fmt = records[at] === 6 ? formatIPv6 : formatIPv4;
      const src = fmt(records, at + 8);
      const dst = fmt(records, at + 24);
      const key = pairKey(src, dst, protocol);
      p = pairs.get(key);
      if (!p) {
        // pair_key: family, protocol, 2 bytes of padding, both addresses.
        const rawKey = Buffer.alloc(36);
        rawKey[0] = records[at]!;
        rawKey[1] = proto;
        records.copy(rawKey, 4, at + 8, at + FLOW_KEY_SIZE);
        p = { src, dst, protocol, bytes: 0, packets: 0, connections: 0, rawKey };
        pairs.set(key, p);
      }
      if (bySrc) bySrc.set(id4, p);
      else raw6.set(id6, p);
    }
    const s = at + FLOW_KEY_SIZE;
    p.bytes += records.readUInt32LE(s) + records.readUInt32LE(s + 4) * U32;
    p.packets += records.readUInt32LE(s + 8) + records.readUInt32LE(s + 12) * U32;
    if (!connections) {
      p.connections++;
    } else {
      const conn = `${pairKey(p.src, p.dst, p.protocol)}|${records.readUInt16BE(at + 4)}|${records.readUInt16BE(at + 6)}`;
      if (!connections.has(conn)) {
        connections.add(conn);
        p.connections++;
      }
    }
  }
  if (connections) for (const d of overflow) fold(pairs, connections, d);
  return pairs;
}

export const PAIR_RECORD_SIZE = 56;

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
      bytes: buf.readUInt32LE(at + 36) + buf.readUInt32LE(at + 40) * U32,
      packets: buf.readUInt32LE(at + 44) + buf.readUInt32LE(at + 48) * U32,
      connections: buf.readUInt32LE(at + 52),
      rawKey: Buffer.from(buf.subarray(at, at + 36)),
    });
  }
  return pairs;
}
