// Two simulated nodes joined by eth0: same-node and cross-node pod traffic is
// counted once, by the sending node's agent; the sum over both agents equals
// what every receiver got, exactly.
import test from 'ava';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { Sinks, send } from '../helpers/traffic.js';
import { diffCounts, installRxOracle, linkNodes, nodeEndpoint, podEndpoint, readRxOracle, sumCounts } from '../helpers/cluster.js';

test.serial('cross-node and same-node traffic: each packet counted once, by the sender', async (t) => {
  const a = await new SimulatedNode(20).create();
  t.teardown(() => a.destroy());
  const b = await new SimulatedNode(21).create();
  t.teardown(() => b.destroy());
  for (const n of [a, b]) for (const cni of ['ptp', 'bridge'] as const) await n.addPod(cni, { skipDad: true });
  await linkNodes(a, b);
  for (const n of [a, b]) await n.setOffloads('on');
  const pods = [...a.pods, ...b.pods];
  const receivers = [...pods.map(podEndpoint), nodeEndpoint(a), nodeEndpoint(b)];
  await installRxOracle(receivers, receivers);
  const sinks = new Sinks();
  t.teardown(() => sinks.stop());
  await sinks.start(pods);

  const agentA = await AgentProcess.start(a);
  t.teardown(() => agentA.stop());
  const agentB = await AgentProcess.start(b);
  t.teardown(() => agentB.stop());
  await Promise.all([agentA.waitReady(), agentB.waitReady()]);

  const [a1, a2] = a.pods as [typeof pods[0], typeof pods[0]];
  const [b1, b2] = b.pods as [typeof pods[0], typeof pods[0]];
  for (const [from, to] of [[a1, b1], [a2, b2], [b1, a2], [a1, a2], [b2, b1]] as const) {
    await send(from, to.ipv4, { udpCount: 30, udpSize: 700, tcpBytes: 150_000 });
    await send(from, to.ipv6, { udpCount: 20, udpSize: 900, tcpBytes: 120_000 });
  }
  await Promise.all([agentA.waitForCollections(2), agentB.waitForCollections(2)]);

  const countedA = await agentA.traffic();
  const countedB = await agentB.traffic();
  const oracle = await readRxOracle(receivers);
  t.true(oracle.size >= 20, `oracle saw ${oracle.size} pairs`);
  t.deepEqual(diffCounts(sumCounts(countedA, countedB), oracle), []);
  // Counted by the sender only: no pair appears in both agents.
  const both = [...countedA.keys()].filter((k) => countedB.has(k));
  t.deepEqual(both, []);
  t.true(countedA.has(`${a1.ipv4}|${b1.ipv4}|udp`), 'node A counts what its pod sends to node B');
  t.true(countedB.has(`${b1.ipv4}|${a2.ipv4}|tcp`), 'node B counts what its pod sends to node A');
});
