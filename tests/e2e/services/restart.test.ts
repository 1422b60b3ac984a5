// Service resolution across agent restarts (issue 12): a transaction a dead
// agent applied is finished by the next one under the same backends, even when
// conntrack has forgotten the connections by then (the pinned resolution log);
// and connections that ended while no agent ran stay under their ClusterIP and
// are counted, exactly, in kubeadapt_unresolved_service_flows_total.
import test, { type ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode, type Counts, type Pod } from '../helpers/topology.js';
import { diffCounts } from '../helpers/cluster.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { Sinks, send } from '../helpers/traffic.js';
import { deleteConntrack, installServiceOracle, readServiceOracle, setServices, type Service } from '../helpers/services.js';

async function buildNode(t: ExecutionContext, index: number): Promise<{ node: SimulatedNode; client: Pod; backends: Pod[] }> {
  const node = await new SimulatedNode(index).create();
  t.teardown(() => node.destroy());
  const client = await node.addPod('ptp', { skipDad: true });
  const backends = [await node.addPod('ptp', { skipDad: true }), await node.addPod('bridge', { skipDad: true })];
  await node.setOffloads('off');
  await installServiceOracle(node.netns);
  const sinks = new Sinks();
  t.teardown(() => sinks.stop());
  await sinks.start([client, ...backends]);
  return { node, client, backends };
}

async function unresolved(agent: AgentProcess): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await agent.samples()) if (s.name === 'kubeadapt_unresolved_service_flows_total') out[s.labels.reason!] = s.value;
  return out;
}

const sum = (m: Map<string, Counts>, keys: string[]) => keys.reduce((a, k) => ({ bytes: a.bytes + (m.get(k)?.bytes ?? 0), packets: a.packets + (m.get(k)?.packets ?? 0) }), { bytes: 0, packets: 0 });

test.serial('an agent killed mid-transaction: the next one folds it under the same backends, though conntrack forgot them', async (t) => {
  const { node, client, backends } = await buildNode(t, 40);
  const svc: Service = { ipv4: '10.96.3.40', ipv6: 'fd00:10:96::3:28', port: 80, backends };
  await setServices(node.netns, 'nftables', [svc]);
  const env = { EBPF_ON_SHUTDOWN: 'keep', EBPF_ATTACH_MODE: 'tcx' };
  const first = await AgentProcess.start(node, env);
  t.teardown(() => first.stop());
  await first.waitReady();
  await send(client, svc.ipv4, { port: 80, udpCount: 5, udpSize: 300, udpFlows: 2, tcpBytes: 30_000 });
  await first.waitForCollections(2);
  await first.kill();

  // Counted by the attached programs while no agent runs.
  await send(client, svc.ipv4, { port: 80, udpCount: 6, udpSize: 310, udpFlows: 3, tcpBytes: 40_000 });
  await send(client, svc.ipv6, { port: 80, udpCount: 4, udpSize: 510, udpFlows: 3, tcpBytes: 35_000 });
  // Resolves them (its conntrack seed dump finds them), logs and applies, and dies before releasing the slot.
  const crashing = await AgentProcess.start(node, { ...env, EBPF_FAILPOINT: 'ledger-after-apply' }, 0, false);
  t.teardown(() => crashing.stop().catch(() => undefined));
  const until = Date.now() + 15_000;
  while (crashing.exitCode() === null && Date.now() < until) await sleep(50);
  t.not(crashing.exitCode(), null, 'the failpoint fired');
  await crashing.stop().catch(() => undefined);
  // Conntrack forgets them: only the resolution log still knows where they went.
  await deleteConntrack(node.netns, svc.ipv4);
  await deleteConntrack(node.netns, svc.ipv6);

  const second = await AgentProcess.start(node, env);
  t.teardown(() => second.stop());
  await second.waitReady();
  await second.waitForCollections(2);
  const counted = await second.traffic();
  const oracle = await readServiceOracle(node.netns);
  t.deepEqual([...counted.keys()].filter((k) => k.includes('|10.96.') || k.includes('|fd00:10:96:')), [], 'nothing under the ClusterIP');
  t.deepEqual(diffCounts(counted, oracle), [], 'every byte once, under the backend that received it');
  t.deepEqual(await unresolved(second), { entry_gone: 0, events_lost: 0, conntrack_unavailable: 0 });
});

test.serial('connections that ended while no agent ran: under the ClusterIP, each counted as unresolved (entry_gone)', async (t) => {
  const { node, client, backends } = await buildNode(t, 42);
  const svc: Service = { ipv4: '10.96.4.50', ipv6: 'fd00:10:96::4:32', port: 80, backends: [backends[0]!] };
  await setServices(node.netns, 'nftables', [svc]);
  const env = { EBPF_ON_SHUTDOWN: 'keep', EBPF_ATTACH_MODE: 'tc' };
  const first = await AgentProcess.start(node, env);
  t.teardown(() => first.stop());
  await first.waitReady();
  await first.kill();

  // 1 UDP connection of 5 datagrams + 4 of one datagram + 1 TCP connection: 6 connections, whose entries then go.
  await send(client, svc.ipv4, { port: 80, udpCount: 5, udpSize: 200, udpFlows: 4, tcpBytes: 20_000 });
  const gone = await readServiceOracle(node.netns);
  await deleteConntrack(node.netns, svc.ipv4);
  // One more, still live when the next agent starts: it resolves, and tells the agent 10.96.4.50:80 is a Service.
  await send(client, svc.ipv4, { port: 80, udpCount: 2, udpSize: 250 });
  const all = await readServiceOracle(node.netns);

  const second = await AgentProcess.start(node, env);
  t.teardown(() => second.stop());
  await second.waitReady();
  await second.waitForCollections(2);
  t.deepEqual(await unresolved(second), { entry_gone: 6, events_lost: 0, conntrack_unavailable: 0 });
  const counted = await second.traffic();
  const b = backends[0]!;
  for (const proto of ['tcp', 'udp']) {
    const key = (dst: string) => `${client.ipv4}|${dst}|${proto}`;
    // The gone connections' bytes under the ClusterIP; the live one's under the backend; together, what the backend got.
    t.deepEqual(counted.get(key(svc.ipv4)), gone.get(key(b.ipv4)), `${proto}: the ended connections, under the ClusterIP`);
    t.deepEqual(sum(counted, [key(svc.ipv4), key(b.ipv4)]), all.get(key(b.ipv4)), `${proto}: nothing lost or doubled`);
  }
});
