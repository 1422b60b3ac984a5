// aggregateDrained (bench/js-fold.ts, the TypeScript fold measured by bench/drain.ts)
// must fold exactly as the reference aggregate(decodeDrained(...)) does.
import test from 'ava';
import { encodePairKey } from '../../agent/src/collector/ledger.js';
import { aggregate, type PairTotals } from '../../bench/aggregate.js';
import { aggregateDrained } from '../../bench/js-fold.js';
import { DRAIN_RECORD_SIZE, decodeDrained, type FlowDelta } from '../../bench/flow-records.js';

function withoutRawKeys(pairs: Map<string, PairTotals>): Record<string, PairTotals> {
  return Object.fromEntries([...pairs].map(([k, { rawKey: _raw, ...p }]) => [k, p]));
}

function record(buf: Buffer, i: number, o: { v6: boolean; protocol: number; pair: number; sport: number; bytes: number; packets: number }) {
  const at = i * DRAIN_RECORD_SIZE;
  buf[at] = o.v6 ? 6 : 4;
  buf[at + 1] = o.protocol;
  buf.writeUInt16BE(o.sport, at + 4);
  buf.writeUInt16BE(443, at + 6);
  const src = at + 8;
  if (o.v6) {
    buf.writeUInt16BE(0xfd00, src);
    buf.writeUInt16BE(o.pair, src + 14);
    buf.writeUInt16BE(0xfd00, src + 16);
    buf.writeUInt16BE(0x2001, src + 18);
    buf.writeUInt16BE(1, src + 30);
  } else {
    buf.set([10, 244, o.pair >> 8, o.pair & 0xff], src);
    buf.set([10, 96, 0, 1], src + 16);
  }
  // bytes above 2^32 exercise the high word.
  buf.writeBigUInt64LE(BigInt(o.bytes), at + 40);
  buf.writeBigUInt64LE(BigInt(o.packets), at + 48);
  buf.writeBigUInt64LE(123n, at + 56);
  buf.writeBigUInt64LE(456n, at + 64);
}

function drained(): Buffer {
  const n = 60;
  const buf = Buffer.alloc(n * DRAIN_RECORD_SIZE);
  for (let i = 0; i < n; i++) {
    record(buf, i, { v6: i % 3 === 0, protocol: i % 2 ? 17 : 6, pair: i % 7, sport: 1000 + i, bytes: i === 5 ? 2 ** 40 + 17 : 100 * i + 1, packets: i + 1 });
  }
  return buf;
}

test('the drain buffer folds exactly like decode + aggregate', (t) => {
  const buf = drained();
  const folded = aggregateDrained(buf);
  t.deepEqual(withoutRawKeys(folded), Object.fromEntries(aggregate(decodeDrained(buf))));
  // Each pair carries its pair_key bytes, which encode back to the same pair.
  for (const p of folded.values()) t.deepEqual(p.rawKey, encodePairKey(p.src, p.dst, p.protocol));
  t.true(aggregateDrained(buf).size > 10);
});

test('with overflow records, a connection seen in both is counted once', (t) => {
  const buf = drained();
  const first = decodeDrained(buf)[1]!;
  const overflow: FlowDelta[] = [
    { ...first, bytes: 7, packets: 1 },
    { ...first, bytes: 9, packets: 1 },
    { ...first, srcPort: 65000, bytes: 11, packets: 1 },
    { family: 4, protocol: 'udp', src: '192.0.2.1', dst: '192.0.2.2', srcPort: 1, dstPort: 2, bytes: 5, packets: 1, firstSeenNs: 0n, lastSeenNs: 0n },
  ];
  const fast = withoutRawKeys(aggregateDrained(buf, overflow));
  t.deepEqual(fast, Object.fromEntries(aggregate(decodeDrained(buf).concat(overflow))));
  const pair = fast[`${first.src}|${first.dst}|${first.protocol}`]!;
  const before = aggregateDrained(buf).get(`${first.src}|${first.dst}|${first.protocol}`)!;
  t.is(pair.connections, before.connections + 1);
  t.is(pair.bytes, before.bytes + 27);
});

test('an unknown protocol is refused as the decoder refuses it', (t) => {
  const buf = drained();
  buf[1] = 1;
  t.throws(() => aggregateDrained(buf), { message: /protocol 1: the BPF object and agent disagree/ });
});
