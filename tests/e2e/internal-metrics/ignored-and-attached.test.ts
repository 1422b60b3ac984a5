// kubeadapt_bpf_ignored_packets_total moves by exactly the number of frames
// of each kind that reached the hook (non-IP, other L4, truncated, too many
// IPv6 extension headers), and kubeadapt_attached_interfaces follows pod veths
// as they come and go.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { RawLink, type InjectStep } from './raw-link.js';
import { mustValue, valueOf } from './samples.js';

const IGNORED = 'kubeadapt_bpf_ignored_packets_total';
const ATTACHED = 'kubeadapt_attached_interfaces';

async function waitAttached(agent: AgentProcess, n: number): Promise<number> {
  const until = Date.now() + 3000;
  let v: number | undefined;
  while ((v = valueOf(await agent.samples(), ATTACHED)) !== n && Date.now() < until) await sleep(50);
  return v ?? -1;
}

test.serial('ignored packets by reason and attached interfaces are exact', async (t) => {
  const node = await new SimulatedNode(53).create();
  t.teardown(() => node.destroy());
  const agent = await AgentProcess.start(node);
  t.teardown(() => agent.stop());
  await agent.waitReady();
  t.is(valueOf(await agent.samples(), ATTACHED), 0, 'a node without pods has nothing to attach to');

  const a = await RawLink.create(node, 'a');
  t.teardown(() => a.destroy());
  t.is(await waitAttached(agent, 1), 1, 'a new pod veth is attached');
  const b = await RawLink.create(node, 'b');
  t.teardown(() => b.destroy());
  t.is(await waitAttached(agent, 2), 2);

  await agent.waitForCollections(1);
  const before = await agent.samples();
  const reasons = { non_ip: 7, other_l4: 11, truncated: 5, ipv6_ext_limit: 3 };
  const steps: InjectStep[] = [
    { kind: 'non_ip', count: reasons.non_ip },
    { kind: 'other_l4', count: reasons.other_l4, src: '10.9.3.1', dst: '10.9.3.2', size: 56 },
    { kind: 'truncated', count: reasons.truncated },
    { kind: 'ext_limit', count: reasons.ipv6_ext_limit, src: 'fd00:9::1', dst: 'fd00:9::2' },
    // Counted traffic alongside must not move any ignored reason.
    { kind: 'udp', count: 4, src: '10.9.3.1', dst: '10.9.3.2', size: 10 },
  ];
  // Half on each link: both hooks count into the same per-CPU counters.
  await a.inject(steps);
  await b.inject(steps);
  await agent.waitForCollections(2);
  const after = await agent.samples();
  for (const [reason, n] of Object.entries(reasons)) {
    t.is(mustValue(after, IGNORED, { reason }) - mustValue(before, IGNORED, { reason }), 2 * n, `reason="${reason}"`);
  }
  t.is(mustValue(after, 'kubeadapt_connection_traffic_packets_total', { src_ip: '10.9.3.1', dst_ip: '10.9.3.2', protocol: 'udp' }), 8);
  const total = Object.values(reasons).reduce((x, y) => x + y, 0) + 4;
  t.is((await a.received()).packets, total, 'the kernel received exactly the injected frames on each link');
  t.is((await b.received()).packets, total);

  await b.destroy();
  t.is(await waitAttached(agent, 1), 1, 'a deleted pod veth is released');
  await a.destroy();
  t.is(await waitAttached(agent, 0), 0);
});
