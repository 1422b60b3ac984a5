// Restarts lose nothing and reset nothing. While traffic flows: the agent is
// killed (SIGKILL, and once in the middle of a ledger transaction), restarted
// on the same pins, updated (SIGTERM with programs kept, a new agent), and
// finally uninstalled (`cleanup`). The last agent's counters equal the
// kernel's counters over the whole run, programs are never attached twice,
// and the uninstall leaves nothing behind.
import test from 'ava';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode, type Pod } from '../helpers/topology.js';
import { AgentProcess, AGENT_MAIN } from '../helpers/agent-process.js';
import { run } from '../helpers/exec.js';
import { Sinks, send } from '../helpers/traffic.js';

async function trafficUntil(stop: { done: boolean }, pods: Pod[]): Promise<number> {
  let rounds = 0;
  const [p1, p2] = pods as [Pod, Pod];
  try {
    while (!stop.done) {
      await send(p1, rounds % 2 ? p2.ipv6 : p2.ipv4, { udpCount: 10, udpSize: 300 + rounds, tcpBytes: 20_000 });
      await send(p2, p1.ipv4, { udpCount: 5, udpSize: 700, udpFlows: 3 });
      rounds++;
    }
  } catch (err) {
    if (!stop.done) throw err; // the test ended early and tore the pods down
  }
  return rounds;
}

// The tc run releases every drained slot by giving it a fresh map (what
// slots.cc does on its own only for big drains), so restarts meet replaced
// maps and pins; the tcx run releases by deletes, as a small node does.
for (const [mode, index, release] of [['tcx', 15, 'auto'], ['tc', 16, 'replace']] as const) {
  test.serial(`attach ${mode}, slots released by ${release === 'replace' ? 'fresh maps' : 'deletes'}: SIGKILL, crash mid-transaction, rolling update and uninstall lose nothing`, async (t) => {
    const node = await new SimulatedNode(index).create();
    t.teardown(() => node.destroy());
    for (const cni of ['ptp', 'bridge'] as const) await node.addPod(cni, { skipDad: true });
    await node.setOffloads('on');
    await node.installOracle();
    const sinks = new Sinks();
    t.teardown(() => sinks.stop());
    await sinks.start(node.pods);
    const env = { EBPF_ATTACH_MODE: mode, EBPF_ON_SHUTDOWN: 'keep', EBPF_COLLECTION_INTERVAL: '500ms', EBPF_TEST_SLOT_RELEASE: release };
    const agents: AgentProcess[] = [];
    t.teardown(async () => {
      for (const a of agents) await a.stop().catch(() => undefined);
      await run('nsenter', [`--net=/run/netns/${node.netns}`, process.execPath, AGENT_MAIN, 'cleanup'], { env: { ...process.env, EBPF_BPF_PIN_PATH: `/sys/fs/bpf/${node.id}` }, allowFail: true });
    });
    const start = async (extra: Record<string, string> = {}) => {
      const a = await AgentProcess.start(node, { ...env, ...extra }, 0, !extra.EBPF_FAILPOINT);
      agents.push(a);
      return a;
    };
    const ourHooks = async () => (await node.hooks()).filter((h) => h.name?.startsWith('tc_')).map((h) => `${h.link}/${h.direction}/${h.kind}`).sort();

    const first = await start();
    await first.waitReady();
    // Counting starts with the first agent: traffic from then on must all be there at the end.
    const stop = { done: false };
    t.teardown(() => void (stop.done = true));
    const traffic = trafficUntil(stop, node.pods);
    const hooks = await ourHooks();
    t.true(hooks.length >= node.pods.length);
    await sleep(1500);
    await first.kill(); // as an OOM kill or a node agent crash would
    await sleep(1000); // traffic while no agent runs: the programs still count

    // This one dies in its first transaction that has data, after the ledger
    // took the deltas and before the slot was released.
    const crashing = await start({ EBPF_FAILPOINT: 'ledger-after-apply' });
    const until = Date.now() + 15_000;
    while (crashing.exitCode() === null && Date.now() < until) await sleep(50);
    t.not(crashing.exitCode(), null, 'the failpoint fired');
    await sleep(500);

    const second = await start();
    await second.waitReady();
    t.deepEqual(await ourHooks(), hooks, 'reused, not attached twice');
    await sleep(1500);
    t.is(await second.stop(), 0, 'SIGTERM (rolling update) exits 0');
    t.deepEqual(await ourHooks(), hooks, 'programs stay attached across the update');
    await sleep(1000);

    const third = await start();
    await third.waitReady();
    await sleep(1000);
    stop.done = true;
    const rounds = await traffic;
    await third.waitForCollections(2);
    t.log(`${rounds} traffic rounds across 4 agent processes`);

    const oracle = await node.readOracle('received');
    const counted = await third.traffic();
    t.deepEqual(Object.fromEntries(counted), Object.fromEntries(oracle), 'the last agent has every byte since the first started');

    t.is(await third.stop(), 0);
    // What the chart's uninstall runs on the node (host network namespace).
    const cleanup = await run('nsenter', [`--net=/run/netns/${node.netns}`, process.execPath, AGENT_MAIN, 'cleanup'], { env: { ...process.env, EBPF_BPF_PIN_PATH: third.pinPath } });
    t.is(cleanup.code, 0);
    t.deepEqual(await ourHooks(), [], 'uninstall: no hook left');
    t.false(existsSync(third.pinPath), 'uninstall: no pin left');
    for (const pod of node.pods) {
      const { stdout } = await run('ip', ['netns', 'exec', node.netns, 'tc', 'qdisc', 'show', 'dev', pod.hostVeth]);
      if (mode === 'tc') t.notRegex(stdout, /clsact/, `no clsact qdisc left on ${pod.hostVeth}`);
    }
  });
}
