// Loads the real flows object for a unit test and reads back what the
// programs wrote: drained connections, overflow records and the stat counters.
import type { ExecutionContext } from 'ava';
import { DEFAULT_OBJECT_PATH } from '../../agent/src/addon.js';
import { loadTestingAddon as loadAddon, type TestingBpfObject as BpfObject, type TestRunOptions } from '../helpers/testing-addon.js';
import { decodeDrained, decodeOverflow, type FlowDelta } from '../../bench/flow-records.js';
import { namedStats } from '../../agent/src/bpf/stats.js';

export const TC_ACT_UNSPEC = -1;

export function openObject(t: ExecutionContext, opts: { maxFlows?: number; ringbufBytes?: number; countHostSystemTraffic?: boolean } = {}): BpfObject {
  const addon = loadAddon();
  const bpf = new addon.BpfObject({
    objectPath: DEFAULT_OBJECT_PATH, maxFlows: opts.maxFlows ?? 1024, ringbufBytes: opts.ringbufBytes ?? 1 << 16,
    countHostSystemTraffic: opts.countHostSystemTraffic ?? false,
  });
  t.teardown(() => bpf.close());
  return bpf;
}

export function runPacket(t: ExecutionContext, bpf: BpfObject, packet: Buffer, extra: Partial<TestRunOptions> = {}): void {
  const r = bpf.testRun({ program: 'tc_pod_egress', packet, ...extra });
  t.is(r.retval, TC_ACT_UNSPEC, 'the verdict is always TC_ACT_UNSPEC');
}

/** Everything counted so far: drained map entries plus overflow records. */
export async function collect(bpf: BpfObject): Promise<{ flows: FlowDelta[]; overflow: FlowDelta[]; stats: ReturnType<typeof namedStats> }> {
  const { records } = await bpf.drain();
  return { flows: decodeDrained(records), overflow: decodeOverflow(bpf.consumeOverflow()), stats: namedStats(bpf.stats()) };
}

/** The fields a test asserts on, without the timestamps. */
export function strip(d: FlowDelta) {
  const { firstSeenNs: _f, lastSeenNs: _l, ...rest } = d;
  return rest;
}
