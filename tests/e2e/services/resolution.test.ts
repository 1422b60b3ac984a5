// Service traffic lands under the backend pod that received it (issue 12).
// Two simulated nodes; Services translated by kube-proxy-style nftables
// (numgen) or iptables-nft (-m statistic) on the client's node; backends on
// the same node, on the other node, and the client itself (hairpin); a
// NodePort; traffic without translation (socket-level load balancing sends
// straight to the backend). The oracle is each node's forward hook after
// DNAT: the sum over both agents must equal it exactly, with no series whose
// dst_ip is a Service address.
import test, { type ExecutionContext } from 'ava';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode, type Counts, type Pod } from '../helpers/topology.js';
import { diffCounts, linkNodes, nodeAddress, sumCounts } from '../helpers/cluster.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { inNetns } from '../helpers/exec.js';
import { Sinks, send } from '../helpers/traffic.js';
import { conntrackStats, deleteConntrack, installServiceOracle, readServiceOracle, setServices, type Service, type Translator } from '../helpers/services.js';

interface Cluster {
  a: SimulatedNode;
  b: SimulatedNode;
  /** On node a: two clients, two backends; on node b: one backend. */
  c1: Pod; c2: Pod; b1: Pod; b2: Pod; b3: Pod;
}

async function buildCluster(t: ExecutionContext, index: number): Promise<Cluster> {
  const a = await new SimulatedNode(index).create();
  t.teardown(() => a.destroy());
  const b = await new SimulatedNode(index + 1).create();
  t.teardown(() => b.destroy());
  // A long-lived node's bridge left DAD behind long ago: its gateway address
  // answers the first neighbour solicitation, and no pod's first datagrams wait
  // a second in a neighbour queue to be flushed from another CPU.
  for (const n of [a, b]) await inNetns(n.netns, 'sysctl', ['-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  const [c1, c2, b1, b2] = [await a.addPod('ptp', { skipDad: true }), await a.addPod('bridge', { skipDad: true }), await a.addPod('ptp', { skipDad: true }), await a.addPod('bridge', { skipDad: true })];
  const b3 = await b.addPod('ptp', { skipDad: true });
  await linkNodes(a, b);
  // Wire packets everywhere: the oracle and the agent see the same packets.
  for (const n of [a, b]) await n.setOffloads('off');
  for (const n of [a, b]) await installServiceOracle(n.netns);
  const sinks = new Sinks();
  t.teardown(() => sinks.stop());
  await sinks.start([c1, c2, b1, b2, b3]);
  return { a, b, c1: c1!, c2: c2!, b1: b1!, b2: b2!, b3: b3! };
}

const SERVICE_ADDRESSES = /^(10\.96\.|fd00:10:96::)/;

function serviceSeries(counted: Map<string, Counts>, extra: readonly string[] = []): string[] {
  return [...counted.keys()].filter((k) => {
    const dst = k.split('|')[1]!;
    return SERVICE_ADDRESSES.test(dst) || extra.includes(dst);
  });
}

async function unresolved(agent: AgentProcess): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await agent.samples()) if (s.name === 'kubeadapt_unresolved_service_flows_total') out[s.labels.reason!] = s.value;
  return out;
}

const NO_UNRESOLVED = { entry_gone: 0, events_lost: 0, conntrack_unavailable: 0 };

for (const [mode, translator, index] of [['tcx', 'nftables', 30], ['tc', 'iptables', 32]] as const) {
  test.serial(`attach ${mode}, ${translator} DNAT: Service bytes are counted under the backend that received them, exactly`, async (t) => {
    const { a, b, c1, c2, b1, b2, b3 } = await buildCluster(t, index);
    const node = nodeAddress(a.index);
    const services: Service[] = [
      { ipv4: '10.96.0.10', ipv6: 'fd00:10:96::a', port: 80, backends: [b1, b2, b3] },
      // Hairpin: the client is the Service's only backend.
      { ipv4: '10.96.0.11', ipv6: 'fd00:10:96::b', port: 8080, backends: [c1] },
      // NodePort on node a's own address.
      { ipv4: node.ipv4, ipv6: node.ipv6, port: 30080, backends: [b1, b3] },
    ];
    await setServices(a.netns, translator as Translator, services);

    const env = { EBPF_ATTACH_MODE: mode };
    const agentA = await AgentProcess.start(a, env);
    t.teardown(() => agentA.stop());
    const agentB = await AgentProcess.start(b, env);
    t.teardown(() => agentB.stop());
    await Promise.all([agentA.waitReady(), agentB.waitReady()]);

    for (const from of [c1, c2]) {
      for (const [i, s] of services.entries()) {
        if (s.backends.includes(from) && s.backends.length > 1) continue;
        // Several connections per Service: round robin and random picks spread them over the backends.
        for (let k = 0; k < 3; k++) {
          await send(from, s.ipv4, { port: s.port, udpCount: 5 + k, udpSize: 300 + 10 * i, udpFlows: 2, tcpBytes: 40_000 + 1000 * k });
          await send(from, s.ipv6, { port: s.port, udpCount: 4 + k, udpSize: 500 + 10 * i, udpFlows: 2, tcpBytes: 30_000 + 1000 * k });
        }
      }
      // Untranslated, and what socket-level load balancing sends: straight to a backend.
      await send(from, b2.ipv4, { udpCount: 7, udpSize: 222, tcpBytes: 20_000 });
      await send(from, b3.ipv6, { udpCount: 6, udpSize: 333, tcpBytes: 25_000 });
    }
    // Connections whose conntrack entry is gone before the drain (as after a
    // TCP RST or a short UDP exchange): only the DESTROY events know their backend.
    await send(c2, services[0]!.ipv4, { port: 80, udpCount: 3, udpSize: 120, udpFlows: 3, tcpBytes: 10_000 });
    await send(c2, services[0]!.ipv6, { port: 80, udpCount: 3, udpSize: 140, udpFlows: 3, tcpBytes: 10_000 });
    await deleteConntrack(a.netns, services[0]!.ipv4);
    await deleteConntrack(a.netns, services[0]!.ipv6);

    await Promise.all([agentA.waitForCollections(2), agentB.waitForCollections(2)]);
    const counted = sumCounts(await agentA.traffic(), await agentB.traffic());
    const oracle = sumCounts(await readServiceOracle(a.netns), await readServiceOracle(b.netns));

    t.deepEqual(serviceSeries(counted, [node.ipv4, node.ipv6]), [], 'no series left under a Service address');
    t.deepEqual(diffCounts(counted, oracle), []);
    // Every backend got connections through the Services, in both families.
    for (const be of [b1, b2, b3]) {
      for (const from of [c1, c2]) {
        t.true(counted.has(`${from.ipv4}|${be.ipv4}|tcp`) || counted.has(`${from.ipv4}|${be.ipv4}|udp`), `${from.name} -> ${be.name} (IPv4)`);
      }
    }
    // Hairpin: c1 to itself through its Service; its replies to the masquerading node address.
    t.true(counted.has(`${c1.ipv4}|${c1.ipv4}|tcp`), 'hairpin request under c1 -> c1');
    // Replies are counted where the backend sent them, never with a Service as source.
    t.deepEqual([...counted.keys()].filter((k) => SERVICE_ADDRESSES.test(k.split('|')[0]!)), []);
    t.deepEqual(await unresolved(agentA), NO_UNRESOLVED);
  });
}

test.serial('churn: backends replaced while clients keep connecting, every byte under the backend that received it', async (t) => {
  const { a, b, c1, c2, b1, b2, b3 } = await buildCluster(t, 34);
  const svc: Service = { ipv4: '10.96.1.20', ipv6: 'fd00:10:96::1:14', port: 80, backends: [b1, b2] };
  await setServices(a.netns, 'nftables', [svc]);
  const agentA = await AgentProcess.start(a, { EBPF_LOG_LEVEL: 'debug' });
  t.teardown(() => agentA.stop());
  const agentB = await AgentProcess.start(b);
  t.teardown(() => agentB.stop());
  await Promise.all([agentA.waitReady(), agentB.waitReady()]);

  let stop = false;
  const clients = [c1, c2].map(async (from, i) => {
    let k = 0;
    while (!stop) {
      await send(from, k % 2 ? svc.ipv6 : svc.ipv4, { port: 80, udpCount: 2, udpSize: 200 + i, udpFlows: 1, tcpBytes: 5_000 + k, cpu: i % availableParallelism() });
      k++;
    }
  });
  // As the endpoints controller and kube-proxy do: the backend leaves the
  // Service first, then its pod goes; a new one joins.
  const sets: Pod[][] = [[b2, b3], [b3], [b3, b1], [b1, b2, b3]];
  for (const backends of sets) {
    await sleep(1500);
    await setServices(a.netns, 'nftables', [{ ...svc, backends }]);
  }
  await sleep(1500);
  stop = true;
  await Promise.all(clients);
  await Promise.all([agentA.waitForCollections(2), agentB.waitForCollections(2)]);

  const counted = sumCounts(await agentA.traffic(), await agentB.traffic());
  const oracle = sumCounts(await readServiceOracle(a.netns), await readServiceOracle(b.netns));
  // Should a pair stay under the ClusterIP, what the agents and conntrack said goes with the failure.
  const left = serviceSeries(counted);
  t.log(`conntrack on node A: ${await conntrackStats(a.netns)}`);
  const why = left.length ? `counted ${JSON.stringify(left.map((k) => [k, counted.get(k)]))}; diff ${JSON.stringify(diffCounts(counted, oracle))}; conntrack A ${await conntrackStats(a.netns)}; unresolved A ${JSON.stringify(await unresolved(agentA))}; oracle ${JSON.stringify(Object.fromEntries(oracle))}; agent A log tail:\n${agentA.output().split('\n').slice(-40).join('\n')}` : '';
  t.deepEqual(left, [], why);
  t.deepEqual(diffCounts(counted, oracle), []);
  const served = (b: Pod) => [...counted.keys()].some((k) => k.split('|')[1] === b.ipv4 || k.split('|')[1] === b.ipv6);
  t.deepEqual([b1, b2, b3].filter((b) => !served(b)), [], 'every backend, old and new, served');
  t.deepEqual(await unresolved(agentA), NO_UNRESOLVED);
});

test.serial('EBPF_SERVICE_RESOLUTION=off keeps the Service address the pod sent to', async (t) => {
  const { a, c1, b1 } = await buildCluster(t, 36);
  const svc: Service = { ipv4: '10.96.2.30', ipv6: 'fd00:10:96::2:1e', port: 80, backends: [b1] };
  await setServices(a.netns, 'nftables', [svc]);
  const agent = await AgentProcess.start(a, { EBPF_SERVICE_RESOLUTION: 'off' });
  t.teardown(() => agent.stop());
  await agent.waitReady();
  await send(c1, svc.ipv4, { port: 80, udpCount: 4, udpSize: 100, tcpBytes: 10_000 });
  await agent.waitForCollections(2);
  const counted = await agent.traffic();
  const oracle = await readServiceOracle(a.netns);
  // The same bytes, under the ClusterIP instead of the backend.
  for (const proto of ['tcp', 'udp']) {
    t.deepEqual(counted.get(`${c1.ipv4}|${svc.ipv4}|${proto}`), oracle.get(`${c1.ipv4}|${b1.ipv4}|${proto}`));
  }
  t.false(counted.has(`${c1.ipv4}|${b1.ipv4}|tcp`));
  t.deepEqual(await unresolved(agent), {}, 'no resolver, no unresolved series');
});
