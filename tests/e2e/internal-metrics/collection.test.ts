// kubeadapt_ebpf_collection_duration_seconds counts every collection once,
// with the contract's buckets; kubeadapt_connection_tracking_info carries the
// settings the agent runs with; EBPF_CONNECTION_TRACKING=false drops
// kubeadapt_active_connections and nothing else.
import test from 'ava';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess, type Sample } from '../helpers/agent-process.js';
import { METRICS } from '../../../agent/src/metrics/definitions.js';
import { RawLink } from './raw-link.js';
import { mustValue, valueOf } from './samples.js';

const H = METRICS.collectionDuration.name;

function histogram(s: readonly Sample[]) {
  const buckets = s.filter((x) => x.name === `${H}_bucket`).map((x) => ({ le: x.labels.le!, value: x.value }));
  return { buckets, count: mustValue(s, `${H}_count`), sum: mustValue(s, `${H}_sum`) };
}

test.serial('the collection histogram counts each collection once, in the contract buckets', async (t) => {
  const node = await new SimulatedNode(54).create();
  t.teardown(() => node.destroy());
  const agent = await AgentProcess.start(node, { EBPF_COLLECTION_INTERVAL: '500ms' });
  t.teardown(() => agent.stop());
  await agent.waitReady();

  const first = histogram(await agent.samples());
  t.deepEqual(first.buckets.map((b) => b.le), [...METRICS.collectionDuration.buckets.map(String), '+Inf']);
  const t0 = Date.now();
  await agent.waitForCollections(6);
  const elapsed = (Date.now() - t0) / 1000;
  const later = histogram(await agent.samples());
  const n = later.count - first.count;
  // One collection every 500 ms (timer re-armed after each one): 6 waited for,
  // at most one more begun while we polled.
  t.true(n >= 6 && n <= Math.ceil(elapsed / 0.5) + 1, `${n} collections in ${elapsed} s`);
  t.is(later.buckets.at(-1)!.value, later.count, '+Inf bucket = count');
  for (let i = 1; i < later.buckets.length; i++) t.true(later.buckets[i]!.value >= later.buckets[i - 1]!.value, 'cumulative buckets');
  const dSum = later.sum - first.sum;
  t.true(dSum > 0 && dSum < elapsed, `${dSum} s spent collecting in ${elapsed} s`);
});

test.serial('connection tracking info carries the settings; tracking off drops active connections', async (t) => {
  const node = await new SimulatedNode(55).create();
  t.teardown(() => node.destroy());
  const link = await RawLink.create(node, 'a');
  t.teardown(() => link.destroy());
  const flows = { kind: 'udp' as const, count: 5, src: '10.9.4.1', dst: '10.9.4.2', size: 20 };
  const labels = { src_ip: flows.src, dst_ip: flows.dst, protocol: 'udp' };

  for (const [tracking, mode, maxFlows] of [['true', 'default', '65536'], ['false', 'disabled', '1000']] as const) {
    const env: Record<string, string> = { EBPF_BPF_PIN_PATH: `/sys/fs/bpf/${node.id}-${tracking}` };
    if (tracking === 'false') Object.assign(env, { EBPF_CONNECTION_TRACKING: tracking, EBPF_NETNS_FILTER_MODE: mode, EBPF_MAX_FLOWS: maxFlows });
    const agent = await AgentProcess.start(node, env);
    try {
      await agent.waitReady();
      await agent.waitForCollections(1);
      await link.inject([flows]);
      await agent.waitForCollections(2);
      const s = await agent.samples();
      const info = s.filter((x) => x.name === METRICS.connectionTrackingInfo.name);
      t.deepEqual(info.map((x) => ({ ...x.labels, value: x.value })), [{ enabled: tracking, netns_filter_mode: mode, max_flows: maxFlows, value: 1 }]);
      t.is(mustValue(s, METRICS.trafficPackets.name, labels), flows.count, 'traffic is counted either way');
      if (tracking === 'true') {
        // The interval after the one with the flows: the series stays, at 0.
        t.is(mustValue(s, METRICS.activeConnections.name, labels), 0);
      } else {
        t.is(valueOf(s, METRICS.activeConnections.name, labels), undefined, 'no active connections series');
        t.false(s.some((x) => x.name === METRICS.activeConnections.name));
      }
    } finally {
      t.is(await agent.stop(), 0);
    }
  }
});
