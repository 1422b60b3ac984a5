// The pair ledger's logic against a fake of its maps (tests/helpers): exactly
// once per transaction, durable before visible, expiry before new counts, and
// a full ledger that keeps exporting what fits and counts the rest as loss,
// across failures and process restarts. tests/e2e/node/ledger-full.test.ts
// proves the same against the kernel.
import test from 'ava';
import { Ledger, PAIR_TOTALS_SIZE, encodePairKey, type LedgerOptions } from '../../agent/src/collector/ledger.js';
import { FakeLedgerMaps } from '../helpers/fake-ledger-maps.js';

class Clock {
  ms = 1_000_000;
  readonly now = () => this.ms;
}

function ledger(maps: FakeLedgerMaps, clock: Clock, opts: Partial<LedgerOptions> = {}): Ledger {
  return new Ledger({ pairTtlMs: 60_000, trackConnections: true, now: clock.now, ...opts });
}

/** What /metrics shows: `src|dst|protocol` -> [bytes, packets, connections]. */
function shown(l: Ledger): Record<string, [number, number, number]> {
  const v = l.view;
  const out: Record<string, [number, number, number]> = {};
  for (let row = 0; row < v.end; row++) {
    if (!v.live(row)) continue;
    const { src_ip, dst_ip, protocol } = v.labelsOf(row);
    out[`${src_ip}|${dst_ip}|${protocol}`] = [v.column('bytes')[row]!, v.column('packets')[row]!, v.column('connections')[row]!];
  }
  return out;
}

/** The pinned totals (pair_totals), in the same form without connections; the loss entry as `loss`. */
function pinned(maps: FakeLedgerMaps): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const [hex, value] of maps.totals) {
    const k = Buffer.from(hex, 'hex');
    const totals: [number, number] = [Number(value.readBigUInt64LE(0)), Number(value.readBigUInt64LE(8))];
    if (k[0] === 0) out.loss = totals;
    else out[`${k.subarray(4, 8).join('.')}|${k.subarray(20, 24).join('.')}|${k[1] === 6 ? 'tcp' : 'udp'}`] = totals;
  }
  return out;
}

const pod = (i: number) => `10.244.1.${i}`;
const peer = '10.244.2.1';

test('a slot is applied once: the pinned totals and /metrics agree, connections per interval', async (t) => {
  const maps = new FakeLedgerMaps(1024);
  const clock = new Clock();
  const l = ledger(maps, clock);
  t.deepEqual(await l.open(maps, maps.maxPairs), { pairs: 0, foreign: 0 });
  maps.send(pod(1), peer, 'tcp', 1000, 10, 1);
  maps.send(pod(1), peer, 'tcp', 500, 5, 2);
  maps.send(pod(2), peer, 'udp', 300, 3, 7);
  const [r] = await l.applySlot();
  t.is(r!.activePairs, 2);
  t.is(r!.drainedFlows, 3);
  t.deepEqual(shown(l), { [`${pod(1)}|${peer}|tcp`]: [1500, 15, 2], [`${pod(2)}|${peer}|udp`]: [300, 3, 1] });
  t.deepEqual(pinned(maps), { [`${pod(1)}|${peer}|tcp`]: [1500, 15], [`${pod(2)}|${peer}|udp`]: [300, 3] });

  maps.send(pod(1), peer, 'tcp', 20, 1, 1);
  await l.applySlot();
  t.deepEqual(shown(l), { [`${pod(1)}|${peer}|tcp`]: [1520, 16, 1], [`${pod(2)}|${peer}|udp`]: [300, 3, 0] });
  t.deepEqual(l.lost, { bytes: 0, packets: 0 });
  t.is(l.used, 2);
});

test('full: the pairs with the most bytes are exported, the rest is durable loss, known pairs keep counting, a restart continues both', async (t) => {
  // 8 entries: 7 pairs and the loss entry.
  const maps = new FakeLedgerMaps(8);
  const clock = new Clock();
  const l = ledger(maps, clock);
  await l.open(maps, maps.maxPairs);
  for (let i = 1; i <= 10; i++) maps.send(pod(i), peer, 'udp', 100 * i, i);
  const [r] = await l.applySlot();
  t.is(r!.lostPairs, 3);
  t.deepEqual(r!.lost, { bytes: 100 + 200 + 300, packets: 1 + 2 + 3 });
  const kept = Object.fromEntries([4, 5, 6, 7, 8, 9, 10].map((i) => [`${pod(i)}|${peer}|udp`, [100 * i, i, 1] as [number, number, number]]));
  t.deepEqual(shown(l), kept);
  t.deepEqual(l.lost, { bytes: 600, packets: 6 });
  t.is(maps.totals.size, 8, 'pair_totals exactly full, never refused');
  t.is(l.used, 8);
  t.deepEqual(pinned(maps).loss, [600, 6]);

  // Still full: a known pair counts on, a new one is loss, nothing fails.
  maps.send(pod(10), peer, 'udp', 50, 1);
  maps.send(pod(11), peer, 'udp', 10_000, 20);
  const [r2] = await l.applySlot();
  t.is(r2!.lostPairs, 1);
  t.deepEqual(shown(l)[`${pod(10)}|${peer}|udp`], [1050, 11, 1]);
  t.is(shown(l)[`${pod(11)}|${peer}|udp`], undefined);
  t.deepEqual(l.lost, { bytes: 10_600, packets: 26 });

  // SIGKILL: a new process on the same pins continues the pairs and the loss.
  const again = ledger(maps, clock);
  t.deepEqual(await again.open(maps, maps.maxPairs), { pairs: 7, foreign: 0 });
  t.deepEqual(again.lost, { bytes: 10_600, packets: 26 });
  const before = shown(l);
  for (const k of Object.keys(before)) before[k]![2] = 0; // connections are per interval, not pinned
  t.deepEqual(shown(again), before);
});

test('pairs idle past the TTL expire before new counts apply; a pair in the batch stays however long it was idle', async (t) => {
  const maps = new FakeLedgerMaps(4);
  const clock = new Clock();
  const l = ledger(maps, clock);
  await l.open(maps, maps.maxPairs);
  for (const i of [1, 2, 3]) maps.send(pod(i), peer, 'tcp', 10 * i, 1);
  await l.applySlot();
  clock.ms += 30_000;
  maps.send(pod(1), peer, 'tcp', 5, 1);
  await l.applySlot();
  // 70 s after pairs 2 and 3 were last seen, 40 s after pair 1.
  clock.ms += 40_000;
  maps.send(pod(3), peer, 'tcp', 1, 1);
  maps.send(pod(4), peer, 'tcp', 500, 1);
  maps.send(pod(5), peer, 'tcp', 400, 1);
  const [r] = await l.applySlot();
  t.is(r!.expired, 1, 'pair 2 only: pair 3 has traffic in this very slot');
  t.is(r!.lostPairs, 1, 'room for one of the two new pairs');
  t.deepEqual(Object.keys(shown(l)).sort(), [1, 3, 4].map((i) => `${pod(i)}|${peer}|tcp`));
  t.deepEqual(shown(l)[`${pod(3)}|${peer}|tcp`], [31, 2, 1]);
  t.deepEqual(pinned(maps), {
    [`${pod(1)}|${peer}|tcp`]: [15, 2], [`${pod(3)}|${peer}|tcp`]: [31, 2], [`${pod(4)}|${peer}|tcp`]: [500, 1], loss: [400, 1],
  });
});

test('durable first: a failed write shows nothing new, the retry applies the transaction exactly once', async (t) => {
  const maps = new FakeLedgerMaps(1024);
  const clock = new Clock();
  const l = ledger(maps, clock);
  await l.open(maps, maps.maxPairs);
  maps.send(pod(1), peer, 'tcp', 100, 1);
  maps.send(pod(2), peer, 'tcp', 200, 2);
  await l.applySlot();
  maps.send(pod(1), peer, 'tcp', 1, 1);
  maps.send(pod(2), peer, 'tcp', 2, 1);
  maps.send(pod(3), peer, 'tcp', 3, 1);
  maps.failUpdateAfter = 1; // the first pair written, then the batch fails
  await t.throwsAsync(l.applySlot(), { code: 'EIO' });
  t.deepEqual(shown(l), { [`${pod(1)}|${peer}|tcp`]: [100, 1, 1], [`${pod(2)}|${peer}|tcp`]: [200, 2, 1] }, 'nothing the pins may not have');
  t.is(maps.control().txnKind, 1, 'the transaction stays open');
  t.deepEqual(pinned(maps)[`${pod(1)}|${peer}|tcp`], [101, 2], 'the part written before the failure');

  maps.send(pod(3), peer, 'tcp', 30, 1); // the next interval's traffic, in the other slot
  const done = await l.applySlot();
  t.is(done.length, 2, 'the open transaction, then this interval');
  const want = { [`${pod(1)}|${peer}|tcp`]: [101, 2], [`${pod(2)}|${peer}|tcp`]: [202, 3], [`${pod(3)}|${peer}|tcp`]: [33, 2] };
  t.deepEqual(pinned(maps), want);
  t.deepEqual(Object.fromEntries(Object.entries(shown(l)).map(([k, v]) => [k, v.slice(0, 2)])), want);
});

test('a crash in a full transaction: the next process applies the pairs and the loss exactly once', async (t) => {
  for (const crash of ['mid-write', 'after-write'] as const) {
    const maps = new FakeLedgerMaps(4);
    const clock = new Clock();
    const first = ledger(maps, clock);
    await first.open(maps, maps.maxPairs);
    for (const i of [1, 2, 3]) maps.send(pod(i), peer, 'udp', 10, 1);
    await first.applySlot();
    maps.send(pod(1), peer, 'udp', 5, 1);
    maps.send(pod(4), peer, 'udp', 700, 7);
    maps.send(pod(5), peer, 'udp', 900, 9);
    if (crash === 'mid-write') maps.failUpdateAfter = 1; // pair 1 written, the loss entry not
    else maps.failSlotRelease = true; // all written, the slot not released
    await t.throwsAsync(first.applySlot());

    const second = ledger(maps, clock);
    await second.open(maps, maps.maxPairs);
    const r = await second.recover();
    t.is(r!.kind, 'slot', crash);
    t.deepEqual(second.lost, { bytes: 1600, packets: 16 }, crash);
    t.deepEqual(pinned(maps), {
      [`${pod(1)}|${peer}|udp`]: [15, 2], [`${pod(2)}|${peer}|udp`]: [10, 1], [`${pod(3)}|${peer}|udp`]: [10, 1], loss: [1600, 16],
    }, crash);
    t.is(maps.control().txnKind, 0, crash);
    // And once more: nothing is applied twice.
    await second.applySlot();
    t.deepEqual(second.lost, { bytes: 1600, packets: 16 }, crash);
    t.deepEqual(pinned(maps)[`${pod(1)}|${peer}|udp`], [15, 2], crash);
  }
});

test('the ring: overflow records fold per pair, a full ledger loses what does not fit, their connections count at the interval end', async (t) => {
  const maps = new FakeLedgerMaps(3);
  const clock = new Clock();
  const l = ledger(maps, clock);
  await l.open(maps, maps.maxPairs);
  maps.overflow(pod(1), peer, 'tcp', 100, 1, 1);
  maps.overflow(pod(1), peer, 'tcp', 100, 1, 2);
  maps.overflow(pod(2), peer, 'tcp', 300, 3, 1);
  maps.overflow(pod(3), peer, 'tcp', 50, 1, 1);
  const [r] = await l.applyRing();
  t.is(r!.overflowRecords, 4);
  t.is(r!.lostPairs, 1);
  t.deepEqual(l.lost, { bytes: 50, packets: 1 });
  maps.overflow(pod(1), peer, 'tcp', 1, 1, 3);
  await l.applyRing();
  t.deepEqual(await l.applyRing(), [], 'an empty ring starts no transaction');
  await l.applySlot();
  t.deepEqual(shown(l), { [`${pod(1)}|${peer}|tcp`]: [201, 3, 3], [`${pod(2)}|${peer}|tcp`]: [300, 3, 1] });
  t.is(maps.totals.size, 3);
});

test('entries this agent cannot name take room; a map an older agent filled gets its loss entry once an expiry frees one', async (t) => {
  const maps = new FakeLedgerMaps(4);
  const clock = new Clock();
  const icmp = encodePairKey(pod(9), peer, 'tcp');
  icmp[1] = 1;
  maps.totals.set(icmp.toString('hex'), Buffer.alloc(PAIR_TOTALS_SIZE));
  // Three pairs pinned by an agent that reserved no loss entry: the map is full.
  for (const i of [1, 2, 3]) {
    const v = Buffer.alloc(PAIR_TOTALS_SIZE);
    v.writeBigUInt64LE(10n, 0);
    v.writeBigUInt64LE(1n, 8);
    v.writeBigUInt64LE(1n, 16);
    maps.totals.set(encodePairKey(pod(i), peer, 'udp').toString('hex'), v);
  }
  maps.setControl({ activeSlot: 0, txnKind: 0, txnEpoch: 1n, txnRingEnd: 0n }); // that agent's last transaction
  const l = ledger(maps, clock);
  t.deepEqual(await l.open(maps, maps.maxPairs), { pairs: 3, foreign: 1 });
  maps.send(pod(1), peer, 'udp', 5, 1);
  maps.send(pod(4), peer, 'udp', 77, 1);
  const [r] = await l.applySlot();
  t.is(r!.lostPairs, 1);
  t.deepEqual(l.lost, { bytes: 0, packets: 0 }, 'not shown while it cannot be pinned');
  t.is(maps.totals.size, 4);
  t.deepEqual(pinned(maps)[`${pod(1)}|${peer}|udp`], [15, 2], 'known pairs count on');

  clock.ms += 61_000; // pairs 2 and 3 expire
  maps.send(pod(1), peer, 'udp', 5, 1);
  maps.send(pod(5), peer, 'udp', 8, 1);
  await l.applySlot();
  t.deepEqual(l.lost, { bytes: 77, packets: 1 }, 'the earlier loss, written with the next transaction that had room');
  t.deepEqual(pinned(maps).loss, [77, 1]);
  t.deepEqual(Object.keys(shown(l)).sort(), [1, 5].map((i) => `${pod(i)}|${peer}|udp`));
  t.is(maps.totals.size, 4, 'icmp entry, pairs 1 and 5, loss');
});
