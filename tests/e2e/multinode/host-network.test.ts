// Traffic a process in the node's network namespace sends is counted at the
// first device it leaves by (the uplink, a pod veth, the bridge), once. In
// netns filter mode "default" only processes in the pods' cgroup count (a
// hostNetwork pod), not host system processes; in "disabled" both do.
import test from 'ava';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { Sinks, sendFromNode } from '../helpers/traffic.js';
import { diffCounts, installRxOracle, linkNodes, nodeAddress, nodeEndpoint, podEndpoint, readRxOracle } from '../helpers/cluster.js';
import { cgroup2Mounts } from '../../../agent/src/interfaces/cgroup.js';

for (const [mode, index] of [['default', 22], ['disabled', 24]] as const) {
  test.serial(`netns filter mode ${mode}: hostNetwork pod ${mode === 'default' ? 'counted, host system traffic left out' : 'and host system traffic counted'}`, async (t) => {
    const mount = cgroup2Mounts().find((m) => m.root === '/');
    if (!mount) {
      t.fail('no cgroup v2 hierarchy mounted: hostNetwork pods cannot be told apart from host processes here');
      return;
    }
    const a = await new SimulatedNode(index).create();
    t.teardown(() => a.destroy());
    const b = await new SimulatedNode(index + 1).create();
    t.teardown(() => b.destroy());
    // The kubelet's pods cgroup and one hostNetwork pod in it.
    const kubepods = join(mount.mountPoint, `${a.id}-kubepods`);
    const hostPod = join(kubepods, 'pod-hostnet');
    mkdirSync(hostPod, { recursive: true });
    t.teardown(() => {
      rmdirSync(hostPod);
      rmdirSync(kubepods);
    });
    for (const n of [a, b]) for (const cni of ['ptp', 'bridge'] as const) await n.addPod(cni, { skipDad: true });
    await linkNodes(a, b);
    for (const n of [a, b]) await n.setOffloads('on');
    const receivers = [...a.pods, ...b.pods].map(podEndpoint);
    await installRxOracle(receivers, [...receivers, nodeEndpoint(a), nodeEndpoint(b)]);
    const sinks = new Sinks();
    t.teardown(() => sinks.stop());
    await sinks.start([...a.pods, ...b.pods]);

    const agent = await AgentProcess.start(a, { EBPF_NETNS_FILTER_MODE: mode, EBPF_POD_CGROUP: kubepods });
    t.teardown(() => agent.stop());
    await agent.waitReady();

    const me = nodeAddress(a.index);
    const [a1, a2] = a.pods as [typeof a.pods[0], typeof a.pods[0]];
    const [b1, b2] = b.pods as [typeof b.pods[0], typeof b.pods[0]];
    // The hostNetwork pod talks to a pod on the other node (out of eth0) and a local ptp pod (out of its veth);
    // a host system process to the other node's bridge pod and the local bridge pod (out of the bridge).
    for (const [to, cgroup] of [[b1, hostPod], [a1, hostPod], [b2, undefined], [a2, undefined]] as const) {
      await sendFromNode(a.netns, to.ipv4, { from: me.ipv4, udpCount: 25, udpSize: 400, tcpBytes: 90_000 }, cgroup);
      await sendFromNode(a.netns, to.ipv6, { from: me.ipv6, udpCount: 15, udpSize: 800, tcpBytes: 70_000 }, cgroup);
    }
    await agent.waitForCollections(2);

    const oracle = await readRxOracle(receivers);
    const counted = await agent.traffic();
    const fromNode = (m: Map<string, unknown>) => [...m.keys()].filter((k) => k.startsWith(`${me.ipv4}|`) || k.startsWith(`${me.ipv6}|`));
    const hostNetPairs = fromNode(oracle).filter((k) => [b1, a1].some((p) => k.includes(`|${p.ipv4}|`) || k.includes(`|${p.ipv6}|`)));
    const systemPairs = fromNode(oracle).filter((k) => !hostNetPairs.includes(k));
    t.is(hostNetPairs.length, 8);
    t.is(systemPairs.length, 8);
    const expected = mode === 'default' ? hostNetPairs : [...hostNetPairs, ...systemPairs];
    t.deepEqual(diffCounts(counted, oracle, expected), []);
    t.deepEqual(fromNode(counted).sort(), [...expected].sort(), 'no other pair from the node is counted');
  });
}
