// A simulated Kubernetes node: a node network namespace with pod namespaces
// wired by the real CNI plugins (ptp and bridge, host-local IPAM, dual stack),
// and an independent oracle: nftables counters inside every pod.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { inNetns, inNetnsJson, parseJson, run } from './exec.js';
import { addCounts, ruleCounters, type Counts } from './nft.js';

const CNI_DIR = '/usr/lib/cni';
const HELPERS = dirname(fileURLToPath(import.meta.url));
export type CniType = 'ptp' | 'bridge';
export type Protocol = 'tcp' | 'udp';

export interface Pod {
  name: string;
  netns: string;
  cni: CniType;
  ipv4: string;
  ipv6: string;
  hostVeth: string;
}

export type { Counts } from './nft.js';

export const pairKey = (src: string, dst: string, protocol: string) => `${src}|${dst}|${protocol}`;

export class SimulatedNode {
  readonly id: string;
  readonly netns: string;
  readonly pods: Pod[] = [];
  private readonly dir: string;
  private podSeq = 0;
  /** Node index picks the pod CIDRs: 10.244.<index*2 + 0|1>.0/24. */
  constructor(readonly index = 0) {
    this.id = `ka${randomBytes(3).toString('hex')}`;
    this.netns = `${this.id}-node`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.id}-`));
  }

  async create(): Promise<this> {
    await run('ip', ['netns', 'add', this.netns]);
    await inNetns(this.netns, 'ip', ['link', 'set', 'lo', 'up']);
    return this;
  }

  private cniConfig(cni: CniType): string {
    const subnet = this.index * 2 + (cni === 'ptp' ? 1 : 2);
    const ipam = {
      type: 'host-local',
      dataDir: join(this.dir, 'ipam'),
      ranges: [[{ subnet: `10.244.${subnet}.0/24` }], [{ subnet: `fd00:10:244:${subnet.toString(16)}::/64` }]],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
    };
    const base = { cniVersion: '1.0.0', name: `${this.id}-${cni}`, ipMasq: false, mtu: 1500, ipam };
    const conf = cni === 'ptp' ? { ...base, type: 'ptp' } : { ...base, type: 'bridge', bridge: `${this.id}br`, isGateway: true, hairpinMode: false };
    return JSON.stringify(conf);
  }

  private cni(command: 'ADD' | 'DEL', cni: CniType, podNetns: string) {
    return inNetns(this.netns, 'env', [
      `CNI_COMMAND=${command}`, `CNI_CONTAINERID=${podNetns}`, `CNI_NETNS=/run/netns/${podNetns}`,
      'CNI_IFNAME=eth0', `CNI_PATH=${CNI_DIR}`, join(CNI_DIR, cni),
    ], { input: this.cniConfig(cni) });
  }

  /**
   * skipDad: no IPv6 duplicate address detection in the pod (CNI ADD returns
   * ~1.7 s sooner). beforeCni: runs once the pod's netns exists, before CNI ADD
   * (e.g. to start the pod's process, as a container runtime would after).
   */
  async addPod(cni: CniType, opts: { skipDad?: boolean; beforeCni?: (netns: string) => Promise<void> } = {}): Promise<Pod> {
    const name = `p${++this.podSeq}`;
    const netns = `${this.id}-${name}`;
    await run('ip', ['netns', 'add', netns]);
    await inNetns(netns, 'ip', ['link', 'set', 'lo', 'up']);
    if (opts.skipDad) await inNetns(netns, 'sysctl', ['-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    await opts.beforeCni?.(netns);
    const added = await this.cni('ADD', cni, netns);
    const result = parseJson(added.stdout, `CNI ${cni} ADD in ${netns}`) as {
      interfaces: { name: string; sandbox?: string }[];
      ips: { address: string }[];
    };
    const ipv4 = result.ips.find((i) => !i.address.includes(':'))!.address.split('/')[0]!;
    const ipv6 = result.ips.find((i) => i.address.includes(':'))!.address.split('/')[0]!;
    const hostVeth = result.interfaces.find((i) => !i.sandbox && i.name.startsWith('veth'))!.name;
    const pod = { name, netns, cni, ipv4, ipv6, hostVeth };
    this.pods.push(pod);
    return pod;
  }

  async deletePod(pod: Pod): Promise<void> {
    await this.cni('DEL', pod.cni, pod.netns).catch(() => undefined);
    await run('ip', ['netns', 'del', pod.netns], { allowFail: true });
    this.pods.splice(this.pods.indexOf(pod), 1);
  }

  /**
   * off: no TSO/GSO/GRO anywhere, every packet is a wire packet everywhere.
   * on: pods send GSO super-packets (the agent must count their segments);
   * the node side of each veth cannot take them, so the kernel segments them
   * before they reach the receiving pod, where the oracle counts wire packets.
   */
  async setOffloads(mode: 'on' | 'off'): Promise<void> {
    const flag = mode === 'on' ? 'on' : 'off';
    for (const pod of this.pods) {
      await inNetns(pod.netns, 'ethtool', ['-K', 'eth0', 'tso', flag, 'gso', flag, 'gro', 'off', 'tx-udp-segmentation', flag]);
      await inNetns(this.netns, 'ethtool', ['-K', pod.hostVeth, 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx-udp-segmentation', 'off']);
    }
  }

  /** bridged: pairs on one bridge (bridge family) or all other pairs (routed, inet family). */
  private pairRules(chain: string, table: string, bridged: boolean): string[] {
    const rules: string[] = [];
    for (const src of this.pods) {
      for (const dst of this.pods) {
        if (src === dst || (src.cni === 'bridge' && dst.cni === 'bridge') !== bridged) continue;
        for (const proto of ['tcp', 'udp'] as const) {
          rules.push(`add rule ${table} ${chain} ip saddr ${src.ipv4} ip daddr ${dst.ipv4} meta l4proto ${proto} counter comment "${pairKey(src.ipv4, dst.ipv4, proto)}"`);
          rules.push(`add rule ${table} ${chain} ip6 saddr ${src.ipv6} ip6 daddr ${dst.ipv6} meta l4proto ${proto} counter comment "${pairKey(src.ipv6, dst.ipv6, proto)}"`);
        }
      }
    }
    return rules;
  }

  /**
   * Counters for every (src, dst, protocol) of pod traffic at two independent
   * places: in the node (inet forward for routed pods, bridge forward for pods
   * on one bridge) and in every pod's prerouting hook (what it received).
   */
  async installOracle(): Promise<void> {
    await inNetns(this.netns, 'nft', ['-f', '-'], {
      input: [
        'add table inet ka_oracle',
        'add chain inet ka_oracle oracle_fwd { type filter hook forward priority -500; policy accept; }',
        'add table bridge ka_oracle',
        'add chain bridge ka_oracle oracle_fwd { type filter hook forward priority -500; policy accept; }',
        // With br_netfilter loaded the inet hook sees bridged packets too: each
        // pair is counted in exactly one of the two tables.
        ...this.pairRules('oracle_fwd', 'inet ka_oracle', false),
        ...this.pairRules('oracle_fwd', 'bridge ka_oracle', true),
      ].join('\n'),
    });
    for (const pod of this.pods) {
      const peers = this.pods.filter((p) => p !== pod);
      const rules = peers.flatMap((peer) => (['tcp', 'udp'] as const).flatMap((proto) => [
        `add rule inet ka_oracle oracle_rx ip saddr ${peer.ipv4} ip daddr ${pod.ipv4} meta l4proto ${proto} counter comment "${pairKey(peer.ipv4, pod.ipv4, proto)}"`,
        `add rule inet ka_oracle oracle_rx ip6 saddr ${peer.ipv6} ip6 daddr ${pod.ipv6} meta l4proto ${proto} counter comment "${pairKey(peer.ipv6, pod.ipv6, proto)}"`,
      ]));
      await inNetns(pod.netns, 'nft', ['-f', '-'], {
        input: ['add table inet ka_oracle', 'add chain inet ka_oracle oracle_rx { type filter hook prerouting priority -500; policy accept; }', ...rules].join('\n'),
      });
    }
  }

  private async readCounters(netns: string, family: string, chain: string, into: Map<string, Counts>): Promise<void> {
    addCounts(into, await ruleCounters(netns, family, 'ka_oracle', chain));
  }

  /** forwarded: what the node forwarded (routed + bridged); received: what the pods received. */
  async readOracle(side: 'forwarded' | 'received'): Promise<Map<string, Counts>> {
    const out = new Map<string, Counts>();
    if (side === 'forwarded') {
      await this.readCounters(this.netns, 'inet', 'oracle_fwd', out);
      await this.readCounters(this.netns, 'bridge', 'oracle_fwd', out);
    } else {
      for (const pod of this.pods) await this.readCounters(pod.netns, 'inet', 'oracle_rx', out);
    }
    return out;
  }

  /** Every TC filter and tcx program on the node's links, from the kernel. */
  async hooks(): Promise<{ link: string; direction: string; kind: 'tc' | 'tcx'; name: string | null; id?: number }[]> {
    return inNetnsJson(this.netns, process.execPath, [join(HELPERS, 'hooks.mjs')]);
  }

  async destroy(): Promise<void> {
    for (const pod of [...this.pods]) await this.deletePod(pod);
    await run('ip', ['netns', 'del', this.netns], { allowFail: true });
    rmSync(this.dir, { recursive: true, force: true });
    // The agents' default pin path on this node (AgentProcess): a stopped agent keeps its pins
    // for the next one, as on a rolling update; the node's end is theirs.
    rmSync(`/sys/fs/bpf/${this.id}`, { recursive: true, force: true });
  }
}
