// The coexistence test body shared by both attach modes: the stand-in CNI on
// pod A's veth alone (the baseline), then with our agent attached after it or
// before it, then after our agent is gone. The kernel decides the order; each
// step asserts the order it produced, the stand-in's effects, and our counts.
import type { ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess } from '../helpers/agent-process.js';
import { pairKey } from '../helpers/topology.js';
import { STAND_IN_HANDLE, STAND_IN_PRIORITY, ingressChain, inNode, type HookEntry } from './stand-in.js';
import { EXPECTED_EFFECTS, ROUND, buildScene, cleanupAgent, diffPairs, effectsOfRound, minusPairs, sent, type Scene } from './scenario.js';

const TC_HANDLE = 0x4b41;

export interface CoexistCase {
  mode: 'tc' | 'tcx';
  /** before: the stand-in is on the hook when our agent starts; after: it arrives while ours runs. */
  standIn: 'before-agent' | 'after-agent';
  /** tcx only: how the stand-in's link is placed. */
  position?: 'head' | 'tail';
  nodeIndex: number;
  /** EBPF_ATTACH_MODE when not `mode` itself: auto must pick `mode` on this kernel. */
  setting?: 'auto';
}

/** The order the kernel must show on A's veth: our program's and the stand-in's names. */
function shape(chain: HookEntry[]): string[] {
  return chain.map((h) => `${h.kind}:${h.name}${h.kind === 'tc' ? `@${h.priority}/0x${h.handle!.toString(16)}` : ''}`);
}

export function expectedOrder(c: CoexistCase, oursFirst: boolean): string[] {
  const ours = c.mode === 'tc' ? `tc:tc_pod_egress@1/0x${TC_HANDLE.toString(16)}` : 'tcx:tc_pod_egress';
  const theirs = c.mode === 'tc' ? `tc:stand_in_cni@${STAND_IN_PRIORITY}/0x${STAND_IN_HANDLE.toString(16)}` : 'tcx:stand_in_cni';
  return oursFirst ? [ours, theirs] : [theirs, ours];
}

export async function coexist(t: ExecutionContext, c: CoexistCase): Promise<void> {
  const s = await buildScene(t, c.nodeIndex);
  const dev = s.a.hostVeth;
  let linkPin: string | undefined;
  const attachStandIn = async () => {
    if (c.mode === 'tc') await s.standIn.attachTc(dev);
    else linkPin = await s.standIn.attachTcx(dev, c.position ?? 'tail');
  };
  const standInId = await s.standIn.programId();

  // Baseline: the stand-in alone.
  await attachStandIn();
  const alone = await effectsOfRound(s);
  t.deepEqual(alone, EXPECTED_EFFECTS, 'alone, the stand-in drops, redirects and rewrites what it says');
  if (c.standIn === 'after-agent') {
    if (c.mode === 'tc') {
      await s.standIn.detachTc(dev);
      // The agent makes the clsact qdisc this time; the stand-in's filter will sit on it.
      await inNode(s.node, 'tc', ['qdisc', 'del', 'dev', dev, 'clsact']);
    } else s.standIn.detachTcx(linkPin!);
  }

  // A run with the stand-in arriving later ends in a rolling update: the
  // agent leaves its program on the hook for the next one.
  const env = { EBPF_ATTACH_MODE: c.setting ?? c.mode, ...(c.standIn === 'after-agent' ? { EBPF_ON_SHUTDOWN: 'keep' } : {}) };
  let agent = await AgentProcess.start(s.node, env);
  t.teardown(() => agent.stop());
  await agent.waitReady();
  const detachStandIn = async () => (c.mode === 'tc' ? s.standIn.detachTc(dev) : s.standIn.detachTcx(linkPin!));
  // Legacy TC runs the newest filter of a priority first; tcx runs a BPF_F_BEFORE link first.
  const getsAhead = c.standIn === 'after-agent' && c.position !== 'tail';
  if (c.standIn === 'after-agent') {
    await attachStandIn();
    if (getsAhead) {
      // The agent checks every second that ours runs first and moves it back to the head.
      await waitForChain(s, dev, expectedOrder(c, true), 5_000);
      t.regex(agent.output(), /"moved ours back to the head of the hook".*"wasBehind":\["stand_in_cni \(/, 'the agent says what it found ahead of ours');
    }
  }
  // The time ours ran behind a CNI program is a possible loss: it is counted, once per move.
  t.is(await attachOrderErrors(agent), getsAhead ? 1 : 0, 'collector_errors_total{type="attach_order"}');
  const chain = await ingressChain(s.node, dev);
  t.deepEqual(shape(chain), expectedOrder(c, true), 'the kernel runs ours first');
  t.is(chain.find((h) => h.name === 'stand_in_cni')?.id, standInId, 'the stand-in program is the one the CNI attached');
  if (c.standIn === 'before-agent') {
    // The agent saw the CNI's program on the hook and says that ours runs before it.
    const attached = agent.output().split('\n').filter((l) => l.includes('"attached"') && l.includes(dev) && l.includes('tc_pod_egress'));
    t.is(attached.length, 1, 'one attach of ours on the pod veth');
    t.regex(attached[0]!, /"runsBefore":\["stand_in_cni \(/, 'the log names the CNI program ours runs before');
  }

  await checkRound(t, s, agent, alone);

  if (c.standIn === 'after-agent') {
    // Rolling update: ours stays on the hook; while no agent runs, the CNI
    // attaches its program again (ahead of ours, or appended behind it); the
    // next agent finds ours where it is and puts it first when it is not.
    await agent.stop();
    t.deepEqual(shape(await ingressChain(s.node, dev)), expectedOrder(c, true), 'SIGTERM with keep leaves ours on the hook');
    await detachStandIn();
    await attachStandIn();
    t.deepEqual(shape(await ingressChain(s.node, dev)), expectedOrder(c, !getsAhead), 'the CNI program attached again meanwhile');
    agent = await AgentProcess.start(s.node, env);
    await agent.waitReady();
    t.deepEqual(shape(await ingressChain(s.node, dev)), expectedOrder(c, true), 'the next agent runs ours first');
    if (getsAhead) t.regex(agent.output(), /"moved ours back to the head of the hook".*"wasBehind":\["stand_in_cni \(/, 'the next agent says what it found ahead of ours');
    else t.notRegex(agent.output(), /moved ours back/);
    await checkRound(t, s, agent, alone);
  }

  // Stop and uninstall: only ours goes; the stand-in, its handle, program and qdisc stay.
  t.is(await agent.stop(), 0, 'SIGTERM exits 0');
  await cleanupAgent(agent);
  const left = await ingressChain(s.node, dev);
  t.deepEqual(shape(left), expectedOrder(c, true).slice(1), 'only the stand-in is left on the hook');
  t.is(left[0]?.id, standInId, 'same stand-in program');
  t.deepEqual((await s.node.hooks()).filter((h) => h.name === 'tc_pod_egress'), [], 'none of ours on any interface');
  if (c.mode === 'tc') {
    const { stdout } = await inNode(s.node, 'tc', ['qdisc', 'show', 'dev', dev]);
    t.regex(stdout, /clsact/, 'the clsact qdisc carrying the stand-in stays');
  }
  t.deepEqual(await effectsOfRound(s), alone, 'and the stand-in still behaves as it did alone');
}

/** One round with our agent first on the hook: the stand-in's effects are the baseline's, our counts are exact. */
async function checkRound(t: ExecutionContext, s: Scene, agent: AgentProcess, alone: Record<string, number>): Promise<void> {
  const before = await agent.traffic();
  const tx0 = await sent(s);
  t.deepEqual(await effectsOfRound(s), alone, 'with our agent on the hook the stand-in does exactly what it did alone');
  await agent.waitForCollections(2);
  const oracle = minusPairs(await sent(s), tx0);
  const counted = minusPairs(await agent.traffic(), before);
  // Ours sees every packet that left the pod, including those the stand-in then drops or redirects.
  t.deepEqual(diffPairs(counted, oracle), []);
  const udp6 = counted.get(pairKey(s.a.ipv6, s.c.ipv6, 'udp'));
  t.is(udp6?.packets, ROUND.plain6 + ROUND.drop6, 'A->C UDP/IPv6: the plain packets and the dropped ones');
  t.is(counted.get(pairKey(s.a.ipv4, s.b.ipv4, 'udp')), undefined, 'redirected packets count under the pair A sent them to');
}

async function attachOrderErrors(agent: AgentProcess): Promise<number> {
  return (await agent.samples()).find((x) => x.name === 'kubeadapt_collector_errors_total' && x.labels.type === 'attach_order')?.value ?? 0;
}

/** Until the hook shows `want` (the agent's once-a-second order check). */
async function waitForChain(s: Scene, dev: string, want: string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (JSON.stringify(shape(await ingressChain(s.node, dev))) !== JSON.stringify(want)) {
    if (Date.now() > until) throw new Error(`${dev}: order ${JSON.stringify(shape(await ingressChain(s.node, dev)))} never became ${JSON.stringify(want)}`);
    await sleep(100);
  }
}
