// A silent "pod" for exact internal-metric tests: a veth whose far end sits in
// its own namespace with no addresses, no ARP and IPv6 disabled on both ends,
// so the only packets crossing it are the hand-built frames a test injects.
// The agent sees an ordinary pod veth (peer in another netns) and attaches.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inNetns, inNetnsJson, run } from '../helpers/exec.js';
import type { SimulatedNode } from '../helpers/topology.js';

/** Locally administered, owned by no interface here. */
const OTHER_HOST_MAC = '02:6b:61:00:00:01';
const INJECT = join(dirname(fileURLToPath(import.meta.url)), 'inject.py');

export type InjectKind = 'udp' | 'tcp' | 'non_ip' | 'other_l4' | 'truncated' | 'ext_limit';

export interface InjectStep {
  kind: InjectKind;
  count: number;
  src?: string;
  dst?: string;
  /** Payload bytes after the L4 header. @default 0 */
  size?: number;
  sport?: number;
  dport?: number;
}

/** IP header + L4 header + payload: what the agent counts as bytes for one packet. */
export function l3Bytes(step: InjectStep): number {
  const ip = step.src?.includes(':') ? 40 : 20;
  const l4 = step.kind === 'tcp' ? 20 : 8;
  return ip + l4 + (step.size ?? 0);
}

export class RawLink {
  private constructor(readonly node: SimulatedNode, readonly hostName: string, readonly netns: string) {}

  static async create(node: SimulatedNode, suffix: string): Promise<RawLink> {
    const netns = `${node.id}-raw${suffix}`;
    const hostName = `${node.id}r${suffix}`.slice(0, 15);
    await run('ip', ['netns', 'add', netns]);
    try {
      await inNetns(netns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      await inNetns(node.netns, 'ip', ['link', 'add', hostName, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      await inNetns(node.netns, 'sysctl', ['-qw', `net.ipv6.conf.${hostName}.disable_ipv6=1`]);
      await inNetns(node.netns, 'ip', ['link', 'set', hostName, 'arp', 'off', 'up']);
      await inNetns(netns, 'ip', ['link', 'set', 'eth0', 'arp', 'off', 'up']);
    } catch (err) {
      await run('ip', ['netns', 'del', netns], { allowFail: true });
      throw err;
    }
    return new RawLink(node, hostName, netns);
  }

  /**
   * Sends the frames from the far end; they arrive on TC ingress of hostName.
   * They are addressed to another host's MAC: the hook sees them all, and the
   * node's IP stack drops them at once (PACKET_OTHERHOST) without answering.
   */
  async inject(steps: readonly InjectStep[]): Promise<number> {
    return (await inNetnsJson<{ sent: number }>(this.netns, 'python3', [INJECT, 'eth0', OTHER_HOST_MAC], { input: JSON.stringify(steps) })).sent;
  }

  /**
   * What the node's end received, from the kernel: the oracle. Every frame
   * it counts went through TC ingress there (untagged Ethernet: L3 bytes are
   * the frame bytes less 14 per packet).
   */
  async received(): Promise<{ packets: number; l3Bytes: number }> {
    const { stdout } = await inNetns(this.node.netns, 'cat', [
      `/sys/class/net/${this.hostName}/statistics/rx_packets`, `/sys/class/net/${this.hostName}/statistics/rx_bytes`,
    ]);
    const [packets = NaN, bytes = NaN] = stdout.trim().split('\n').map(Number);
    return { packets, l3Bytes: bytes - 14 * packets };
  }

  async destroy(): Promise<void> {
    await inNetns(this.node.netns, 'ip', ['link', 'del', this.hostName], { allowFail: true });
    await run('ip', ['netns', 'del', this.netns], { allowFail: true });
  }
}

