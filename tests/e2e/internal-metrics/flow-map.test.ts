// The flow-map metrics are true: with EBPF_MAX_FLOWS=16 and hand-built
// frames whose every 5-tuple we chose, kubeadapt_bpf_map_utilization_percent,
// kubeadapt_overflow_flows_total, kubeadapt_ip_pairs_batch_size,
// kubeadapt_active_connections and collector_errors{type="ringbuf_full"} take
// exactly the values the frames imply, and the traffic counters equal the
// kernel's own rx counters of the interface the frames arrived on.
import test from 'ava';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess, type Sample } from '../helpers/agent-process.js';
import { RawLink, l3Bytes, type InjectStep } from './raw-link.js';
import { mustValue, valueOf } from './samples.js';

const MAX_FLOWS = 16;
const M = {
  utilization: 'kubeadapt_bpf_map_utilization_percent',
  overflow: 'kubeadapt_overflow_flows_total',
  batch: 'kubeadapt_ip_pairs_batch_size',
  active: 'kubeadapt_active_connections',
  errors: 'kubeadapt_collector_errors_total',
  bytes: 'kubeadapt_connection_traffic_bytes_total',
  packets: 'kubeadapt_connection_traffic_packets_total',
} as const;

const pair = (s: InjectStep) => ({ src_ip: s.src!, dst_ip: s.dst!, protocol: s.kind });

/**
 * Injects right after a collection finished, so the whole burst lands in one
 * slot of the flow map, and returns the metrics of the collection that drains
 * it (read before the next one resets the gauges: the interval is 2 s).
 */
async function burst(agent: AgentProcess, link: RawLink, steps: InjectStep[]): Promise<Sample[]> {
  await agent.waitForCollections(1);
  await link.inject(steps);
  await agent.waitForCollections(1);
  return agent.samples();
}

test.serial('map utilization, overflow flows, ip pairs batch size, active connections and ringbuf_full are exact', async (t) => {
  const node = await new SimulatedNode(52).create();
  t.teardown(() => node.destroy());
  const link = await RawLink.create(node, 'a');
  t.teardown(() => link.destroy());
  const agent = await AgentProcess.start(node, { EBPF_MAX_FLOWS: String(MAX_FLOWS), EBPF_COLLECTION_INTERVAL: '2s' });
  t.teardown(() => agent.stop());
  await agent.waitReady();
  const start = await agent.samples();
  t.is(mustValue(start, 'kubeadapt_attached_interfaces'), 1, 'the silent veth is the only pod interface');
  t.is(mustValue(start, M.overflow), 0);
  t.is(mustValue(start, M.errors, { type: 'ringbuf_full' }), 0);

  // 1. Fewer flows than the map holds: 15 of 16 slots, three pairs, no overflow.
  const fit: InjectStep[] = [
    { kind: 'udp', count: 10, src: '10.9.0.1', dst: '10.9.0.2', size: 100 },
    { kind: 'tcp', count: 3, src: '10.9.0.1', dst: '10.9.0.3', size: 7 },
    { kind: 'udp', count: 2, src: 'fd00:9::1', dst: 'fd00:9::2', size: 1000 },
  ];
  let s = await burst(agent, link, fit);
  t.is(mustValue(s, M.utilization, { map: 'connection_flows' }), (15 / MAX_FLOWS) * 100);
  t.is(mustValue(s, M.batch), 3);
  t.is(mustValue(s, M.overflow), 0);
  for (const step of fit) {
    t.is(mustValue(s, M.active, pair(step)), step.count, `${step.kind} ${step.src}: one connection a flow`);
    t.is(mustValue(s, M.packets, pair(step)), step.count);
    t.is(mustValue(s, M.bytes, pair(step)), step.count * l3Bytes(step));
  }
  t.deepEqual(await link.received(), { packets: 15, l3Bytes: fit.reduce((n, st) => n + st.count * l3Bytes(st), 0) }, 'kernel rx counters agree');

  // 2. 40 flows of one pair into 16 slots: 24 go through the ring buffer and
  // fold into the same series.
  const over: InjectStep = { kind: 'udp', count: 40, src: '10.9.1.1', dst: '10.9.1.2', size: 50 };
  s = await burst(agent, link, [over]);
  t.is(mustValue(s, M.utilization, { map: 'connection_flows' }), 100);
  t.is(mustValue(s, M.overflow), over.count - MAX_FLOWS);
  t.is(mustValue(s, M.batch), 1);
  t.is(mustValue(s, M.active, pair(over)), over.count);
  t.is(mustValue(s, M.packets, pair(over)), over.count);
  t.is(mustValue(s, M.bytes, pair(over)), over.count * l3Bytes(over));
  t.is(mustValue(s, M.active, pair(fit[0]!)), 0, 'a pair without traffic this interval has no active connection');
  t.is(mustValue(s, M.errors, { type: 'ringbuf_full' }), 0);

  // 3. More new flows than the 1 MiB ring buffer holds (72 B a record) between
  // two 250 ms polls: the loss is counted, never silent. Every frame that
  // reached the hook is either in the series or in ringbuf_full.
  const before = await link.received();
  const collectionsBefore = await agent.collections();
  const flood: InjectStep = { kind: 'udp', count: 60_000, src: '10.9.2.1', dst: '10.9.2.2', size: 0 };
  await link.inject([flood]);
  const slotsFilled = (await agent.collections()) - collectionsBefore + 1;
  await agent.waitForCollections(2);
  s = await agent.samples();
  const after = await link.received();
  const reached = after.packets - before.packets;
  const lost = mustValue(s, M.errors, { type: 'ringbuf_full' });
  const counted = valueOf(s, M.packets, pair(flood)) ?? 0;
  t.log(`flood: ${flood.count} frames sent, ${reached} reached the hook, ${counted} counted, ${lost} lost to a full ring buffer`);
  t.true(lost > 0, 'the ring buffer filled up');
  t.is(counted + lost, reached, 'counted + ringbuf_full = what the kernel received');
  t.is(mustValue(s, M.bytes, pair(flood)), counted * l3Bytes(flood));
  // The same loss in the dropped-traffic metrics, in packets and bytes.
  t.is(mustValue(s, 'kubeadapt_connection_traffic_dropped_packets_total', { reason: 'ringbuf_full' }), lost);
  t.is(mustValue(s, 'kubeadapt_connection_traffic_dropped_bytes_total', { reason: 'ringbuf_full' }), lost * l3Bytes(flood));
  t.is(mustValue(s, 'kubeadapt_connection_traffic_dropped_packets_total', { reason: 'pair_ledger_full' }), 0);
  // Flows that got a map slot are not overflow: every other counted flow is.
  const slots = counted - (mustValue(s, M.overflow) - (over.count - MAX_FLOWS));
  t.true(slots >= MAX_FLOWS && slots <= slotsFilled * MAX_FLOWS, `${slots} flows in map slots: 16 a slot, ${slotsFilled} slot(s) filled while the flood ran`);
  t.is(slots % MAX_FLOWS, 0, 'every slot the flood filled was full');
});
