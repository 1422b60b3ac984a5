// The cluster as the cost attribution needs it: which workload has an
// address (pods, Services), which node an address or pod CIDR belongs to, and
// where each node is (zone, region). Fed by the informers (informers.ts) with
// projections of the API objects, read by the attribution for every pair.
import { CidrTable, addressBytes, canonicalIP, parseCidr } from '../cost/cidr.js';
import { IpHistory } from './ip-history.js';
import { workloadOf, type OwnerReference } from './owners.js';

/** One end of a pair as the workload family labels it. */
export interface Endpoint {
  readonly namespace: string;
  readonly workload: string;
  /** Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet, Pod (bare), Service, Node, CIDRGroup, External, Unknown, or a custom controller's kind. */
  readonly kind: string;
  /** The node it runs on, when the cluster says. */
  readonly node?: string;
  /** A pod's uid (tells two pods of one workload apart in the IP history). */
  readonly uid?: string;
}

export interface PodInfo {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly hostNetwork: boolean;
  /** Addresses the pod holds now: none once it has finished (Succeeded, Failed). */
  readonly ips: readonly string[];
  readonly workload: { readonly kind: string; readonly name: string };
}

export interface NodeInfo {
  readonly name: string;
  readonly zone: string;
  readonly region: string;
  readonly internalIPs: readonly string[];
  readonly podCIDRs: readonly string[];
}

export interface ServiceInfo {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly clusterIPs: readonly string[];
}

const sameEndpoint = (a: Endpoint, b: Endpoint) => a.uid === b.uid && a.kind === b.kind;

export const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];
export const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];

/* eslint-disable @typescript-eslint/no-explicit-any -- API objects are JSON from the watch */
export function projectPod(o: any): PodInfo | undefined {
  const m = o?.metadata;
  if (!m?.uid || !m.name || !m.namespace) return undefined;
  const phase = o.status?.phase;
  const finished = phase === 'Succeeded' || phase === 'Failed';
  const raw: string[] = (o.status?.podIPs ?? []).map((p: { ip?: string }) => p.ip).filter(Boolean);
  if (!raw.length && o.status?.podIP) raw.push(o.status.podIP);
  const ips = finished ? [] : raw.map((ip) => canonicalIP(ip)).filter((ip): ip is string => ip !== undefined);
  return {
    uid: m.uid, namespace: m.namespace, name: m.name, node: o.spec?.nodeName ?? '',
    hostNetwork: Boolean(o.spec?.hostNetwork), ips,
    workload: workloadOf({ name: m.name, labels: m.labels, ownerReferences: m.ownerReferences as OwnerReference[] | undefined }),
  };
}

export function projectNode(o: any): NodeInfo | undefined {
  const m = o?.metadata;
  if (!m?.name) return undefined;
  const labels: Record<string, string> = m.labels ?? {};
  const first = (keys: string[]) => keys.map((k) => labels[k]).find((v) => v) ?? '';
  const internalIPs = (o.status?.addresses ?? [])
    .filter((a: { type?: string }) => a.type === 'InternalIP')
    .map((a: { address?: string }) => canonicalIP(a.address ?? ''))
    .filter((ip: string | undefined): ip is string => ip !== undefined);
  const podCIDRs: string[] = o.spec?.podCIDRs ?? (o.spec?.podCIDR ? [o.spec.podCIDR] : []);
  return { name: m.name, zone: first(ZONE_LABELS), region: first(REGION_LABELS), internalIPs, podCIDRs };
}

export function projectService(o: any): ServiceInfo | undefined {
  const m = o?.metadata;
  if (!m?.uid || !m.name || !m.namespace) return undefined;
  const raw: string[] = o.spec?.clusterIPs ?? (o.spec?.clusterIP ? [o.spec.clusterIP] : []);
  const clusterIPs = raw.filter((ip) => ip && ip !== 'None').map((ip) => canonicalIP(ip)).filter((ip): ip is string => ip !== undefined);
  return { uid: m.uid, namespace: m.namespace, name: m.name, clusterIPs };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export class ClusterIndex {
  /** Pod and Service addresses over time. */
  readonly history: IpHistory<Endpoint>;
  private readonly pods = new Map<string, PodInfo>();
  private readonly services = new Map<string, ServiceInfo>();
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly nodeIPs = new Map<string, string>();
  private podCIDRs = new CidrTable<string>();
  /** Node changes mark the address index stale; it is rebuilt at the next lookup (a 1000-node list is one rebuild, not 1000). */
  private nodesDirty = false;

  constructor(
    retentionMs: number,
    private readonly now: () => number = Date.now,
    /** Called when an address stops being a pod's: a drain now keeps its packets with it. */
    private readonly onRelease: (ip: string) => void = () => undefined,
  ) {
    this.history = new IpHistory(retentionMs);
  }

  get counts(): { pods: number; nodes: number; services: number } {
    return { pods: this.pods.size, nodes: this.nodes.size, services: this.services.size };
  }

  node(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  private podEndpoint(p: PodInfo): Endpoint {
    return { namespace: p.namespace, workload: p.workload.name, kind: p.workload.kind, node: p.node, uid: p.uid };
  }

  upsertPod(key: string, p: PodInfo): void {
    const before = this.pods.get(key);
    this.pods.set(key, p);
    // hostNetwork pods share the node's address: they are resolved through the node.
    const ips = p.hostNetwork ? [] : p.ips;
    const at = this.now();
    const ep = this.podEndpoint(p);
    for (const ip of ips) this.history.claim(ip, ep, at, sameEndpoint);
    if (before && !before.hostNetwork) {
      for (const ip of before.ips) if (!ips.includes(ip)) this.releasePodIP(ip, this.podEndpoint(before), at);
    }
  }

  removePod(key: string): void {
    const p = this.pods.get(key);
    if (!p) return;
    this.pods.delete(key);
    if (p.hostNetwork) return;
    const at = this.now();
    for (const ip of p.ips) this.releasePodIP(ip, this.podEndpoint(p), at);
  }

  private releasePodIP(ip: string, ep: Endpoint, at: number): void {
    const held = this.history.current(ip);
    this.history.release(ip, ep, at, sameEndpoint);
    if (held && sameEndpoint(held, ep)) this.onRelease(ip);
  }

  upsertService(key: string, s: ServiceInfo): void {
    const before = this.services.get(key);
    this.services.set(key, s);
    const ep: Endpoint = { namespace: s.namespace, workload: s.name, kind: 'Service', uid: s.uid };
    const at = this.now();
    for (const ip of s.clusterIPs) this.history.claim(ip, ep, at, sameEndpoint);
    for (const ip of before?.clusterIPs ?? []) if (!s.clusterIPs.includes(ip)) this.history.release(ip, ep, at, sameEndpoint);
  }

  removeService(key: string): void {
    const s = this.services.get(key);
    if (!s) return;
    this.services.delete(key);
    const ep: Endpoint = { namespace: s.namespace, workload: s.name, kind: 'Service', uid: s.uid };
    for (const ip of s.clusterIPs) this.history.release(ip, ep, this.now(), sameEndpoint);
  }

  upsertNode(n: NodeInfo): void {
    this.nodes.set(n.name, n);
    this.nodesDirty = true;
  }

  removeNode(name: string): void {
    if (this.nodes.delete(name)) this.nodesDirty = true;
  }

  /** Node updates are rare (labels, addresses): rebuilt whole. */
  private rebuildNodeIndex(): void {
    this.nodesDirty = false;
    this.nodeIPs.clear();
    const cidrs = new CidrTable<string>();
    for (const n of this.nodes.values()) {
      for (const ip of n.internalIPs) this.nodeIPs.set(ip, n.name);
      for (const c of n.podCIDRs) {
        try {
          cidrs.add(parseCidr(c), n.name);
        } catch {
          // A malformed podCIDR places nothing; the pods' own records still do.
        }
      }
    }
    this.podCIDRs = cidrs;
  }

  /**
   * Who had `ip` (canonical text) while packets were counted between `fromMs`
   * and `toMs`: a pod or Service, a node (its InternalIP, hostNetwork pods
   * too), an address in a node's pod CIDR that no known pod had (Unknown,
   * placed on that node), or undefined: not the cluster's.
   */
  resolve(ip: string, fromMs: number, toMs: number): Endpoint | undefined {
    const owner = this.history.lookup(ip, fromMs, toMs);
    if (owner) return owner;
    if (this.nodesDirty) this.rebuildNodeIndex();
    const node = this.nodeIPs.get(ip);
    if (node) return { namespace: '', workload: node, kind: 'Node', node };
    if (this.podCIDRs.size) {
      const bytes = addressBytes(ip);
      const onNode = bytes && this.podCIDRs.lookup(bytes);
      if (onNode) return { namespace: '', workload: '', kind: 'Unknown', node: onNode };
    }
    return undefined;
  }

  prune(): void {
    this.history.prune(this.now());
  }
}
