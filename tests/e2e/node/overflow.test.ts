// A flow map far too small for one interval's connections: the new flows go
// through the overflow ring buffer and the totals stay exact.
import test from 'ava';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { Sinks, send } from '../helpers/traffic.js';

test.serial('EBPF_MAX_FLOWS=64 and thousands of flows in one interval: exact totals through the ring buffer', async (t) => {
  const node = await new SimulatedNode(14).create();
  t.teardown(() => node.destroy());
  for (const cni of ['ptp', 'ptp'] as const) await node.addPod(cni, { skipDad: true });
  await node.setOffloads('off');
  await node.installOracle();
  const sinks = new Sinks();
  t.teardown(() => sinks.stop());
  await sinks.start(node.pods);
  const agent = await AgentProcess.start(node, { EBPF_MAX_FLOWS: '64', EBPF_COLLECTION_INTERVAL: '10s' });
  t.teardown(() => agent.stop());
  await agent.waitReady();

  const [p1, p2] = node.pods as [typeof node.pods[0], typeof node.pods[0]];
  // Right after a collection: the sends (about a second) land in one interval.
  await agent.waitForCollections(1, 30_000);
  const started = Date.now();
  await Promise.all([
    send(p1, p2.ipv4, { udpFlows: 3000, udpSize: 200, tcpBytes: 50_000 }),
    send(p2, p1.ipv6, { udpFlows: 1500, udpSize: 300 }),
  ]);
  const took = Date.now() - started;
  t.log(`4500 UDP flows sent in ${took} ms`);
  t.true(took < 8000, 'all flows within one collection interval');
  await agent.waitForCollections(2, 40_000);

  const oracle = await node.readOracle('forwarded');
  const counted = await agent.traffic();
  t.deepEqual(Object.fromEntries(counted), Object.fromEntries(oracle));
  t.is(counted.get(`${p1.ipv4}|${p2.ipv4}|udp`)?.packets, 3000);
  const samples = await agent.samples();
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  const overflow = value('kubeadapt_overflow_flows_total')!;
  // 64 connections fit in the map; every packet of the others went through the ring buffer.
  t.true(overflow >= 4500 - 64, `overflow records: ${overflow}`);
  t.is(value('kubeadapt_collector_errors_total', { type: 'ringbuf_full' }), 0, 'the ring buffer never filled');
  t.is(value('kubeadapt_collector_errors_total', { type: 'map_update' }), 0);
});
