// Interface discovery follows rtnetlink: a pod that appears while the agent
// runs is attached within a second of its veth appearing, and its traffic from
// then on is counted exactly; a pod that goes away is released.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { Sinks, send } from '../helpers/traffic.js';

const attachedCount = async (agent: AgentProcess) =>
  (await agent.samples()).find((s) => s.name === 'kubeadapt_attached_interfaces')?.value ?? -1;

test.serial('a new pod is attached within 1 s and counted exactly; a deleted pod is released', async (t) => {
  const node = await new SimulatedNode(13).create();
  t.teardown(() => node.destroy());
  const first = await node.addPod('ptp');
  const agent = await AgentProcess.start(node);
  t.teardown(() => agent.stop());
  await agent.waitReady();
  t.is(await attachedCount(agent), 1);

  const added = await node.addPod('bridge');
  // CNI ADD returned: the veth exists. The agent must have hooked it within 1 s.
  const since = Date.now();
  let hooked = false;
  while (Date.now() - since < 1000 && !hooked) {
    hooked = (await node.hooks()).some((h) => h.link === added.hostVeth && h.name === 'tc_pod_egress');
    if (!hooked) await sleep(20);
  }
  t.true(hooked, `tc_pod_egress on ${added.hostVeth} within 1 s of CNI ADD returning`);
  t.log(`attached ${Date.now() - since} ms after CNI ADD returned`);

  await node.setOffloads('off');
  await node.installOracle();
  const sinks = new Sinks();
  t.teardown(() => sinks.stop());
  await sinks.start(node.pods);
  await send(added, first.ipv4, { udpCount: 20, udpSize: 300, tcpBytes: 50_000 });
  await send(first, added.ipv6, { udpCount: 5, udpSize: 700 });
  await agent.waitForCollections(2);
  t.deepEqual(Object.fromEntries(await agent.traffic()), Object.fromEntries(await node.readOracle('forwarded')));

  // The pod veths and the bridge device the bridge plugin made.
  t.is(await attachedCount(agent), 3);
  await sinks.stop();
  await node.deletePod(added);
  const until = Date.now() + 2000;
  while ((await attachedCount(agent)) !== 2 && Date.now() < until) await sleep(50);
  t.is(await attachedCount(agent), 2, 'the deleted pod is released; the bridge (left by CNI DEL) stays');
  t.false((await node.hooks()).some((h) => h.link === added.hostVeth));
});
