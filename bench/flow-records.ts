// Per-connection decoders of the flow map and ring buffer records
// (bpf/flows.h): objects with formatted addresses and BigInt times. The agent
// reads the records in place (collector/ledger.ts, pair-table.ts); the tests
// and the reference fold (aggregate.ts) decode them to check the programs.
import { FLOW_KEY_SIZE, OVERFLOW_RECORD_SIZE, PROTOCOL_NAMES, type Protocol } from '../agent/src/bpf/records.js';
import { formatIPv4, formatIPv6 } from '../agent/src/bpf/ip.js';

export const FLOW_STATS_SIZE = 32;
export const DRAIN_RECORD_SIZE = FLOW_KEY_SIZE + FLOW_STATS_SIZE;

export interface FlowDelta {
  family: 4 | 6;
  protocol: Protocol;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  bytes: number;
  packets: number;
  /** Kernel monotonic clock, nanoseconds. */
  firstSeenNs: bigint;
  lastSeenNs: bigint;
}

function decodeKey(buf: Buffer, at: number) {
  const family = buf[at] === 6 ? 6 : 4;
  const protocol = PROTOCOL_NAMES[buf[at + 1]!];
  if (!protocol) throw new Error(`flow record with protocol ${buf[at + 1]}: the BPF object and agent disagree`);
  const fmt = family === 4 ? formatIPv4 : formatIPv6;
  return {
    family,
    protocol,
    srcPort: buf.readUInt16BE(at + 4),
    dstPort: buf.readUInt16BE(at + 6),
    src: fmt(buf, at + 8),
    dst: fmt(buf, at + 24),
  } as const;
}

/** Drain buffer: flow_key + flow_stats per connection. */
export function decodeDrained(buf: Buffer): FlowDelta[] {
  const out: FlowDelta[] = [];
  for (let at = 0; at + DRAIN_RECORD_SIZE <= buf.length; at += DRAIN_RECORD_SIZE) {
    const s = at + FLOW_KEY_SIZE;
    out.push({
      ...decodeKey(buf, at),
      bytes: Number(buf.readBigUInt64LE(s)),
      packets: Number(buf.readBigUInt64LE(s + 8)),
      firstSeenNs: buf.readBigUInt64LE(s + 16),
      lastSeenNs: buf.readBigUInt64LE(s + 24),
    });
  }
  return out;
}

/** Overflow ring buffer batch: flow_record (key, bytes, packets, seen). */
export function decodeOverflow(buf: Buffer): FlowDelta[] {
  const out: FlowDelta[] = [];
  for (let at = 0; at + OVERFLOW_RECORD_SIZE <= buf.length; at += OVERFLOW_RECORD_SIZE) {
    const s = at + FLOW_KEY_SIZE;
    const seen = buf.readBigUInt64LE(s + 16);
    out.push({
      ...decodeKey(buf, at),
      bytes: Number(buf.readBigUInt64LE(s)),
      packets: Number(buf.readBigUInt64LE(s + 8)),
      firstSeenNs: seen,
      lastSeenNs: seen,
    });
  }
  return out;
}
