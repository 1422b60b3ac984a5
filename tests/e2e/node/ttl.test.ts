// Series of pairs idle for longer than EBPF_PAIR_TTL leave /metrics (and the
// pinned ledger), while active pairs stay.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { Sinks, send } from '../helpers/traffic.js';
import { runJson } from '../helpers/exec.js';

test.serial('an idle pair is dropped after the TTL; an active one stays', async (t) => {
  const node = await new SimulatedNode(17).create();
  t.teardown(() => node.destroy());
  for (const cni of ['ptp', 'ptp'] as const) await node.addPod(cni, { skipDad: true });
  const sinks = new Sinks();
  t.teardown(() => sinks.stop());
  await sinks.start(node.pods);
  const agent = await AgentProcess.start(node, { EBPF_PAIR_TTL: '2s', EBPF_COLLECTION_INTERVAL: '500ms' });
  t.teardown(() => agent.stop());
  await agent.waitReady();
  const [p1, p2] = node.pods as [typeof node.pods[0], typeof node.pods[0]];
  await send(p1, p2.ipv4, { udpCount: 3, udpSize: 100 });
  await agent.waitForCollections(2);
  const idle = `${p1.ipv4}|${p2.ipv4}|udp`;
  t.true((await agent.traffic()).has(idle));
  const ledgerPairs = async () => {
    return (await runJson<unknown[]>('bpftool', ['map', 'dump', 'pinned', `${agent.pinPath}/pair_totals`, '-j'])).length;
  };
  t.is(await ledgerPairs(), 1);
  // Keep the other direction busy past the TTL.
  const until = Date.now() + 3500;
  while (Date.now() < until) {
    await send(p2, p1.ipv4, { udpCount: 1, udpSize: 100 });
    await sleep(300);
  }
  await agent.waitForCollections(2);
  const after = await agent.traffic();
  t.false(after.has(idle), 'the idle pair is gone');
  t.true(after.has(`${p2.ipv4}|${p1.ipv4}|udp`), 'the active pair stays');
  t.is(await ledgerPairs(), 1, 'the ledger forgot the idle pair too');
});
