// Which job each interface of the node has in the counting rule
// (docs/architecture.md), and why: the one place the pod-veth / uplink
// heuristic lives. Discovery attaches from these decisions; `check` and the
// start-up log print them, so an operator sees a wrong guess and can override
// it (EBPF_UPLINK_INTERFACES).
import type { Direction, LinkInfo, RouteInfo } from '../native.js';

export interface HookPlan {
  direction: Direction;
  program: 'tc_pod_egress' | 'tc_host_egress';
}

/**
 * pod veth: the host end of a pod's veth, counted on ingress (the pod's
 * egress). uplink: traffic through it is not a pod's own (a node link, a
 * tunnel). host device: any other device that is not a veth (bridge, VLAN).
 * ignored: no hook (loopback, a port whose master has the hook).
 */
export type InterfaceRole = 'pod veth' | 'uplink' | 'host device' | 'ignored';

export interface RoleDecision {
  ifindex: number;
  name: string;
  role: InterfaceRole;
  /** Why, in words an operator can check against `ip link` / `ip route`. */
  why: string;
  hooks: HookPlan[];
}

/** EBPF_UPLINK_INTERFACES: auto, or the names (a trailing * matches a prefix). */
export type UplinkSetting = 'auto' | readonly string[];

const RTN_UNICAST = 1;
const RTPROT_KERNEL = 2;
const RT_TABLE_LOCAL = 255;

const hostLen = (r: RouteInfo) => (r.family === 4 ? 32 : 128);
const cidr = (r: RouteInfo) => (r.dstLen === 0 ? 'default' : `${r.dst}/${r.dstLen}`);

/** fe80::/10 and 169.254.0.0/16. */
const isLinkLocal = (addr: string) => /^fe[89ab]/i.test(addr) || addr.startsWith('169.254.');

/** Every veth has a link-local route, a pod's too. */
const linkLocal = (r: RouteInfo) => isLinkLocal(r.dst);

/**
 * The evidence that a link is an uplink, per ifindex: a route through it with
 * a gateway, or to a network (more than one address: the default route,
 * another node's pod CIDR). A pod's veth carries routes to the pod's own
 * addresses only (/32, /128, no gateway, or at most the pod's link-local
 * address as next hop). Connected routes the kernel makes
 * from an address (proto kernel) and link-local routes say nothing; local,
 * broadcast and blackhole routes neither. Every table but local counts: a node
 * that routes to other nodes through a policy routing table is still routing.
 */
export function uplinkEvidence(routes: readonly RouteInfo[]): Map<number, string> {
  const best = new Map<number, { rank: number; why: string }>();
  for (const r of routes) {
    if (r.type !== RTN_UNICAST || r.table === RT_TABLE_LOCAL || r.ifindex === 0) continue;
    const via = r.gateway ? ` via ${r.gateway}` : '';
    const table = r.table === 254 ? '' : ` (table ${r.table})`;
    let rank: number;
    let why: string;
    if (r.dstLen === 0) {
      rank = 0;
      why = `carries a default route${via}${table}`;
    } else if (r.gateway && !(r.dstLen === hostLen(r) && isLinkLocal(r.gateway))) {
      // A route to one address through a link-local next hop is how a CNI may
      // reach a pod by the pod's own link-local address: that says nothing.
      rank = 1;
      why = `carries a route with a gateway: ${cidr(r)}${via}${table}`;
    } else if (r.dstLen < hostLen(r) && r.protocol !== RTPROT_KERNEL && !linkLocal(r)) {
      rank = 2;
      why = `carries a route to a network: ${cidr(r)}${table}`;
    } else {
      continue;
    }
    const prev = best.get(r.ifindex);
    if (!prev || rank < prev.rank) best.set(r.ifindex, { rank, why });
  }
  return new Map([...best].map(([ifindex, { why }]) => [ifindex, why]));
}

/** Whether `name` is named by the list (exactly, or by a prefix ending in *). */
export function namedBy(list: readonly string[], name: string): string | undefined {
  return list.find((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/**
 * The role of every link. A veth whose peer is in another network namespace
 * is a pod's unless it is an uplink: by EBPF_UPLINK_INTERFACES when set
 * (exactly the veths it names), else by its routes (uplinkEvidence). The hooks
 * follow the counting rule: a pod's packet where it enters the node (ingress
 * of its veth), a locally originated packet on egress of the first device it
 * leaves by; enslaved devices (bridge ports, bond slaves) get no egress hook,
 * their master sees the packet.
 */
export function decideRoles(links: readonly LinkInfo[], routes: readonly RouteInfo[], uplinks: UplinkSetting = 'auto'): RoleDecision[] {
  const evidence = uplinkEvidence(routes);
  const names = new Map(links.map((l) => [l.ifindex, l.name]));
  return links.map((link) => {
    const d = { ifindex: link.ifindex, name: link.name };
    const enslaved = link.master !== 0;
    const master = `a port of ${names.get(link.master) ?? `ifindex ${link.master}`}, whose own hook sees its packets`;
    if (link.name === 'lo') return { ...d, role: 'ignored', why: 'loopback: nothing leaves the node through it', hooks: [] };
    const egress: HookPlan[] = enslaved ? [] : [{ direction: 'egress', program: 'tc_host_egress' }];
    const slave = enslaved ? `; no egress hook: ${master}` : '';
    const isVeth = link.kind === 'veth' && link.peerNetnsId >= 0;
    let uplinkWhy: string | undefined;
    if (uplinks !== 'auto') {
      const p = namedBy(uplinks, link.name);
      if (p) uplinkWhy = `EBPF_UPLINK_INTERFACES names it (${p})`;
    } else {
      uplinkWhy = evidence.get(link.ifindex);
    }
    if (isVeth && !uplinkWhy) {
      const why = uplinks === 'auto'
        ? `a veth whose peer is in another network namespace (netns id ${link.peerNetnsId}) and no route through it leads past that peer`
        : `a veth whose peer is in another network namespace (netns id ${link.peerNetnsId}); EBPF_UPLINK_INTERFACES does not name it`;
      return { ...d, role: 'pod veth', why: why + slave, hooks: [{ direction: 'ingress', program: 'tc_pod_egress' }, ...egress] };
    }
    const kind = isVeth ? 'a veth whose peer is in another network namespace'
      : link.kind === 'veth' ? 'a veth whose peer is in this network namespace'
        : link.kind ? `${/^[aeiou]/.test(link.kind) ? 'an' : 'a'} ${link.kind} device` : 'a device without a link kind (physical)';
    if (uplinkWhy) return { ...d, role: 'uplink', why: `${kind}; ${uplinkWhy}${slave}`, hooks: egress };
    if (enslaved) return { ...d, role: 'ignored', why: `${kind}, ${master}`, hooks: [] };
    return { ...d, role: 'host device', why: kind, hooks: egress };
  });
}

/** One line per interface for `check` and the log: name, role, hooks, why. */
export function describeRole(d: RoleDecision): string {
  const hooks = d.hooks.length ? d.hooks.map((h) => `${h.direction} ${h.program}`).join(', ') : 'no hook';
  return `${d.name} (ifindex ${d.ifindex}): ${d.role} [${hooks}]: ${d.why}`;
}
