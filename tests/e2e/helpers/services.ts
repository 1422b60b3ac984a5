// Kubernetes Services on the simulated nodes, translated the way kube-proxy
// does it (nftables mode: numgen round robin; iptables mode: iptables-nft DNAT
// with -m statistic), and the oracle for them: what the node's forward hook saw
// after DNAT, per (sender, real receiver, protocol), from conntrack's own
// tuples. A request counts under (original source, reply source = backend), a
// reply under (reply source, reply destination): the addresses the sender
// used and the pod that really received it, whatever NAT did in between.
import { inNetns, run } from './exec.js';
import { pairKey, type Counts, type Pod } from './topology.js';

/** The port the sinks (traffic.mjs serve) listen on. */
export const TARGET_PORT = 5201;

export interface Service {
  /** ClusterIPs (service CIDRs 10.96.0.0/16, fd00:10:96::/112) or a node address (NodePort). */
  ipv4: string;
  ipv6: string;
  port: number;
  backends: readonly Pod[];
}

export type Translator = 'nftables' | 'iptables';

function nftRules(services: readonly Service[]): string {
  const lines = ['table inet ka_svc {', '  chain pre { type nat hook prerouting priority dstnat; policy accept;'];
  for (const s of services) {
    const n = s.backends.length;
    const m4 = s.backends.map((b, i) => `${i} : ${b.ipv4} . ${TARGET_PORT}`).join(', ');
    const m6 = s.backends.map((b, i) => `${i} : ${b.ipv6} . ${TARGET_PORT}`).join(', ');
    lines.push(`    ip daddr ${s.ipv4} meta l4proto { tcp, udp } th dport ${s.port} dnat ip to numgen inc mod ${n} map { ${m4} }`);
    lines.push(`    ip6 daddr ${s.ipv6} meta l4proto { tcp, udp } th dport ${s.port} dnat ip6 to numgen inc mod ${n} map { ${m6} }`);
  }
  lines.push('  }', '  chain post { type nat hook postrouting priority srcnat; policy accept;');
  // Hairpin: a pod that reaches itself through a Service is masqueraded, as
  // kube-proxy does, or it would drop its own address as a martian source.
  for (const b of new Set(services.flatMap((s) => s.backends))) {
    lines.push(`    ct status dnat ip saddr ${b.ipv4} ip daddr ${b.ipv4} masquerade`);
    lines.push(`    ct status dnat ip6 saddr ${b.ipv6} ip6 daddr ${b.ipv6} masquerade`);
  }
  lines.push('  }', '}');
  return lines.join('\n');
}

async function iptables(netns: string, services: readonly Service[]): Promise<void> {
  for (const [cmd, fam] of [['iptables-nft', 'ipv4'], ['ip6tables-nft', 'ipv6']] as const) {
    const ipt = (...args: string[]) => inNetns(netns, cmd, ['-w', '-t', 'nat', ...args]);
    await ipt('-N', 'KA-SVC').catch(() => ipt('-F', 'KA-SVC'));
    await ipt('-N', 'KA-POST').catch(() => ipt('-F', 'KA-POST'));
    await ipt('-C', 'PREROUTING', '-j', 'KA-SVC').catch(() => ipt('-A', 'PREROUTING', '-j', 'KA-SVC'));
    await ipt('-C', 'POSTROUTING', '-j', 'KA-POST').catch(() => ipt('-A', 'POSTROUTING', '-j', 'KA-POST'));
    for (const s of services) {
      const n = s.backends.length;
      for (const proto of ['tcp', 'udp']) {
        // kube-proxy's chain: backend i with probability 1/(n-i), the last always.
        const rules = s.backends.map((b, i) => {
          const addr = fam === 'ipv4' ? `${b.ipv4}:${TARGET_PORT}` : `[${b.ipv6}]:${TARGET_PORT}`;
          const stat = i < n - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', (1 / (n - i)).toFixed(5)] : [];
          return ['-A', 'KA-SVC', '-d', fam === 'ipv4' ? s.ipv4 : s.ipv6, '-p', proto, '--dport', String(s.port), ...stat, '-j', 'DNAT', '--to-destination', addr];
        });
        for (const r of rules) await ipt(...r);
      }
    }
    for (const b of new Set(services.flatMap((s) => s.backends))) {
      const a = fam === 'ipv4' ? b.ipv4 : b.ipv6;
      await ipt('-A', 'KA-POST', '-s', a, '-d', a, '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'MASQUERADE');
    }
  }
}

/** Installs (or replaces, atomically for nftables) the node's Service translation. */
export async function setServices(netns: string, translator: Translator, services: readonly Service[]): Promise<void> {
  if (translator === 'iptables') return iptables(netns, services);
  // `table ...` then `delete table ...` in one transaction: replaces whatever was there.
  await inNetns(netns, 'nft', ['-f', '-'], { input: `table inet ka_svc {}\ndelete table inet ka_svc\n${nftRules([...services])}` });
}

/** The forward-hook oracle; packets arriving by `uplink` were counted by the node they came from. */
export async function installServiceOracle(netns: string, uplink = 'eth0'): Promise<void> {
  await inNetns(netns, 'nft', ['-f', '-'], {
    input: `table inet ka_svc_oracle {
  set f4 { type ipv4_addr . ipv4_addr . inet_proto; flags dynamic; size 65535; }
  set f6 { type ipv6_addr . ipv6_addr . inet_proto; flags dynamic; size 65535; }
  chain c { type filter hook forward priority 100; policy accept;
    iifname "${uplink}" return
    ct direction original meta nfproto ipv4 update @f4 { ct original ip saddr . ct reply ip saddr . meta l4proto counter }
    ct direction reply meta nfproto ipv4 update @f4 { ct reply ip saddr . ct reply ip daddr . meta l4proto counter }
    ct direction original meta nfproto ipv6 update @f6 { ct original ip6 saddr . ct reply ip6 saddr . meta l4proto counter }
    ct direction reply meta nfproto ipv6 update @f6 { ct reply ip6 saddr . ct reply ip6 daddr . meta l4proto counter }
  }
}`,
  });
}

type Elem = { elem?: { val: { concat: [string, string, string | number] }; counter: Counts } };

export async function readServiceOracle(netns: string): Promise<Map<string, Counts>> {
  const out = new Map<string, Counts>();
  for (const set of ['f4', 'f6']) {
    const { stdout } = await inNetns(netns, 'nft', ['-j', 'list', 'set', 'inet', 'ka_svc_oracle', set]);
    const items = JSON.parse(stdout) as { nftables: { set?: { elem?: Elem[] } }[] };
    for (const s of items.nftables) {
      for (const e of s.set?.elem ?? []) {
        if (!e.elem) continue;
        const [src, dst, proto] = e.elem.val.concat;
        const protocol = proto === 6 || proto === 'tcp' ? 'tcp' : proto === 17 || proto === 'udp' ? 'udp' : String(proto);
        if (protocol !== 'tcp' && protocol !== 'udp') continue;
        const key = pairKey(src, dst, protocol);
        const prev = out.get(key) ?? { bytes: 0, packets: 0 };
        out.set(key, { bytes: prev.bytes + e.elem.counter.bytes, packets: prev.packets + e.elem.counter.packets });
      }
    }
  }
  return out;
}

/** Deletes the node's conntrack entries to `dst` (their DESTROY events go out at once). */
export async function deleteConntrack(netns: string, dst: string): Promise<void> {
  await run('ip', ['netns', 'exec', netns, 'conntrack', '-D', '-f', dst.includes(':') ? 'ipv6' : 'ipv4', '--orig-dst', dst], { allowFail: true });
}

/** The node's conntrack statistics summed over CPUs, the non-zero ones (e.g. clash_resolve=2 insert_failed=1). */
export async function conntrackStats(netns: string): Promise<string> {
  const { stdout } = await inNetns(netns, 'conntrack', ['-S']);
  const sums = new Map<string, number>();
  for (const [, name, value] of stdout.matchAll(/(\w+)=(\d+)/g)) if (name !== 'cpu') sums.set(name!, (sums.get(name!) ?? 0) + Number(value));
  return [...sums].filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(' ');
}
