// The independent count: nftables counters in each traffic pod's own network
// namespace (the netns containerd made for the pod sandbox) on the prerouting
// hook, i.e. what the pod received. TCP hands the stack GSO super-packets
// whatever the device says, so a sender-side hook would see one packet per
// 64 KiB; with TSO/GSO off the sending veth segments them and, with GRO off, the
// receiver sees wire packets, as the agent counts them.
import { readdirSync } from 'node:fs';
import { run } from '../kind/command.js';
import { addCounts, ruleCounters, type Counts } from '../helpers/nft.js';

export type { Counts };
export { pairKey } from '../helpers/topology.js';

/** Packets the pod receives matching `match` (an nft expression) count as the agent's series `key` (pairKey). */
export interface OracleRule { readonly match: string; readonly key: string }

const inPod = (netns: string, cmd: string, args: string[], input?: string) =>
  run('nsenter', [`--net=/run/netns/${netns}`, cmd, ...args], { input });

/** The CNI network namespace that holds this pod IP. */
export async function podNetns(ip: string): Promise<string> {
  for (const ns of readdirSync('/run/netns').filter((n) => n.startsWith('cni-'))) {
    const { stdout } = await inPod(ns, 'ip', ['-4', '-o', 'addr', 'show']).catch(() => ({ stdout: '' }));
    if (stdout.includes(` ${ip}/`)) return ns;
  }
  throw new Error(`no /run/netns/cni-* holds ${ip}`);
}

export class PodOracle {
  private constructor(readonly ip: string, readonly netns: string) {}

  static async install(ip: string, rules: readonly OracleRule[]): Promise<PodOracle> {
    const netns = await podNetns(ip);
    await inPod(netns, 'ethtool', ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx-udp-segmentation', 'off']);
    await inPod(netns, 'nft', ['-f', '-'], [
      'add table inet ka_oracle',
      'add chain inet ka_oracle rx { type filter hook prerouting priority -500; policy accept; }',
      ...rules.map((r) => `add rule inet ka_oracle rx ${r.match} counter comment "${r.key}"`),
    ].join('\n'));
    return new PodOracle(ip, netns);
  }

  /** Non-zero counters by key, rules of one key summed. */
  async read(): Promise<Map<string, Counts>> {
    return addCounts(new Map(), await ruleCounters(this.netns, 'inet', 'ka_oracle', 'rx'));
  }
}
