// The workload family against a real kube-apiserver (Debian's etcd + the
// shared v1.34 build): Nodes with zone and region labels, Pods with owners and
// the addresses the real CNI plugins gave the simulated node's pods, all
// created through the API; the agent reads them with exactly the chart's
// ClusterRole. Traffic to local pods, to pods of other nodes and to external
// addresses of every destinations class (documentation addresses inside a
// namespace made here) must show up in kubeadapt_workload_traffic_* exactly as
// the kernel's nftables counters summed by workload and class. Mid-run, a pod
// is deleted and its address reused by a pod of another workload, and the API
// server is stopped and restarted: counting goes on, enrichment catches up,
// nothing is lost.
import test, { type ExecutionContext } from 'ava';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode, type Counts, type Pod } from '../helpers/topology.js';
import { AgentProcess, type Sample } from '../helpers/agent-process.js';
import { Sinks, send } from '../helpers/traffic.js';
import { inNetns, run, startProcess, stopProcess } from '../helpers/exec.js';
import { installRxOracle, readRxOracle, diffCounts, type Endpoint } from '../helpers/cluster.js';
import { ApiServer, findApiServer } from '../helpers/apiserver.js';
import { COST_RULES } from '../../../cdk8s/src/constructs/cluster-role.js';

const found = findApiServer();
const INDEX = 40;
const ZONE = 'topology.kubernetes.io/zone';
const REGION = 'topology.kubernetes.io/region';

/** One end as the workload family labels it. */
interface Who { ns: string; wl: string; kind: string }
const UNKNOWN: Who = { ns: '', wl: '', kind: 'Unknown' };
const EXTERNAL: Who = { ns: '', wl: '', kind: 'External' };

/** Addresses in the "world" namespace behind the node's uplink: remote pods, a node, external destinations. */
const WORLD = {
  cache: { ip: '10.250.1.10', who: { ns: 'shop', wl: 'cache', kind: 'StatefulSet' }, cls: 'same_zone' },
  metrics: { ip: '10.250.2.10', who: { ns: 'ops', wl: 'metrics', kind: 'Deployment' }, cls: 'cross_zone' },
  warehouse: { ip: '10.250.3.10', who: { ns: 'bi', wl: 'warehouse', kind: 'StatefulSet' }, cls: 'cross_region' },
  nodeB: { ip: '172.30.0.2', who: { ns: '', wl: 'node-b', kind: 'Node' }, cls: 'same_zone' },
  inZone: { ip: '198.51.100.10', ip6: '2001:db8:10::10', who: EXTERNAL, cls: 'same_zone' },
  inRegion: { ip: '198.51.100.70', ip6: '2001:db8:20::10', who: EXTERNAL, cls: 'cross_zone' },
  crossRegion: { ip: '198.51.100.140', ip6: '2001:db8:30::10', who: EXTERNAL, cls: 'cross_region' },
  internet: { ip: '203.0.113.10', ip6: '2001:db8:ff00::10', who: EXTERNAL, cls: 'internet' },
  objstore: { ip: '203.0.113.200', ip6: '2001:db8:40::10', who: { ns: '', wl: 'objstore', kind: 'CIDRGroup' }, cls: 'cross_zone' },
  privateUnlisted: { ip: '10.99.0.5', ip6: 'fd00:99::5', who: UNKNOWN, cls: 'unknown' },
} as const;

/** The IPv6 address of a WORLD entry: its own for the external ones, an unused one for the rest. */
const ip6Of = (w: (typeof WORLD)[keyof typeof WORLD], i: number): string => ('ip6' in w ? w.ip6 : `2001:db8:ff::${i + 1}`);

const DESTINATIONS = {
  destinations: {
    'in-zone': ['198.51.100.0/26', '2001:db8:10::/64'],
    'in-region': ['198.51.100.64/26', '2001:db8:20::/64'],
    'cross-region': ['198.51.100.128/26', '2001:db8:30::/64'],
    internet: [],
    groups: [{ name: 'objstore', class: 'in-region', cidrs: ['203.0.113.192/26', '2001:db8:40::/64'] }],
  },
};

function loud(reason: string): void {
  process.stderr.write(`\n*** SKIPPED cost e2e against a real kube-apiserver: ${reason} ***\n\n`);
}

/** The world namespace: an uplink (default route) from the node, every WORLD address local to it. */
async function buildWorld(t: ExecutionContext, node: SimulatedNode): Promise<string> {
  const world = `${node.id}-world`;
  await run('ip', ['netns', 'add', world]);
  t.teardown(() => run('ip', ['netns', 'del', world], { allowFail: true }).then(() => undefined));
  const tmp = `${node.id}w`;
  await inNetns(node.netns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', tmp, 'netns', world]);
  await inNetns(world, 'ip', ['link', 'set', tmp, 'name', 'eth0']);
  for (const [ns, me, peer, me6, peer6] of [[node.netns, '100.127.0.1', '100.127.0.2', 'fd00:127::1', 'fd00:127::2'], [world, '100.127.0.2', '100.127.0.1', 'fd00:127::2', 'fd00:127::1']] as const) {
    await inNetns(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.ipv6.conf.all.forwarding=1']);
    await inNetns(ns, 'ip', ['addr', 'add', `${me}/30`, 'dev', 'eth0']);
    await inNetns(ns, 'ip', ['-6', 'addr', 'add', `${me6}/64`, 'dev', 'eth0', 'nodad']);
    await inNetns(ns, 'ip', ['link', 'set', 'eth0', 'up']);
    await inNetns(ns, 'ip', ['link', 'set', 'lo', 'up']);
    if (ns === node.netns) {
      await inNetns(ns, 'ip', ['route', 'add', 'default', 'via', peer]);
      await inNetns(ns, 'ip', ['-6', 'route', 'add', 'default', 'via', peer6]);
    }
  }
  await inNetns(world, 'ip', ['route', 'add', '10.244.0.0/16', 'via', '100.127.0.1']);
  await inNetns(world, 'ip', ['-6', 'route', 'add', 'fd00:10:244::/48', 'via', 'fd00:127::1']);
  for (const [i, w] of Object.values(WORLD).entries()) {
    await inNetns(world, 'ip', ['addr', 'add', `${w.ip}/32`, 'dev', 'lo']);
    await inNetns(world, 'ip', ['-6', 'addr', 'add', `${ip6Of(w, i)}/128`, 'dev', 'lo', 'nodad']);
  }
  // No TSO/GSO on the path: the receivers' counters see the packets the pods sent.
  await inNetns(node.netns, 'ethtool', ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  await inNetns(world, 'ethtool', ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  return world;
}

const OWNER_KIND: Record<string, { apiVersion: string; kind: string }> = {
  ReplicaSet: { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  StatefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  DaemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  Job: { apiVersion: 'batch/v1', kind: 'Job' },
};

async function createPod(api: ApiServer, ns: string, name: string, nodeName: string, ips: string[], owner?: { kind: string; name: string }, labels: Record<string, string> = {}): Promise<void> {
  await api.call('POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: {
      name, labels,
      ownerReferences: owner ? [{ ...OWNER_KIND[owner.kind], name: owner.name, uid: `00000000-0000-0000-0000-${Buffer.from(owner.name).toString('hex').padEnd(12, '0').slice(0, 12)}`, controller: true }] : undefined,
    },
    spec: { nodeName, containers: [{ name: 'c', image: 'pause' }] },
  });
  await api.call('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, {
    status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
  }, 'application/merge-patch+json');
}

async function createNode(api: ApiServer, name: string, zone: string, region: string, ip: string, cidrs: string[]): Promise<void> {
  await api.call('POST', '/api/v1/nodes', { metadata: { name, labels: { [ZONE]: zone, [REGION]: region } }, spec: { podCIDR: cidrs[0], podCIDRs: cidrs } });
  await api.call('PATCH', `/api/v1/nodes/${name}/status`, { status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } }, 'application/merge-patch+json');
}

const rowKey = (src: Who, dst: Who, cls: string) => `${src.ns}/${src.wl}/${src.kind} > ${dst.ns}/${dst.wl}/${dst.kind} ${cls}`;

function workloadRows(samples: Sample[]): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const s of samples) {
    const field = s.name === 'kubeadapt_workload_traffic_bytes_total' ? 'bytes' : s.name === 'kubeadapt_workload_traffic_packets_total' ? 'packets' : undefined;
    if (!field) continue;
    const l = s.labels;
    const key = rowKey({ ns: l.src_namespace!, wl: l.src_workload!, kind: l.src_kind! }, { ns: l.dst_namespace!, wl: l.dst_workload!, kind: l.dst_kind! }, l.cost_class!);
    const v = out.get(key) ?? { bytes: 0, packets: 0 };
    v[field] = s.value;
    out.set(key, v);
  }
  return out;
}

function minus(a: Map<string, Counts>, b: Map<string, Counts>): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const [k, v] of a) {
    const p = b.get(k) ?? { bytes: 0, packets: 0 };
    if (v.bytes - p.bytes || v.packets - p.packets) out.set(k, { bytes: v.bytes - p.bytes, packets: v.packets - p.packets });
  }
  return out;
}

/** The oracle's pairs summed by the test's own mapping (address -> workload, pair -> class). */
function fold(into: Map<string, Counts>, pairs: Map<string, Counts>, map: (ip: string) => { who: Who; local: boolean; cls?: string }): void {
  for (const [key, c] of pairs) {
    const [src, dst] = key.split('|') as [string, string];
    const s = map(src);
    const d = map(dst);
    const cls = d.local ? 'same_node' : d.cls!;
    const k = rowKey(s.who, d.who, cls);
    const v = into.get(k) ?? { bytes: 0, packets: 0 };
    into.set(k, { bytes: v.bytes + c.bytes, packets: v.packets + c.packets });
  }
}

async function metric(agent: AgentProcess, name: string, labels: Record<string, string>): Promise<number | undefined> {
  return (await agent.samples()).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

if ('reason' in found) {
  loud(found.reason);
  test.skip(`workload family against a real kube-apiserver (SKIPPED: ${found.reason})`, () => undefined);
} else {
  test.serial('workload family equals the nftables oracle summed by workload and cost class, through pod churn and an API server restart', async (t) => {
    const node = await new SimulatedNode(INDEX).create();
    t.teardown(() => node.destroy());
    const [web, db, agentPod, loner] = [
      await node.addPod('ptp', { skipDad: true }), await node.addPod('ptp', { skipDad: true }),
      await node.addPod('bridge', { skipDad: true }), await node.addPod('ptp', { skipDad: true }),
    ] as [Pod, Pod, Pod, Pod];
    await node.setOffloads('off');
    const world = await buildWorld(t, node);

    const api = await new ApiServer(found.path, node.netns).start();
    t.teardown(() => api.stop());
    // The agent's identity gets exactly the chart's ClusterRole.
    await api.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { metadata: { name: 'ebpf-agent' }, rules: COST_RULES });
    await api.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'ebpf-agent' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ebpf-agent' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: api.agentUser }],
    });
    for (const ns of ['shop', 'ops', 'bi']) await api.call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    const [ptpCidr, bridgeCidr] = [`10.244.${INDEX * 2 + 1}.0/24`, `10.244.${INDEX * 2 + 2}.0/24`];
    await createNode(api, 'node-a', 'z1', 'r1', '100.127.0.1', [ptpCidr]);
    await api.call('PATCH', '/api/v1/nodes/node-a', { spec: { podCIDRs: [ptpCidr, bridgeCidr] } }, 'application/merge-patch+json').catch(() => undefined);
    await createNode(api, 'node-b', 'z1', 'r1', WORLD.nodeB.ip, ['10.250.1.0/24']);
    await createNode(api, 'node-c', 'z2', 'r1', '172.30.0.3', ['10.250.2.0/24']);
    await createNode(api, 'node-d', 'z3', 'r2', '172.30.0.4', ['10.250.3.0/24']);
    await createPod(api, 'shop', 'web-6b7c8d9f5-x2x4q', 'node-a', [web.ipv4, web.ipv6], { kind: 'ReplicaSet', name: 'web-6b7c8d9f5' }, { 'pod-template-hash': '6b7c8d9f5' });
    await createPod(api, 'shop', 'db-0', 'node-a', [db.ipv4, db.ipv6], { kind: 'StatefulSet', name: 'db' });
    await createPod(api, 'ops', 'agent-k8x2p', 'node-a', [agentPod.ipv4, agentPod.ipv6], { kind: 'DaemonSet', name: 'agent' });
    await createPod(api, 'shop', 'cache-0', 'node-b', [WORLD.cache.ip], { kind: 'StatefulSet', name: 'cache' });
    await createPod(api, 'ops', 'metrics-5f6d7c8b9-abcde', 'node-c', [WORLD.metrics.ip], { kind: 'ReplicaSet', name: 'metrics-5f6d7c8b9' }, { 'pod-template-hash': '5f6d7c8b9' });
    await createPod(api, 'bi', 'warehouse-0', 'node-d', [WORLD.warehouse.ip], { kind: 'StatefulSet', name: 'warehouse' });
    // A Service: its ClusterIP is known (kind Service); nothing sends to it here (no kube-proxy).
    await api.call('POST', '/api/v1/namespaces/shop/services', { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }], selector: { app: 'web' } } });

    const dir = mkdtempSync(join(tmpdir(), 'ka-cost-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'destinations.json'), JSON.stringify(DESTINATIONS));

    // Receivers: every local pod and every world address, counting what each sender (a local pod) sent them.
    const receivers: Endpoint[] = [
      ...node.pods.map((p) => ({ netns: p.netns, ipv4: p.ipv4, ipv6: p.ipv6, kind: 'pod' as const })),
      ...Object.values(WORLD).map((w, i) => ({ netns: world, ipv4: w.ip, ipv6: ip6Of(w, i), kind: 'node' as const })),
    ];
    await installRxOracle(receivers, node.pods);
    const sinks = new Sinks();
    t.teardown(() => sinks.stop());
    await sinks.start(node.pods);
    const worldSink = await startProcess('ip', ['netns', 'exec', world, process.execPath, join(import.meta.dirname, '..', 'helpers', 'traffic.mjs'), 'serve'], /ready/);
    t.teardown(() => stopProcess(worldSink.child, 2000).then(() => undefined));

    const agent = await AgentProcess.start(node, {
      EBPF_KUBERNETES: 'on', KUBECONFIG: api.writeKubeconfig(), EBPF_NODE_NAME: 'node-a',
      EBPF_DESTINATIONS_FILE: join(dir, 'destinations.json'), EBPF_COLLECTION_INTERVAL: '1s',
    });
    t.teardown(() => agent.stop().then(() => undefined));
    await agent.waitReady();
    const pods = () => metric(agent, 'kubeadapt_kubernetes_objects', { resource: 'pods' });
    await waitFor('the agent to list 6 pods', async () => (await pods()) === 6);
    t.is(await metric(agent, 'kubeadapt_kubernetes_objects', { resource: 'nodes' }), 4);

    // The test's own mapping, phase by phase.
    const local = new Map<string, Who>([
      [web.ipv4, { ns: 'shop', wl: 'web', kind: 'Deployment' }], [web.ipv6, { ns: 'shop', wl: 'web', kind: 'Deployment' }],
      [db.ipv4, { ns: 'shop', wl: 'db', kind: 'StatefulSet' }], [db.ipv6, { ns: 'shop', wl: 'db', kind: 'StatefulSet' }],
      [agentPod.ipv4, { ns: 'ops', wl: 'agent', kind: 'DaemonSet' }], [agentPod.ipv6, { ns: 'ops', wl: 'agent', kind: 'DaemonSet' }],
      [loner.ipv4, UNKNOWN], [loner.ipv6, UNKNOWN],
    ]);
    const byIp = new Map<string, { who: Who; cls: string }>(Object.values(WORLD).flatMap((w, i) => [[w.ip, { who: w.who, cls: w.cls }], [ip6Of(w, i), { who: w.who, cls: w.cls }]]));
    const mapping = () => {
      const snapshot = new Map(local);
      return (ip: string) => {
        const l = snapshot.get(ip);
        if (l) return { who: l, local: true };
        const w = byIp.get(ip);
        if (!w) throw new Error(`the oracle saw ${ip}, which the test did not plan`);
        return { who: w.who, local: false, cls: w.cls };
      };
    };
    const expected = new Map<string, Counts>();
    let before = new Map<string, Counts>();
    const endPhase = async () => {
      await agent.waitForCollections(2);
      const now = await readRxOracle(receivers);
      fold(expected, minus(now, before), mapping());
      before = now;
    };

    // Phase 1: every class, both protocols; the loner is not in the API (Unknown, placed by node-a's pod CIDR).
    for (const w of Object.values(WORLD)) await send(web, w.ip, { udpCount: 7, udpSize: 300 + w.ip.length, tcpBytes: 20_000 });
    // The external classes over IPv6 too, from the destinations file's IPv6 CIDRs (and a ULA none lists: unknown).
    for (const w of Object.values(WORLD)) if ('ip6' in w) await send(db, w.ip6, { udpCount: 4, udpSize: 400 + w.ip6.length, tcpBytes: 15_000 });
    await send(db, web.ipv4, { udpCount: 11, udpSize: 500, tcpBytes: 50_000 });
    await send(db, web.ipv6, { udpCount: 5, udpSize: 900, tcpBytes: 30_000 });
    await send(agentPod, WORLD.metrics.ip, { udpCount: 9, udpSize: 1200 });
    await send(agentPod, db.ipv4, { udpCount: 3, udpSize: 64, tcpBytes: 8_000 });
    await send(loner, web.ipv4, { udpCount: 4, udpSize: 200, tcpBytes: 10_000 });
    await send(loner, WORLD.internet.ip, { udpCount: 6, udpSize: 700 });
    await endPhase();

    // Phase 2: db-0 deleted; its address goes to a pod of another workload.
    await api.call('DELETE', '/api/v1/namespaces/shop/pods/db-0?gracePeriodSeconds=0');
    await waitFor('the agent to see db-0 go', async () => (await pods()) === 5);
    await createPod(api, 'shop', 'ledger-7c9d8e6f5-q9w8e', 'node-a', [db.ipv4, db.ipv6], { kind: 'ReplicaSet', name: 'ledger-7c9d8e6f5' }, { 'pod-template-hash': '7c9d8e6f5' });
    local.set(db.ipv4, { ns: 'shop', wl: 'ledger', kind: 'Deployment' });
    local.set(db.ipv6, { ns: 'shop', wl: 'ledger', kind: 'Deployment' });
    await waitFor('the agent to see the new owner', async () => (await pods()) === 6);
    await send(db, web.ipv4, { udpCount: 13, udpSize: 450, tcpBytes: 40_000 });
    await send(db, WORLD.inRegion.ip, { udpCount: 2, udpSize: 1000 });
    await endPhase();

    // Phase 3: the API server goes away; counting and attribution go on from what the agent knows.
    const errorsBefore = (await metric(agent, 'kubeadapt_kubernetes_watch_errors_total', { resource: 'pods' })) ?? 0;
    await api.stopApi();
    await send(web, WORLD.crossRegion.ip, { udpCount: 8, udpSize: 800, tcpBytes: 25_000 });
    await send(agentPod, web.ipv6, { udpCount: 10, udpSize: 333 });
    await endPhase();
    await waitFor('the agent to notice the API server is gone', async () => ((await metric(agent, 'kubeadapt_kubernetes_watch_errors_total', { resource: 'pods' })) ?? 0) > errorsBefore);

    // Phase 4: back; the loner is registered (a CronJob's pod) and the agent catches up.
    await api.startApi();
    await createPod(api, 'bi', 'report-29412345-h7k2m', 'node-a', [loner.ipv4, loner.ipv6], { kind: 'Job', name: 'report-29412345' });
    local.set(loner.ipv4, { ns: 'bi', wl: 'report', kind: 'CronJob' });
    local.set(loner.ipv6, { ns: 'bi', wl: 'report', kind: 'CronJob' });
    await waitFor('the agent to catch up after the restart', async () => (await pods()) === 7, 60_000);
    await send(loner, web.ipv4, { udpCount: 4, udpSize: 222, tcpBytes: 12_000 });
    await send(loner, WORLD.objstore.ip, { udpCount: 5, udpSize: 640 });
    await endPhase();

    const samples = await agent.samples();
    const got = workloadRows(samples);
    t.deepEqual(diffCounts(got, expected), [], 'every workload row equals the oracle summed by the same mapping');
    // Every planned class and kind appears.
    const classes = new Set([...got.keys()].map((k) => k.split(' ').pop()));
    t.deepEqual([...classes].sort(), ['cross_region', 'cross_zone', 'internet', 'same_node', 'same_zone', 'unknown']);
    t.true(got.has(rowKey({ ns: 'shop', wl: 'db', kind: 'StatefulSet' }, { ns: 'shop', wl: 'web', kind: 'Deployment' }, 'same_node')));
    t.true(got.has(rowKey({ ns: 'shop', wl: 'ledger', kind: 'Deployment' }, { ns: 'shop', wl: 'web', kind: 'Deployment' }, 'same_node')));
    t.true(got.has(rowKey(UNKNOWN, EXTERNAL, 'internet')), 'the loner before it was known: Unknown, counted');
    t.true(got.has(rowKey({ ns: 'bi', wl: 'report', kind: 'CronJob' }, WORLD.objstore.who, 'cross_zone')));

    // Nothing lost: the raw family equals the oracle, and both families hold the same total.
    const raw = await agent.traffic();
    const oracle = await readRxOracle(receivers);
    t.deepEqual(diffCounts(raw, oracle), [], 'raw pairs equal the oracle');
    const total = (m: Map<string, Counts>) => [...m.values()].reduce((s, v) => ({ bytes: s.bytes + v.bytes, packets: s.packets + v.packets }), { bytes: 0, packets: 0 });
    t.deepEqual(total(got), total(raw));
    t.log(`workload rows: ${got.size}, raw pairs: ${raw.size}, total ${JSON.stringify(total(got))}`);
  });
}
