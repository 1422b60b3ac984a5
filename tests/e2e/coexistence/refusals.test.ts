// Legacy TC: what our agent must refuse rather than break a CNI. A foreign
// program already at our handle and priority is never replaced or deleted
// (not by the agent, not by `cleanup`), and a filter of another kind at
// priority 1 (u32 here; ours cannot share the priority) is left alone; both are
// reported as attach errors that name the filter.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess } from '../helpers/agent-process.js';
import { runJson } from '../helpers/exec.js';
import { SimulatedNode } from '../helpers/topology.js';
import { StandInCni, inNode } from './stand-in.js';
import { cleanupAgent } from './scenario.js';

const OUR_HANDLE = 0x4b41;

test.serial('tc: a foreign filter at our handle or another kind at priority 1 is refused, reported and left as it was', async (t) => {
  const node = await new SimulatedNode(45).create();
  t.teardown(() => node.destroy());
  const a = await node.addPod('ptp');
  const b = await node.addPod('ptp');
  const standIn = new StandInCni(node);
  t.teardown(() => standIn.destroy());
  await standIn.load();
  const standInId = await standIn.programId();
  await inNode(node, 'tc', ['qdisc', 'add', 'dev', a.hostVeth, 'clsact']);
  await inNode(node, 'tc', ['filter', 'add', 'dev', a.hostVeth, 'ingress', 'prio', '1', 'handle', String(OUR_HANDLE),
    'bpf', 'da', 'object-pinned', `${standIn.pinDir}/prog`]);
  await inNode(node, 'tc', ['qdisc', 'add', 'dev', b.hostVeth, 'clsact']);
  // u32 is the classifier kind every kernel has (this one has no matchall or flower).
  await inNode(node, 'tc', ['filter', 'add', 'dev', b.hostVeth, 'ingress', 'prio', '1', 'u32', 'match', 'u32', '0', '0']);

  /** The filters on a hook as `tc -j` prints them (bpf: options.handle; u32: options.fh). */
  const filters = async (dev: string) => {
    type Row = { kind: string; pref: number; options?: { handle?: string; fh?: string; prog?: { id: number } } };
    return (await runJson<Row[]>('tc', ['-n', node.netns, '-j', 'filter', 'show', 'dev', dev, 'ingress'])).filter((f) => f.options)
      .map((f) => ({ kind: f.kind, pref: f.pref, handle: f.options!.handle ?? f.options!.fh, prog: f.options!.prog?.id }));
  };
  const ingress = async () => ({ onA: await filters(a.hostVeth), onB: await filters(b.hostVeth) });
  const expected = await ingress();
  t.deepEqual(expected.onA, [{ kind: 'bpf', pref: 1, handle: `0x${OUR_HANDLE.toString(16)}`, prog: standInId }], 'the stand-in at our handle');
  t.true(expected.onB.length > 0 && expected.onB.every((f) => f.kind === 'u32' && f.pref === 1), 'a u32 filter at priority 1');

  const agent = await AgentProcess.start(node, { EBPF_ATTACH_MODE: 'tc' });
  t.teardown(() => agent.stop());
  const attachErrors = async () => (await agent.samples()).find((s) => s.name === 'kubeadapt_collector_errors_total' && s.labels.type === 'attach')?.value ?? 0;
  const until = Date.now() + 15_000;
  while ((await attachErrors()) < 2 && Date.now() < until) await sleep(200);
  t.is(await attachErrors(), 2, 'one attach error for each of the two hooks');
  t.regex(agent.output(), /holds stand_in_cni \(id \d+\) at priority 1 handle 0x4b41, which is not ours; refusing to replace a filter we did not create/);
  t.regex(agent.output(), /priority 1 is taken by a \\?"u32\\?" filter \(handle 0x[0-9a-f]+\)/);
  t.deepEqual(await ingress(), expected, 'untouched while our agent runs');

  await agent.stop();
  await cleanupAgent(agent);
  t.deepEqual(await ingress(), expected, 'untouched after our agent stopped and cleaned up');
});
