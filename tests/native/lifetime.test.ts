// Async work and close(): a worker thread holds the object's map fds, so a
// close() in the middle must not let those fd numbers go to someone else while
// the worker still reads or deletes through them (native.d.ts, BpfObject).
import test from 'ava';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { DEFAULT_OBJECT_PATH } from '../../agent/src/addon.js';
import type { NativeError } from '../../agent/src/native.js';
import { loadTestingAddon, type TestingBpfObject } from '../helpers/testing-addon.js';

const addon = loadTestingAddon();
const FLOWS = 300_000;
const DECOY_FLOWS = 1000;
const PAIR_RECORD_SIZE = 56;

/** Fills a flow map of an object through a second fd of its own (by map id). */
function fill(bpf: TestingBpfObject, map: string, count: number, ipv6: boolean): void {
  const id = bpf.info().maps.find((m) => m.name === map)!.id!;
  const fd = addon.benchFdById('map', id);
  try {
    addon.benchFillFlows(fd, { count, connectionsPerPair: 1, ipv6 });
  } finally {
    addon.closeFd(fd);
  }
}

const families = (pairs: Buffer) => {
  const seen = new Set<number>();
  for (let at = 0; at < pairs.length; at += PAIR_RECORD_SIZE) seen.add(pairs[at]!);
  return [...seen];
};

test.serial('close() during a drain of a big map is refused with EBUSY; the drain completes on its own maps and nobody else\'s', async (t) => {
  const bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: FLOWS, ringbufBytes: 1 << 16 });
  let decoy: TestingBpfObject | undefined;
  t.teardown(() => {
    decoy?.close();
    bpf.close();
  });
  fill(bpf, 'connection_flows_1', FLOWS, false);

  const read = bpf.readPairs('connection_flows_1');
  t.is(bpf.busy(), 1);
  const refused = t.throws(() => bpf.close(), { message: /closing the BPF object: 1 map operation\(s\) still in flight/ }) as NativeError;
  t.is(refused.code, 'EBUSY');
  t.is(refused.errno, 16);
  // Were the fds released, an object opened now would get the same numbers
  // and the worker would read (then the delete below empty) its maps.
  decoy = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: DECOY_FLOWS, ringbufBytes: 1 << 16 });
  fill(decoy, 'connection_flows_1', DECOY_FLOWS, true);

  const r = await read;
  t.is(r.count, FLOWS, 'every connection of the object\'s own map');
  t.is(r.pairs.length / PAIR_RECORD_SIZE, FLOWS);
  t.deepEqual(families(r.pairs), [4], 'no IPv6 pair of the decoy\'s map');
  t.is(bpf.busy(), 0);

  const del = bpf.deleteKeys('connection_flows_1', r.keys);
  t.throws(() => bpf.close(), { code: 'EBUSY' });
  await del;
  t.is((await bpf.readMap('connection_flows_1')).count, 0, 'the delete emptied the object\'s own map');
  t.is((await decoy.readPairs('connection_flows_1')).count, DECOY_FLOWS, 'and left the decoy\'s alone');

  bpf.close();
  bpf.close();
  await t.throwsAsync(async () => bpf.readPairs('connection_flows_1'), { code: 'EBADF', message: /using a closed BPF object/ });
  t.throws(() => bpf.updateEntry('tc_qdiscs', Buffer.alloc(4), Buffer.alloc(4)), { code: 'EBADF' });
});

test.serial('a worker keeps its object alive when JavaScript drops the last reference', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const start = () => {
    const bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: FLOWS, ringbufBytes: 1 << 16 });
    fill(bpf, 'connection_flows_1', FLOWS, false);
    return bpf.readPairs('connection_flows_1');
  };
  const read = start();
  gc();
  gc();
  const r = await read;
  t.is(r.count, FLOWS);
  t.deepEqual(families(r.pairs), [4]);
});

test.serial('map writes run off the JS thread and fail with code, errno and what was being done', async (t) => {
  const bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: 1024, ringbufBytes: 1 << 16, maxPairs: 16 });
  t.teardown(() => bpf.close());
  const keys = Buffer.alloc(32 * 36);
  for (let i = 0; i < 32; i++) keys.writeUInt32LE(i + 1, i * 36 + 4);
  const values = Buffer.alloc(32 * 24);
  const write = bpf.updateMap('pair_totals', keys, values);
  t.true(write instanceof Promise);
  const err = (await t.throwsAsync(write, { message: /^updating map pair_totals: / })) as NativeError;
  t.is(err.code, 'E2BIG');
  t.is(err.errno, 7);
  t.is(bpf.busy(), 0, 'a failed worker is no longer counted');
  t.throws(() => bpf.updateMap('pair_totals', keys, values.subarray(1)), { code: 'EINVAL', message: /do not match the map's sizes/ });
  t.throws(() => bpf.deleteKeys('no_such_map', keys), { code: 'ENOENT', message: /finding map no_such_map/ });

  await bpf.updateMap('pair_totals', keys.subarray(0, 16 * 36), values.subarray(0, 16 * 24));
  t.is((await bpf.readMap('pair_totals')).count, 16);
  await bpf.deleteKeys('pair_totals', keys);
  t.is((await bpf.readMap('pair_totals')).count, 0, 'missing keys are not an error');

  bpf.updateEntry('tc_qdiscs', Buffer.from([7, 0, 0, 0]), Buffer.from([1, 0, 0, 0]));
  t.is((await bpf.readMap('tc_qdiscs')).count, 1);
  bpf.deleteEntry('tc_qdiscs', Buffer.from([7, 0, 0, 0]));
  bpf.deleteEntry('tc_qdiscs', Buffer.from([7, 0, 0, 0]));
  t.is((await bpf.readMap('tc_qdiscs')).count, 0);
});
