// The TypeScript fold of a drain() buffer per pair, as the agent did before it
// folded in the addon (readPairs): bench/drain.ts still measures it beside the
// native fold, and tests/bench/js-fold.test.ts keeps it exact.
import { FLOW_KEY_SIZE, PROTOCOL_NAMES } from '../agent/src/bpf/records.js';
import { DRAIN_RECORD_SIZE, type FlowDelta } from './flow-records.js';
import { formatIPv4, formatIPv6 } from '../agent/src/bpf/ip.js';
import { fold, pairKey, type PairTotals } from './aggregate.js';
import { readU64 } from '../agent/src/collector/ledger.js';

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
    p.bytes += readU64(records, s);
    p.packets += readU64(records, s + 8);
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

