// Releasing a drained flow slot (agent/native/src/slots.cc): a fresh map goes
// into flow_slots when many keys go, the deferred connections move with it, the
// programs write the new map, its pin follows, and a restarted or upgraded
// agent finds the maps that hold counts.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { DEFAULT_OBJECT_PATH } from '../../agent/src/addon.js';
import { loadTestingAddon, type TestingBpfObject } from '../helpers/testing-addon.js';
import { ETH_P_IP, IPPROTO, frame, ipv4, udp } from '../bpf/packets.js';
import { withPinnedSlotFd, withSlotFd } from '../../bench/slots.js';
import { SLOT_MAPS } from '../../agent/src/collector/ledger.js';

const addon = loadTestingAddon();
const MAX_FLOWS = 4096;
const FLOW_KEY_SIZE = 40;

const open = (pinPath?: string) =>
  new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: MAX_FLOWS, ringbufBytes: 1 << 16, ...(pinPath ? { pinPath } : {}) });

const mapId = (bpf: TestingBpfObject, name: string) => bpf.info().maps.find((m) => m.name === name)!.id!;

function fill(bpf: TestingBpfObject, map: string, count: number): { bytes: number; packets: number } {
  return withSlotFd(addon, bpf, SLOT_MAPS.indexOf(map as typeof SLOT_MAPS[number]), (fd) => addon.benchFillFlows(fd, { count, connectionsPerPair: 1, ipv6: false }));
}

/** The id of the map pinned at path, as bpftool shows it. */
function pinnedId(path: string): number {
  return (JSON.parse(execFileSync('bpftool', ['-j', 'map', 'show', 'pinned', path], { encoding: 'utf8' })) as { id: number }).id;
}

const pinDir = () => {
  const dir = mkdtempSync('/sys/fs/bpf/slots-test-');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

test.serial('a slot drained of many keys gets a fresh map holding only the kept ones; the programs write it', async (t) => {
  const pins = pinDir();
  const bpf = open(pins.dir);
  t.teardown(() => {
    bpf.close();
    pins.remove();
  });
  fill(bpf, 'connection_flows_1', 1000);
  const before = mapId(bpf, 'connection_flows_1');
  const read = await bpf.readMap('connection_flows_1');
  t.is(read.count, 1000);
  // The last 3 keys stay (as deferred connections would), with their values.
  const drained = read.keys.subarray(0, 997 * FLOW_KEY_SIZE);
  const kept = read.keys.subarray(997 * FLOW_KEY_SIZE);
  const r = await bpf.releaseSlot('connection_flows_1', drained, kept, 'replace');
  t.true(r.replaced);
  t.is(r.replaceError, undefined);
  const after = mapId(bpf, 'connection_flows_1');
  t.not(after, before);
  t.is(pinnedId(`${pins.dir}/connection_flows_1`), after, 'the pin follows the slot');
  const left = await bpf.readMap('connection_flows_1');
  t.is(left.count, 3);
  const valueOf = (c: { keys: Buffer; values: Buffer; count: number }, key: Buffer) => {
    for (let i = 0; i < c.count; i++) {
      if (c.keys.subarray(i * FLOW_KEY_SIZE, (i + 1) * FLOW_KEY_SIZE).equals(key)) return c.values.subarray(i * 32, i * 32 + 16).toString('hex');
    }
    return undefined;
  };
  for (let i = 0; i < 3; i++) {
    const key = kept.subarray(i * FLOW_KEY_SIZE, (i + 1) * FLOW_KEY_SIZE);
    t.is(valueOf(left, key), valueOf(read, key), 'a kept connection keeps its bytes and packets');
  }

  // The programs reach the slot through flow_slots: a packet now lands in the new map.
  bpf.setControl({ ...bpf.control(), activeSlot: 1 });
  await bpf.waitForPrograms();
  const packet = frame(ETH_P_IP, ipv4('10.244.1.2', '10.244.2.3', udp(4000, 53, 100), { protocol: IPPROTO.udp }));
  bpf.testRun({ program: 'tc_pod_egress', packet, repeat: 5 });
  t.is((await bpf.readMap('connection_flows_1')).count, 4);
  t.deepEqual(bpf.stats().slice(0, 8).reduce((a, b) => a + b, 0), 0, 'nothing went to the ring or a drop counter');
});

test.serial('on its own, a slot gets a fresh map when deletes would cost more: many keys, not few', async (t) => {
  const big = 262_144;
  const bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: big, ringbufBytes: 1 << 16 });
  t.teardown(() => bpf.close());
  for (const [count, replaced] of [[100, false], [big - 1000, true]] as const) {
    fill(bpf, 'connection_flows_1', count);
    const before = mapId(bpf, 'connection_flows_1');
    const read = await bpf.readMap('connection_flows_1');
    const r = await bpf.releaseSlot('connection_flows_1', read.keys, Buffer.alloc(0));
    t.is(r.replaced, replaced, `${count} of ${big} keys`);
    t.is(mapId(bpf, 'connection_flows_1') !== before, replaced);
    t.is((await bpf.readMap('connection_flows_1')).count, 0);
  }
});

test.serial('a restarted agent starts from the pins: the replaced maps and their counts', async (t) => {
  const pins = pinDir();
  t.teardown(pins.remove);
  const first = open(pins.dir);
  fill(first, 'connection_flows', 800);
  const read = await first.readMap('connection_flows');
  const initial = mapId(first, 'connection_flows');
  const r = await first.releaseSlot('connection_flows', read.keys.subarray(0, 790 * FLOW_KEY_SIZE), read.keys.subarray(790 * FLOW_KEY_SIZE), 'replace');
  t.true(r.replaced);
  const replaced = mapId(first, 'connection_flows');
  t.not(replaced, initial);
  first.close();

  const second = open(pins.dir);
  t.teardown(() => second.close());
  t.is(mapId(second, 'connection_flows'), replaced);
  t.is((await second.readMap('connection_flows')).count, 10);
});

test.serial('the pins are the truth: a pin that moved without flow_slots (a crash between the two) goes into flow_slots', async (t) => {
  const pins = pinDir();
  t.teardown(pins.remove);
  open(pins.dir).close();
  // What a release leaves when it dies after pinning its fresh map: the pin names a map flow_slots does not hold.
  rmSync(`${pins.dir}/connection_flows`);
  execFileSync('bpftool', ['map', 'create', `${pins.dir}/connection_flows`, 'type', 'hash', 'key', '40', 'value', '32', 'entries', String(MAX_FLOWS), 'name', 'connection_flow']);
  withPinnedSlotFd(addon, pins.dir, 0, (fd) => addon.benchFillFlows(fd, { count: 7, connectionsPerPair: 1, ipv6: false }));
  const bpf = open(pins.dir);
  t.teardown(() => bpf.close());
  t.is(mapId(bpf, 'connection_flows'), pinnedId(`${pins.dir}/connection_flows`));
  t.is((await bpf.readMap('connection_flows')).count, 7);
  // Slot 0 is active after load: the programs write the pinned map.
  const packet = frame(ETH_P_IP, ipv4('10.244.1.2', '10.244.2.3', udp(4000, 53, 100), { protocol: IPPROTO.udp }));
  bpf.testRun({ program: 'tc_pod_egress', packet, repeat: 1 });
  t.is((await bpf.readMap('connection_flows')).count, 8);
});

test.serial('an upgrade from pins without flow_slots puts the pinned maps, counts and all, into the slots', async (t) => {
  const pins = pinDir();
  t.teardown(pins.remove);
  const old = open(pins.dir);
  const filled = fill(old, 'connection_flows_1', 500);
  const ids = [mapId(old, 'connection_flows'), mapId(old, 'connection_flows_1')];
  old.close();
  // What an earlier version left: every pin but flow_slots.
  rmSync(`${pins.dir}/flow_slots`);

  const upgraded = open(pins.dir);
  t.teardown(() => upgraded.close());
  t.deepEqual([mapId(upgraded, 'connection_flows'), mapId(upgraded, 'connection_flows_1')], ids);
  const pairs = await upgraded.readPairs('connection_flows_1');
  t.is(pairs.count, 500);
  let bytes = 0;
  for (let at = 0; at < pairs.pairs.length; at += 56) bytes += Number(pairs.pairs.readBigUInt64LE(at + 36));
  t.is(bytes, filled.bytes);
});

test('releaseSlot refuses a map that is not a flow slot, naming it', (t) => {
  const bpf = open();
  t.teardown(() => bpf.close());
  t.throws(() => bpf.releaseSlot('pair_totals', Buffer.alloc(0), Buffer.alloc(0)), { message: /pair_totals is not a flow map slot/ });
  t.throws(() => bpf.releaseSlot('connection_flows', Buffer.alloc(0), Buffer.alloc(0), 'sometimes' as 'auto'), { message: /how is 'sometimes'; accepted: auto, replace, delete/ });
});
