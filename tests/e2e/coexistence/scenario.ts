// One coexistence scenario: pod A sends through the stand-in CNI program on
// its veth; B is where the stand-in redirects to, C the normal receiver.
// Two independent kinds of kernel counters:
// - what the stand-in did, seen by the receivers (nftables in B, C and the
//   node): the stand-in's behaviour, to compare with and without our agent;
// - what left every pod (UDP at the pod's own postrouting hook, so before the
//   stand-in; TCP, which the stand-in passes, where it arrives): our oracle.
import type { ExecutionContext } from 'ava';
import { inNetns, startProcess, stopProcess } from '../helpers/exec.js';
import { ruleCounters } from '../helpers/nft.js';
import { SimulatedNode, pairKey, type Counts, type Pod } from '../helpers/topology.js';
import { AgentProcess, AGENT_MAIN } from '../helpers/agent-process.js';
import { PORT, StandInCni, inNode } from './stand-in.js';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const TRAFFIC = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'traffic.mjs');
const SINK_PORT = 5201;

/** Packets per round of each kind; distinct so a mix-up cannot cancel out. */
export const ROUND = { plain4: 40, plain6: 30, drop4: 23, drop6: 17, redirect4: 19, rewrite4: 13, tcpBytes: 150_000 } as const;

export interface Scene {
  node: SimulatedNode;
  a: Pod;
  b: Pod;
  c: Pod;
  standIn: StandInCni;
}

export async function buildScene(t: ExecutionContext, index: number): Promise<Scene> {
  const node = await new SimulatedNode(index).create();
  t.teardown(() => node.destroy());
  const [a, b, c] = [await node.addPod('ptp'), await node.addPod('ptp'), await node.addPod('ptp')] as [Pod, Pod, Pod];
  // Every packet a wire packet, so pod-side and node-side counters compare.
  await node.setOffloads('off');
  await installTxOracle(node);
  await installObservers(node, a, b, c);
  const sink = await startProcess('ip', ['netns', 'exec', c.netns, process.execPath, TRAFFIC, 'serve', `--port=${SINK_PORT}`], /ready/);
  t.teardown(() => stopProcess(sink.child, 2000));
  const standIn = new StandInCni(node);
  t.teardown(() => standIn.destroy());
  await standIn.load();
  await standIn.redirectTo(b);
  const scene = { node, a, b, c, standIn };
  await warmUp(scene);
  return scene;
}

/**
 * Until A reaches C on both families: right after the CNI ADD the node end's
 * IPv6 link-local address may still be tentative, and packets wait for
 * neighbour discovery (or are lost) instead of arriving within the round.
 */
async function warmUp(s: Scene): Promise<void> {
  for (const [to, observer] of [[s.c.ipv4, 'c_plain4'], [s.c.ipv6, 'c_plain6']] as const) {
    const until = Date.now() + 10_000;
    const before = (await observe(s))[observer] ?? 0;
    while (((await observe(s))[observer] ?? 0) === before) {
      if (Date.now() > until) throw new Error(`pod ${s.a.name} cannot reach ${to} after 10 s`);
      await inNetns(s.a.netns, process.execPath, [TRAFFIC, 'send', `--to=${to}`, `--port=${SINK_PORT}`, '--udp-count=1']);
      await sleep(100);
    }
  }
}

/**
 * Per pair, what left the sending pod: UDP as the sender's postrouting hook saw
 * it (before its veth, so before the stand-in). TCP always leaves the stack as
 * GSO super-packets and is segmented only on the wire, so its wire packets are
 * counted where they arrive (the stand-in lets every TCP packet through).
 */
async function installTxOracle(node: SimulatedNode): Promise<void> {
  for (const pod of node.pods) {
    const peers = node.pods.filter((p) => p !== pod);
    const rule = (chain: string, src: Pod, dst: Pod, proto: string) => [
      `add rule inet ka_coex ${chain} ip saddr ${src.ipv4} ip daddr ${dst.ipv4} meta l4proto ${proto} counter comment "${pairKey(src.ipv4, dst.ipv4, proto)}"`,
      `add rule inet ka_coex ${chain} ip6 saddr ${src.ipv6} ip6 daddr ${dst.ipv6} meta l4proto ${proto} counter comment "${pairKey(src.ipv6, dst.ipv6, proto)}"`,
    ];
    await inNetns(pod.netns, 'nft', ['-f', '-'], {
      input: ['add table inet ka_coex',
        'add chain inet ka_coex tx { type filter hook postrouting priority 500; policy accept; }',
        'add chain inet ka_coex rx { type filter hook prerouting priority -500; policy accept; }',
        ...peers.flatMap((peer) => [...rule('tx', pod, peer, 'udp'), ...rule('rx', peer, pod, 'tcp')])].join('\n'),
    });
  }
}

/** Where the stand-in's verdicts show: a named counter per effect, at the receivers and in the node. */
const OBSERVERS = (a: Pod, b: Pod, c: Pod): Record<string, Record<string, string>> => ({
  [c.netns]: {
    c_plain4: `ip saddr ${a.ipv4} ip daddr ${c.ipv4} udp dport ${SINK_PORT}`,
    c_plain6: `ip6 saddr ${a.ipv6} ip6 daddr ${c.ipv6} udp dport ${SINK_PORT}`,
    c_tcp4: `ip saddr ${a.ipv4} ip daddr ${c.ipv4} tcp dport ${SINK_PORT}`,
    c_drop4: `ip saddr ${a.ipv4} udp dport ${PORT.drop}`,
    c_drop6: `ip6 saddr ${a.ipv6} udp dport ${PORT.drop}`,
    c_redirect4: `ip saddr ${a.ipv4} udp dport ${PORT.redirect}`,
    c_rewrite4: `ip saddr ${a.ipv4} udp dport ${PORT.rewrite}`,
    c_rewrite4_ef: `ip saddr ${a.ipv4} udp dport ${PORT.rewrite} ip dscp ef`,
  },
  [b.netns]: {
    b_redirect4: `ip saddr ${a.ipv4} ip daddr ${b.ipv4} udp dport ${PORT.redirect}`,
  },
});

async function installObservers(node: SimulatedNode, a: Pod, b: Pod, c: Pod): Promise<void> {
  const add = (netns: string, hook: string, rules: Record<string, string>) => inNetns(netns, 'nft', ['-f', '-'], {
    input: ['add table inet ka_obs', `add chain inet ka_obs obs { type filter hook ${hook} priority -400; policy accept; }`,
      ...Object.entries(rules).map(([name, match]) => `add rule inet ka_obs obs ${match} counter comment "${name}"`)].join('\n'),
  });
  for (const [netns, rules] of Object.entries(OBSERVERS(a, b, c))) await add(netns, 'prerouting', rules);
  // Redirected packets skip the node's IP stack; everything else of A's passes its forward hook.
  await add(node.netns, 'forward', { node_redirect4: `ip saddr ${a.ipv4} udp dport ${PORT.redirect}` });
}

/** Packets per observer name. */
export async function observe(s: Scene): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [netns, table, chain] of [[s.c.netns, 'ka_obs', 'obs'], [s.b.netns, 'ka_obs', 'obs'], [s.node.netns, 'ka_obs', 'obs']] as const) {
    for (const [name, c] of await ruleCounters(netns, 'inet', table, chain)) out[name] = c.packets;
  }
  return out;
}

/** What left every pod, per pair (zero pairs left out). */
export async function sent(s: Scene): Promise<Map<string, Counts>> {
  const out = new Map<string, Counts>();
  for (const pod of s.node.pods) {
    for (const chain of ['tx', 'rx']) {
      for (const [key, c] of await ruleCounters(pod.netns, 'inet', 'ka_coex', chain)) if (c.packets > 0) out.set(key, c);
    }
  }
  return out;
}

export function minus<T extends Record<string, number>>(after: T, before: T): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

export function minusPairs(after: Map<string, Counts>, before: Map<string, Counts>): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const [k, v] of after) {
    const b = before.get(k) ?? { bytes: 0, packets: 0 };
    if (v.packets !== b.packets) out.set(k, { bytes: v.bytes - b.bytes, packets: v.packets - b.packets });
  }
  return out;
}

/** The stand-in's behaviour on one round, as the receivers must see it. */
export const EXPECTED_EFFECTS = {
  c_plain4: ROUND.plain4, c_plain6: ROUND.plain6, c_drop4: 0, c_drop6: 0, c_redirect4: 0,
  c_rewrite4: ROUND.rewrite4, c_rewrite4_ef: ROUND.rewrite4, b_redirect4: ROUND.redirect4, node_redirect4: 0,
};

/** One round of A's traffic to C: plain UDP and TCP, and UDP the stand-in drops, redirects and rewrites. */
export async function round(s: Scene): Promise<void> {
  const send = (to: string, port: number, count: number, size: number, tcpBytes = 0) => inNetns(s.a.netns, process.execPath, [
    TRAFFIC, 'send', `--to=${to}`, `--port=${port}`, `--udp-count=${count}`, `--udp-size=${size}`, `--tcp-bytes=${tcpBytes}`,
  ]);
  await send(s.c.ipv4, SINK_PORT, ROUND.plain4, 120, ROUND.tcpBytes);
  await send(s.c.ipv6, SINK_PORT, ROUND.plain6, 333);
  await send(s.c.ipv4, PORT.drop, ROUND.drop4, 77);
  await send(s.c.ipv6, PORT.drop, ROUND.drop6, 555);
  await send(s.c.ipv4, PORT.redirect, ROUND.redirect4, 99);
  await send(s.c.ipv4, PORT.rewrite, ROUND.rewrite4, 211);
}

/** Runs a round and returns what the receivers saw of it. */
export async function effectsOfRound(s: Scene): Promise<Record<string, number>> {
  const before = await observe(s);
  await round(s);
  const d = minus(await observe(s), before);
  delete d.c_tcp4; // segment counts of a TCP stream vary run to run; its bytes are checked by the agent oracle
  return d;
}

/** `node main.js cleanup`, as the chart's uninstall hook runs it. */
export async function cleanupAgent(agent: AgentProcess): Promise<void> {
  await inNode(agent.node, process.execPath, [AGENT_MAIN, 'cleanup'], { env: { ...process.env, EBPF_BPF_PIN_PATH: agent.pinPath } });
}

export function diffPairs(agent: Map<string, Counts>, oracle: Map<string, Counts>): string[] {
  const out: string[] = [];
  for (const key of new Set([...agent.keys(), ...oracle.keys()])) {
    const x = agent.get(key);
    const o = oracle.get(key);
    if (x?.bytes !== o?.bytes || x?.packets !== o?.packets) out.push(`${key}: agent ${JSON.stringify(x)} oracle ${JSON.stringify(o)}`);
  }
  return out;
}
