// The core promise: for every (src_ip, dst_ip, protocol) the agent's bytes and
// packets equal what the kernel's own nftables counters saw, exactly, for
// IPv4 and IPv6, TCP and UDP, pods on ptp and bridge, offloads off and on,
// in both attach modes. Then nothing of ours remains after the agent stops.
import test from 'ava';
import { SimulatedNode, type Counts } from '../helpers/topology.js';
import { diffCounts } from '../helpers/cluster.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { Sinks, send } from '../helpers/traffic.js';
import { run, inNetns } from '../helpers/exec.js';
import { existsSync } from 'node:fs';

async function buildNode(t: import('ava').ExecutionContext, index: number): Promise<SimulatedNode> {
  const node = await new SimulatedNode(index).create();
  t.teardown(() => node.destroy());
  for (const cni of ['ptp', 'ptp', 'bridge', 'bridge'] as const) await node.addPod(cni);
  return node;
}

/** Every pod sends to two others: UDP of two sizes and a TCP stream, both families. */
async function driveTraffic(node: SimulatedNode): Promise<void> {
  const pods = node.pods;
  for (let i = 0; i < pods.length; i++) {
    const from = pods[i]!;
    for (const to of [pods[(i + 1) % pods.length]!, pods[(i + 2) % pods.length]!]) {
      await send(from, to.ipv4, { udpCount: 50 + i, udpSize: 100 + 37 * i, tcpBytes: 300_000 + 1000 * i });
      await send(from, to.ipv6, { udpCount: 30 + i, udpSize: 1200 - 11 * i, tcpBytes: 200_000 + 999 * i });
    }
  }
}



for (const [mode, offloads, side] of [['tcx', 'off', 'forwarded'], ['tc', 'on', 'received']] as const) {
  test.serial(`attach ${mode}, offloads ${offloads}: every pair equals the pods' nftables counters (${side}) exactly`, async (t) => {
    const node = await buildNode(t, mode === 'tcx' ? 10 : 11);
    await node.setOffloads(offloads);
    await node.installOracle();
    const sinks = new Sinks();
    t.teardown(() => sinks.stop());
    await sinks.start(node.pods);

    const agent = await AgentProcess.start(node, { EBPF_ATTACH_MODE: mode });
    t.teardown(() => agent.stop());
    await agent.waitReady();
    const attached = (await agent.samples()).find((s) => s.name === 'kubeadapt_attached_interfaces');
    t.is(attached?.value, node.pods.length + 1, 'every pod veth and the bridge');

    await driveTraffic(node);
    await agent.waitForCollections(2);
    const oracle = await node.readOracle(side);
    const counted = await agent.traffic();
    t.true(oracle.size >= node.pods.length * 2 * 2 * 2, `oracle saw ${oracle.size} pairs`);
    t.deepEqual(diffCounts(counted, oracle), []);
    if (offloads === 'off') {
      // Without offloads the node and the receivers see the same wire packets.
      t.deepEqual(diffCounts(await node.readOracle('received'), oracle), [], 'both oracles agree');
    }

    // Ignored packets (ARP, ICMPv6 neighbour discovery) are counted, not lost.
    const ignored = (await agent.samples()).filter((s) => s.name === 'kubeadapt_bpf_ignored_packets_total');
    t.true(ignored.some((s) => s.labels.reason === 'other_l4' && s.value > 0), 'ICMPv6 ND shows up as other_l4');

    const ours = (await node.hooks()).filter((h) => h.name === 'tc_pod_egress');
    t.deepEqual(ours.map((h) => `${h.link}/${h.direction}/${h.kind}`).sort(), node.pods.map((p) => `${p.hostVeth}/ingress/${mode}`).sort());
    const ids = [...new Set(ours.map((h) => h.id))];

    t.is(await agent.stop(), 0, 'SIGTERM exits 0');
    t.deepEqual(await node.hooks(), [], 'no filter or link left on any interface');
    for (const pod of node.pods) {
      const { stdout } = await inNetns(node.netns, 'tc', ['qdisc', 'show', 'dev', pod.hostVeth]);
      t.notRegex(stdout, /clsact/, `no clsact qdisc left on ${pod.hostVeth}`);
    }
    t.false(existsSync(agent.pinPath), 'pinned maps and their directory removed');
    for (const id of ids) {
      const r = await run('bpftool', ['prog', 'show', 'id', String(id)], { allowFail: true });
      t.not(r.code, 0, `program ${id} unloaded`);
    }
  });
}
