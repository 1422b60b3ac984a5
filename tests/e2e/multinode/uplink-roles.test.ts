// Nodes whose link to each other is a veth and whose routes are not a default
// route: the agent must still take that veth for an uplink, not a pod's, or
// the receiving agent counts every cross-node packet a second time (issue 11).
// Node A reaches B's pods by routes with a gateway, node B reaches A's pods by
// device routes to A's pod CIDRs (no gateway at all): each uplink rule alone.
// Then a link the guess cannot see (a veth enslaved to a bridge that holds
// the node's address and routes) with EBPF_UPLINK_INTERFACES. Every pair is
// checked against the receivers' nftables counters, exactly, and each pair is
// counted by one agent only.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { SimulatedNode, type Pod } from '../helpers/topology.js';
import { AgentProcess, AGENT_MAIN } from '../helpers/agent-process.js';
import { inNetns } from '../helpers/exec.js';
import { Sinks, send, sendFromNode } from '../helpers/traffic.js';
import { diffCounts, installRxOracle, linkNodes, nodeAddress, nodeEndpoint, podCidrs, podEndpoint, readRxOracle, sumCounts, type Endpoint, type NodeRouting } from '../helpers/cluster.js';

/** The `interfaces` lines of `check --output json` run in the node's network namespace. */
function checkLines(node: SimulatedNode, env: Record<string, string> = {}): string[] {
  const r = spawnSync('nsenter', [`--net=/run/netns/${node.netns}`, process.execPath, AGENT_MAIN, 'check', '--output', 'json'], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, EBPF_BPF_PIN_PATH: `/sys/fs/bpf/${node.id}`, ...env },
  });
  let parsed: { checks: { name: string; lines?: string[] }[] };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    throw new Error(`check exited ${r.status}: stdout ${JSON.stringify(r.stdout)} stderr ${JSON.stringify(r.stderr)}`);
  }
  const c = parsed.checks.find((x) => x.name === 'interfaces');
  if (!c?.lines) throw new Error(`no interfaces check in ${r.stdout}`);
  return c.lines;
}

/** The `interface role` log lines of an agent for one interface. */
function loggedRoles(agent: AgentProcess, name: string): { role: string; why: string }[] {
  return agent.output().split('\n').filter((l) => l.includes('"msg":"interface role')).map((l) => JSON.parse(l) as { interface: string; role: string; why: string })
    .filter((l) => l.interface === name).map(({ role, why }) => ({ role, why }));
}

interface Pair {
  a: SimulatedNode;
  b: SimulatedNode;
  receivers: Endpoint[];
}

/** Two nodes with a ptp and a bridge pod each, linked, oracles installed, sinks running. */
async function twoNodes(t: ExecutionContext, index: number, routing: readonly [NodeRouting, NodeRouting]): Promise<Pair> {
  const a = await new SimulatedNode(index).create();
  t.teardown(() => a.destroy());
  const b = await new SimulatedNode(index + 1).create();
  t.teardown(() => b.destroy());
  for (const n of [a, b]) for (const cni of ['ptp', 'bridge'] as const) await n.addPod(cni, { skipDad: true });
  await linkNodes(a, b, routing);
  for (const n of [a, b]) await n.setOffloads('on');
  // Node-to-node packets reach the other node's input hook as wire packets.
  for (const n of [a, b]) await inNetns(n.netns, 'ethtool', ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  const receivers = [...[...a.pods, ...b.pods].map(podEndpoint), nodeEndpoint(a), nodeEndpoint(b)];
  await installRxOracle(receivers, receivers);
  const sinks = new Sinks();
  t.teardown(() => sinks.stop());
  const nodeSinks: Pod[] = [a, b].map((n) => ({ name: 'node', netns: n.netns, cni: 'ptp', ipv4: '', ipv6: '', hostVeth: '' }));
  await sinks.start([...a.pods, ...b.pods, ...nodeSinks]);
  return { a, b, receivers };
}

/** Pod to pod across the link both ways, same node, host to the other node's pods and to the other node. */
async function traffic({ a, b }: Pair): Promise<void> {
  const [a1, a2] = a.pods as [Pod, Pod];
  const [b1, b2] = b.pods as [Pod, Pod];
  const plan = { udpCount: 20, udpSize: 700, tcpBytes: 100_000 };
  for (const fam of ['ipv4', 'ipv6'] as const) {
    await send(a1, b1[fam], plan); // ptp pod -> eth0 -> ptp pod
    await send(a2, b2[fam], plan); // bridge pod -> eth0 -> bridge pod
    await send(b1, a2[fam], plan);
    await send(b2, a1[fam], plan);
    await send(a1, a2[fam], plan); // same node
    await sendFromNode(a.netns, b1[fam], { ...plan, from: nodeAddress(a.index)[fam] });
    await sendFromNode(b.netns, a2[fam], { ...plan, from: nodeAddress(b.index)[fam] });
    await sendFromNode(a.netns, nodeAddress(b.index)[fam], { ...plan, from: nodeAddress(a.index)[fam] });
  }
}

/** Sum of both agents against the oracle, every pair exactly; no pair counted by both. */
async function assertCountedOnce(t: ExecutionContext, agents: [AgentProcess, AgentProcess], receivers: Endpoint[], pairs: number): Promise<void> {
  await Promise.all(agents.map((x) => x.waitForCollections(2)));
  const [ca, cb] = [await agents[0].traffic(), await agents[1].traffic()];
  const oracle = await readRxOracle(receivers);
  // 8 flows per family, UDP and TCP each (32 pairs), and the ACKs of the 8 TCP flows per family back (16).
  t.is(oracle.size, pairs, `oracle pairs: ${[...oracle.keys()].join(' ')}`);
  t.deepEqual(diffCounts(sumCounts(ca, cb), oracle), []);
  t.deepEqual([...ca.keys()].filter((k) => cb.has(k)), [], 'each pair counted by one agent');
}

for (const [modeA, modeB, index] of [['tcx', 'tc', 30], ['tc', 'tcx', 32]] as const) {
  test.serial(`no default route (A: gateway routes, ${modeA}; B: device routes to pod CIDRs, ${modeB}): each cross-node pair counted once`, async (t) => {
    const pair = await twoNodes(t, index, ['gateway', 'device']);
    const { a, b, receivers } = pair;
    t.is(spawnSync('ip', ['-n', a.netns, 'route', 'show', 'default'], { encoding: 'utf8' }).stdout, '', 'no default route on A');
    t.is(spawnSync('ip', ['-n', b.netns, '-6', 'route', 'show', 'default'], { encoding: 'utf8' }).stdout, '', 'no IPv6 default route on B');

    const [ethA] = checkLines(a).filter((l) => l.startsWith('eth0 '));
    t.regex(ethA!, new RegExp(`^eth0 \\(ifindex \\d+\\): uplink \\[egress tc_host_egress\\]: a veth whose peer is in another network namespace; carries a route with a gateway: (${podCidrs(b.index).v4.join('|').replace(/\./g, '\\.')}) via ${nodeAddress(b.index).ipv4.replace(/\./g, '\\.')}$`));
    const [ethB] = checkLines(b).filter((l) => l.startsWith('eth0 '));
    t.regex(ethB!, /^eth0 \(ifindex \d+\): uplink \[egress tc_host_egress\]: a veth whose peer is in another network namespace; carries a route to a network: (10\.244\.\d+\.0\/24|fd00:10:244:[0-9a-f]+::\/64)$/);

    // Host traffic counts in mode disabled, so host-to-pod paths are checked too.
    const agentA = await AgentProcess.start(a, { EBPF_NETNS_FILTER_MODE: 'disabled', EBPF_ATTACH_MODE: modeA });
    t.teardown(() => agentA.stop());
    const agentB = await AgentProcess.start(b, { EBPF_NETNS_FILTER_MODE: 'disabled', EBPF_ATTACH_MODE: modeB });
    t.teardown(() => agentB.stop());
    await Promise.all([agentA.waitReady(), agentB.waitReady()]);
    for (const [agent, node] of [[agentA, a], [agentB, b]] as const) {
      t.deepEqual(loggedRoles(agent, 'eth0').map((r) => r.role), ['uplink'], 'the start-up log says eth0 is an uplink, once');
      const hooked = (await node.hooks()).filter((h) => h.name?.startsWith('tc_') && h.link === 'eth0').map((h) => `${h.direction}:${h.name}`);
      t.deepEqual(hooked, ['egress:tc_host_egress'], `hooks on ${node.id}'s eth0`);
    }

    await traffic(pair);
    await assertCountedOnce(t, [agentA, agentB], receivers, 48);
  });
}

test.serial('EBPF_UPLINK_INTERFACES: a veth uplink the routes cannot reveal (a port of the node\'s bridge) is not counted as a pod', async (t) => {
  const pair = await twoNodes(t, 34, ['default', 'default']);
  const { a, b, receivers } = pair;
  // Node B's address and routes move to a bridge br-up; eth0 becomes its port.
  const me = nodeAddress(b.index);
  const other = nodeAddress(a.index);
  const cmds = [
    ['ip', 'addr', 'flush', 'dev', 'eth0', 'scope', 'global'],
    ['ip', 'link', 'add', 'br-up', 'type', 'bridge'],
    ['sysctl', '-qw', 'net.ipv6.conf.br-up.accept_dad=0'],
    ['ip', 'link', 'set', 'eth0', 'master', 'br-up'],
    ['ip', 'addr', 'add', `${me.ipv4}/24`, 'dev', 'br-up'],
    ['ip', '-6', 'addr', 'add', `${me.ipv6}/64`, 'dev', 'br-up', 'nodad'],
    ['ip', 'link', 'set', 'br-up', 'up'],
    ['ip', 'route', 'replace', 'default', 'via', other.ipv4, 'dev', 'br-up'],
    ['ip', '-6', 'route', 'replace', 'default', 'via', other.ipv6, 'dev', 'br-up'],
    ...podCidrs(a.index).v4.map((c) => ['ip', 'route', 'replace', c, 'via', other.ipv4, 'dev', 'br-up']),
    ...podCidrs(a.index).v6.map((c) => ['ip', '-6', 'route', 'replace', c, 'via', other.ipv6, 'dev', 'br-up']),
  ];
  for (const c of cmds) await inNetns(b.netns, c[0]!, c.slice(1));

  const guess = checkLines(b).find((l) => l.startsWith('eth0 '))!;
  t.regex(guess, /^eth0 \(ifindex \d+\): pod veth \[ingress tc_pod_egress\]: /, 'without the override the port looks like a bridge CNI\'s pod');
  const chosen = checkLines(b, { EBPF_UPLINK_INTERFACES: 'eth0,bond*' }).find((l) => l.startsWith('eth0 '))!;
  t.regex(chosen, /^eth0 \(ifindex \d+\): uplink \[no hook\]: a veth whose peer is in another network namespace; EBPF_UPLINK_INTERFACES names it \(eth0\); no egress hook: a port of br-up, whose own hook sees its packets$/);

  const agentA = await AgentProcess.start(a, { EBPF_NETNS_FILTER_MODE: 'disabled' });
  t.teardown(() => agentA.stop());
  const agentB = await AgentProcess.start(b, { EBPF_NETNS_FILTER_MODE: 'disabled', EBPF_UPLINK_INTERFACES: 'eth0' });
  t.teardown(() => agentB.stop());
  await Promise.all([agentA.waitReady(), agentB.waitReady()]);
  t.deepEqual(loggedRoles(agentB, 'eth0').map((r) => r.role), ['uplink']);
  t.deepEqual((await b.hooks()).filter((h) => h.name?.startsWith('tc_') && h.link === 'eth0'), [], 'no hook on the bridge port');

  await traffic(pair);
  await assertCountedOnce(t, [agentA, agentB], receivers, 48);
});
