// Several simulated nodes joined by a link (each end called eth0, a default
// route and routes to the other node's pod CIDRs through it, as kindnet sets
// up, or only static routes to those CIDRs), and an oracle that counts what every receiver (pod or node) got from
// every sender: the kernel's own nftables counters, before anything else.
import { inNetns } from './exec.js';
import { addCounts, ruleCounters } from './nft.js';
import { pairKey, type Counts, type Pod, type SimulatedNode } from './topology.js';

export interface Endpoint {
  /** Network namespace of the receiver. */
  netns: string;
  /** Its addresses (counters are kept for packets to these). */
  ipv4: string;
  ipv6: string;
  /** A node receives in its input hook, a pod in prerouting (before any routing). */
  kind: 'pod' | 'node';
}

export const nodeAddress = (index: number) => ({ ipv4: `10.244.250.${index + 1}`, ipv6: `fd00:10:244:fa::${index + 1}` });

/** The pod CIDRs SimulatedNode(index) hands out (ptp, bridge). */
export function podCidrs(index: number): { v4: string[]; v6: string[] } {
  const subnets = [index * 2 + 1, index * 2 + 2];
  return { v4: subnets.map((s) => `10.244.${s}.0/24`), v6: subnets.map((s) => `fd00:10:244:${s.toString(16)}::/64`) };
}

export function nodeEndpoint(node: SimulatedNode): Endpoint {
  return { netns: node.netns, ...nodeAddress(node.index), kind: 'node' };
}

export function podEndpoint(pod: Pod): Endpoint {
  return { netns: pod.netns, ipv4: pod.ipv4, ipv6: pod.ipv6, kind: 'pod' };
}

/**
 * How a node reaches the other node's pods over eth0. default: a default route
 * and routes to the other node's pod CIDRs via its address (kindnet). gateway:
 * no default route, only those routes via its address. device: no default
 * route and no gateway, the pod CIDRs straight onto eth0 (the other node
 * answers ARP/NDP for its pods: proxy ARP, proxy NDP entries).
 */
export type NodeRouting = 'default' | 'gateway' | 'device';

/**
 * Joins two nodes with a veth pair named eth0 at both ends and routes each to
 * the other's pods (routing: a's, then b's). Call it after the pods are added:
 * device routing proxies the pods' addresses that exist then.
 */
export async function linkNodes(a: SimulatedNode, b: SimulatedNode, routing: readonly [NodeRouting, NodeRouting] = ['default', 'default']): Promise<void> {
  const tmp = `${b.id}up`;
  await inNetns(a.netns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', tmp, 'netns', b.netns]);
  await inNetns(b.netns, 'ip', ['link', 'set', tmp, 'name', 'eth0']);
  for (const [self, peer, mode, peerMode] of [[a, b, routing[0], routing[1]], [b, a, routing[1], routing[0]]] as const) {
    const me = nodeAddress(self.index);
    const other = nodeAddress(peer.index);
    const cmds: string[][] = [
      ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'],
      ['sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=0'],
      ['ip', 'addr', 'add', `${me.ipv4}/24`, 'dev', 'eth0'],
      ['ip', '-6', 'addr', 'add', `${me.ipv6}/64`, 'dev', 'eth0', 'nodad'],
      ['ip', 'link', 'set', 'eth0', 'up'],
    ];
    if (mode === 'default') {
      cmds.push(['ip', 'route', 'add', 'default', 'via', other.ipv4], ['ip', '-6', 'route', 'add', 'default', 'via', other.ipv6]);
    }
    const cidrs = podCidrs(peer.index);
    const via = (ip: string) => (mode === 'device' ? ['dev', 'eth0'] : ['via', ip]);
    for (const c of cidrs.v4) cmds.push(['ip', 'route', 'add', c, ...via(other.ipv4)]);
    for (const c of cidrs.v6) cmds.push(['ip', '-6', 'route', 'add', c, ...via(other.ipv6)]);
    if (peerMode === 'device') {
      // The peer looks our pods up on the link itself: answer for them.
      cmds.push(['sysctl', '-qw', 'net.ipv4.conf.eth0.proxy_arp=1', 'net.ipv6.conf.eth0.proxy_ndp=1']);
      for (const pod of self.pods) cmds.push(['ip', '-6', 'neigh', 'add', 'proxy', pod.ipv6, 'dev', 'eth0']);
    }
    for (const c of cmds) await inNetns(self.netns, c[0]!, c.slice(1));
  }
}

/**
 * Counters in every receiver for every (sender address, receiver address,
 * protocol). Offloads must leave wire packets at the receiver: the SimulatedNode
 * setOffloads() of every node does that for pods; nodes receive on eth0 (no GRO
 * on veth).
 */
export async function installRxOracle(receivers: readonly Endpoint[], senders: readonly { ipv4: string; ipv6: string }[]): Promise<void> {
  for (const r of receivers) {
    const hook = r.kind === 'pod' ? 'prerouting' : 'input';
    const rules: string[] = [];
    for (const s of senders) {
      if (s.ipv4 === r.ipv4) continue;
      for (const proto of ['tcp', 'udp']) {
        rules.push(`add rule inet ka_rx c ip saddr ${s.ipv4} ip daddr ${r.ipv4} meta l4proto ${proto} counter comment "${pairKey(s.ipv4, r.ipv4, proto)}"`);
        rules.push(`add rule inet ka_rx c ip6 saddr ${s.ipv6} ip6 daddr ${r.ipv6} meta l4proto ${proto} counter comment "${pairKey(s.ipv6, r.ipv6, proto)}"`);
      }
    }
    await inNetns(r.netns, 'nft', ['-f', '-'], {
      input: ['add table inet ka_rx', `add chain inet ka_rx c { type filter hook ${hook} priority -500; policy accept; }`, ...rules].join('\n'),
    });
  }
}

/** Sum over receivers of what installRxOracle counted (pairs with traffic only). */
export async function readRxOracle(receivers: readonly Endpoint[]): Promise<Map<string, Counts>> {
  const out = new Map<string, Counts>();
  // One chain per namespace, however many of its addresses are receivers.
  for (const netns of new Set(receivers.map((r) => r.netns))) addCounts(out, await ruleCounters(netns, 'inet', 'ka_rx', 'c'));
  return out;
}

/** Adds per-pair counters of several agents. */
export function sumCounts(...maps: Map<string, Counts>[]): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const m of maps) {
    for (const [k, v] of m) {
      const prev = out.get(k) ?? { bytes: 0, packets: 0 };
      out.set(k, { bytes: prev.bytes + v.bytes, packets: prev.packets + v.packets });
    }
  }
  return out;
}

export function diffCounts(got: Map<string, Counts>, want: Map<string, Counts>, keys?: Iterable<string>): string[] {
  const out: string[] = [];
  for (const key of keys ?? new Set([...got.keys(), ...want.keys()])) {
    const a = got.get(key);
    const o = want.get(key);
    if (a?.bytes !== o?.bytes || a?.packets !== o?.packets) out.push(`${key}: agent ${JSON.stringify(a)} oracle ${JSON.stringify(o)}`);
  }
  return out.sort();
}
