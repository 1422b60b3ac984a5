// The cost attribution's pure parts: CIDR lookups, the destinations file,
// cost classes, owners, the per-IP history, the cluster index and the
// attribution of ledger transactions into the workload family (with fake
// records in readPairs' layout; the e2e suite proves it against the kernel
// and a real API server).
import test from 'ava';
import { CidrTable, canonicalIP, contains, isPrivate, parseCidr, addressBytes } from '../../agent/src/cost/cidr.js';
import { classifyPlaced } from '../../agent/src/cost/classes.js';
import { Destinations } from '../../agent/src/cost/destinations.js';
import { workloadOf } from '../../agent/src/kubernetes/owners.js';
import { IpHistory } from '../../agent/src/kubernetes/ip-history.js';
import { ClusterIndex, projectNode, projectPod, projectService } from '../../agent/src/kubernetes/cluster.js';
import { Attribution } from '../../agent/src/cost/attribution.js';
import { sideLabelText, WorkloadTable, workloadLabelText } from '../../agent/src/cost/workload-table.js';
import { encodePairKey, PAIR_RECORD_SIZE, RECORD_BYTES, RECORD_PACKETS } from '../../agent/src/collector/ledger.js';
import { createMetrics } from '../../agent/src/metrics/registry.js';
import { PairTable } from '../../agent/src/collector/pair-table.js';
import { parseExposition } from '../helpers/exposition-format.js';
import { renderMetrics } from '../../agent/src/metrics/exposition.js';

const b = (ip: string) => addressBytes(ip)!;

test('CIDR blocks: host bits cleared, longest prefix wins, both families, clear errors', (t) => {
  t.deepEqual(parseCidr('10.1.2.3/8').bytes, [10, 0, 0, 0]);
  t.true(contains(parseCidr('fd00:10:244:1::/64'), b('fd00:10:244:1::9')));
  t.false(contains(parseCidr('fd00:10:244:1::/64'), b('fd00:10:244:2::9')));
  t.false(contains(parseCidr('10.0.0.0/8'), b('fd00::1')), 'families never match');
  const table = new CidrTable<string>();
  table.add(parseCidr('10.0.0.0/8'), 'wide');
  table.add(parseCidr('10.2.0.0/16'), 'narrow');
  table.add(parseCidr('0.0.0.0/0'), 'all');
  t.is(table.lookup(b('10.2.3.4')), 'narrow');
  t.is(table.lookup(b('10.3.3.4')), 'wide');
  t.is(table.lookup(b('8.8.8.8')), 'all');
  t.is(canonicalIP('FD00:0:0::01'), 'fd00::1');
  t.is(canonicalIP('10.0.0.256'), undefined);
  t.throws(() => parseCidr('10.0.0.0/33'), { message: '"10.0.0.0/33": prefix length must be 0 to 32' });
  t.throws(() => parseCidr('ten/8'), { message: /is not a CIDR block such as 10.0.0.0\/8/ });
  t.true(isPrivate(b('172.20.1.1')));
  t.true(isPrivate(b('fd12::1')));
  t.false(isPrivate(b('198.51.100.7')));
});

test('cost classes from placements: a missing label is unknown, never the same zone', (t) => {
  const a = { node: 'n1', zone: 'z1', region: 'r1' };
  t.is(classifyPlaced(a, a), 'same_node');
  t.is(classifyPlaced(a, { node: 'n2', zone: 'z1', region: 'r1' }), 'same_zone');
  t.is(classifyPlaced(a, { node: 'n2', zone: 'z2', region: 'r1' }), 'cross_zone');
  t.is(classifyPlaced(a, { node: 'n2', zone: 'z9', region: 'r2' }), 'cross_region');
  t.is(classifyPlaced(a, { node: 'n2', zone: '', region: 'r1' }), 'unknown');
  t.is(classifyPlaced(a, undefined), 'unknown');
  t.is(classifyPlaced({ node: 'n1', zone: '', region: '' }, { node: 'n1', zone: '', region: '' }), 'same_node');
});

test('the destinations file: Kubecost lists, named groups first, unlisted public is internet, unlisted private unknown', (t) => {
  const d = Destinations.parse(JSON.stringify({
    destinations: {
      'in-zone': ['192.168.10.0/24'],
      'in-region': ['198.51.100.0/25'],
      'cross-region': ['198.51.100.128/25'],
      internet: [],
      groups: [{ name: 's3-eu', class: 'in-region', cidrs: ['198.51.100.64/26', '2001:db8:5::/48'] }],
    },
  }), 'test');
  t.deepEqual(d.classify(b('192.168.10.5')), { class: 'same_zone' });
  t.deepEqual(d.classify(b('198.51.100.5')), { class: 'cross_zone' });
  t.deepEqual(d.classify(b('198.51.100.70')), { class: 'cross_zone', group: 's3-eu' });
  t.deepEqual(d.classify(b('2001:db8:5::1')), { class: 'cross_zone', group: 's3-eu' });
  t.deepEqual(d.classify(b('198.51.100.200')), { class: 'cross_region' });
  t.deepEqual(d.classify(b('203.0.113.9')), { class: 'internet' });
  t.deepEqual(d.classify(b('10.9.9.9')), { class: 'unknown' });
  t.deepEqual(d.groups, ['s3-eu']);
  t.throws(() => Destinations.parse('{"destinations":{"in_zone":[]}}', 'EBPF_DESTINATIONS_FILE=/x'), {
    message: 'EBPF_DESTINATIONS_FILE=/x: unknown key destinations.in_zone: expected in-zone, in-region, cross-region, internet, groups',
  });
  t.throws(() => Destinations.parse('{"destinations":{"internet":["1.2.3.0/40"]}}', 'f'), { message: 'f: destinations.internet: "1.2.3.0/40": prefix length must be 0 to 32' });
  t.throws(() => Destinations.parse('{"destinations":{"groups":[{"name":"x","class":"cheap","cidrs":["1.0.0.0/8"]}]}}', 'f'), {
    message: 'f: destinations.groups[0].class "cheap": expected one of in-zone, in-region, cross-region, internet',
  });
  t.throws(() => Destinations.parse('destinations: {}', 'f'), { message: /^f: not JSON/ });
});

test('owners: Deployment through the ReplicaSet name and hash, CronJob through the Job name, the rest as they are', (t) => {
  const rs = { kind: 'ReplicaSet', name: 'web-7d9f8b6c5', controller: true };
  t.deepEqual(workloadOf({ name: 'web-7d9f8b6c5-x2x4q', labels: { 'pod-template-hash': '7d9f8b6c5' }, ownerReferences: [rs] }), { kind: 'Deployment', name: 'web' });
  t.deepEqual(workloadOf({ name: 'p', ownerReferences: [rs] }), { kind: 'ReplicaSet', name: 'web-7d9f8b6c5' }, 'a bare ReplicaSet');
  t.deepEqual(workloadOf({ name: 'db-0', ownerReferences: [{ kind: 'StatefulSet', name: 'db', controller: true }] }), { kind: 'StatefulSet', name: 'db' });
  t.deepEqual(workloadOf({ name: 'x', ownerReferences: [{ kind: 'DaemonSet', name: 'fluent', controller: true }] }), { kind: 'DaemonSet', name: 'fluent' });
  t.deepEqual(workloadOf({ name: 'x', ownerReferences: [{ kind: 'Job', name: 'backup-29123456', controller: true }] }), { kind: 'CronJob', name: 'backup' });
  t.deepEqual(workloadOf({ name: 'x', ownerReferences: [{ kind: 'Job', name: 'migrate', controller: true }] }), { kind: 'Job', name: 'migrate' });
  t.deepEqual(workloadOf({ name: 'lonely' }), { kind: 'Pod', name: 'lonely' });
});

test('IP history: packets go to the owner of the address while they were counted', (t) => {
  const h = new IpHistory<string>(10_000);
  h.claim('10.0.0.5', 'A', 1000);
  h.release('10.0.0.5', 'A', 5000);
  h.claim('10.0.0.5', 'B', 5200);
  t.is(h.lookup('10.0.0.5', 0, 4000), 'A');
  t.is(h.lookup('10.0.0.5', 4000, 6000), 'A', 'an interval spanning both: the one that had it first');
  t.is(h.lookup('10.0.0.5', 5100, 9000), 'B');
  t.is(h.lookup('10.0.0.5', 0, 900), undefined, 'before anyone had it');
  t.is(h.current('10.0.0.5'), 'B');
  h.claim('10.0.0.6', 'C', 100);
  h.release('10.0.0.6', 'C', 200);
  h.prune(20_000);
  t.is(h.lookup('10.0.0.6', 0, 300), undefined, 'ended long ago: forgotten');
  t.is(h.lookup('10.0.0.5', 19_000, 20_000), 'B', 'the current owner stays');
});

const node = (name: string, zone: string, region: string, ip: string, cidr: string) =>
  projectNode({ metadata: { name, labels: { 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': region } }, spec: { podCIDRs: [cidr] }, status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } })!;
const pod = (uid: string, ns: string, name: string, nodeName: string, ips: string[], owner?: { kind: string; name: string }, extra: Record<string, unknown> = {}) =>
  projectPod({
    metadata: { uid, namespace: ns, name, ownerReferences: owner ? [{ ...owner, controller: true }] : undefined, labels: owner?.kind === 'ReplicaSet' ? { 'pod-template-hash': owner.name.split('-').pop() } : {} },
    spec: { nodeName, ...extra }, status: { podIPs: ips.map((ip) => ({ ip })), phase: 'Running' },
  })!;

function fixture(now: { t: number }) {
  const released: string[] = [];
  const c = new ClusterIndex(60_000, () => now.t, (ip) => released.push(ip));
  c.upsertNode(node('n1', 'z1', 'r1', '172.18.0.1', '10.244.1.0/24'));
  c.upsertNode(node('n2', 'z1', 'r1', '172.18.0.2', '10.244.2.0/24'));
  c.upsertNode(node('n3', 'z2', 'r1', '172.18.0.3', '10.244.3.0/24'));
  c.upsertNode(node('n4', 'z9', 'r2', '172.18.0.4', '10.244.4.0/24'));
  c.upsertPod('shop/web-1', pod('u1', 'shop', 'web-1', 'n1', ['10.244.1.10', 'fd00::1:10'], { kind: 'ReplicaSet', name: 'web-5c6d7' }));
  c.upsertPod('shop/db-0', pod('u2', 'shop', 'db-0', 'n1', ['10.244.1.11'], { kind: 'StatefulSet', name: 'db' }));
  c.upsertPod('shop/cache-0', pod('u3', 'shop', 'cache-0', 'n2', ['10.244.2.10'], { kind: 'StatefulSet', name: 'cache' }));
  c.upsertPod('ops/agent-x', pod('u4', 'ops', 'agent-x', 'n3', ['10.244.3.10'], { kind: 'DaemonSet', name: 'agent' }));
  c.upsertPod('bi/report', pod('u5', 'bi', 'report', 'n4', ['10.244.4.10']));
  c.upsertPod('kube-system/proxy', pod('u6', 'kube-system', 'proxy', 'n2', ['172.18.0.2'], { kind: 'DaemonSet', name: 'kube-proxy' }, { hostNetwork: true }));
  c.upsertService('shop/api', projectService({ metadata: { uid: 's1', namespace: 'shop', name: 'api' }, spec: { clusterIPs: ['10.96.0.20'] } })!);
  return { c, released };
}

/** Fake readPairs records: one per pair, bytes and packets. */
function records(pairs: [string, string, number, number][]): { records: Buffer; rows: Int32Array } {
  const buf = Buffer.alloc(pairs.length * PAIR_RECORD_SIZE);
  pairs.forEach(([src, dst, bytes, packets], i) => {
    encodePairKey(src, dst, 'tcp').copy(buf, i * PAIR_RECORD_SIZE);
    buf.writeBigUInt64LE(BigInt(bytes), i * PAIR_RECORD_SIZE + RECORD_BYTES);
    buf.writeBigUInt64LE(BigInt(packets), i * PAIR_RECORD_SIZE + RECORD_PACKETS);
  });
  return { records: buf, rows: Int32Array.from(pairs.map((_, i) => i)) };
}

test('attribution: every class, hostNetwork through the node, Services, groups, unknowns counted, exact sums', (t) => {
  const now = { t: 10_000 };
  const { c } = fixture(now);
  const d = new Destinations({ destinations: { 'in-region': ['192.0.2.0/24'], groups: [{ name: 'objstore', class: 'cross-region', cidrs: ['203.0.113.0/24'] }] } });
  const table = new WorkloadTable();
  const a = new Attribution(c, d, table, { localNode: 'n1', ttlMs: 300_000 }, () => now.t);
  now.t = 11_000;
  const r = records([
    ['10.244.1.10', '10.244.1.11', 100, 1], // web -> db, same node
    ['10.244.1.10', '10.244.2.10', 200, 2], // web -> cache, same zone
    ['fd00::1:10', 'fd00::1:10', 1, 1], // web -> itself over IPv6
    ['10.244.1.11', '10.244.3.10', 300, 3], // db -> agent, cross zone
    ['10.244.1.11', '10.244.4.10', 400, 4], // db -> report, cross region
    ['10.244.1.10', '172.18.0.2', 500, 5], // web -> node n2 (kube-proxy, hostNetwork): same zone
    ['10.244.1.10', '10.96.0.20', 600, 6], // web -> Service: unknown until resolved to a backend
    ['10.244.1.10', '8.8.8.8', 700, 7], // internet
    ['10.244.1.10', '192.0.2.9', 800, 8], // listed in-region: cross_zone
    ['10.244.1.10', '203.0.113.5', 900, 9], // group
    ['10.244.1.10', '10.77.0.1', 1000, 10], // private, unknown
    ['10.244.1.99', '10.244.3.10', 1100, 11], // unknown source in n1's pod CIDR, to z2: cross zone
    ['10.244.1.10', '10.244.2.10', 1, 1], // second pair, same row as the 2nd
  ]);
  a.apply(r.records, r.rows, 'slot');
  const rows: Record<string, [number, number]> = {};
  for (let row = 0; row < table.end; row++) {
    const l = table.labelsOf(row);
    rows[`${l.src_namespace}/${l.src_workload}/${l.src_kind} > ${l.dst_namespace}/${l.dst_workload}/${l.dst_kind} ${l.cost_class}`] = [table.bytes[row]!, table.packets[row]!];
  }
  t.deepEqual(rows, {
    'shop/web/Deployment > shop/db/StatefulSet same_node': [100, 1],
    'shop/web/Deployment > shop/cache/StatefulSet same_zone': [201, 3],
    'shop/web/Deployment > shop/web/Deployment same_node': [1, 1],
    'shop/db/StatefulSet > ops/agent/DaemonSet cross_zone': [300, 3],
    'shop/db/StatefulSet > bi/report/Pod cross_region': [400, 4],
    'shop/web/Deployment > /n2/Node same_zone': [500, 5],
    'shop/web/Deployment > shop/api/Service unknown': [600, 6],
    'shop/web/Deployment > //External internet': [700, 7],
    'shop/web/Deployment > //External cross_zone': [800, 8],
    'shop/web/Deployment > /objstore/CIDRGroup cross_region': [900, 9],
    'shop/web/Deployment > //Unknown unknown': [1000, 10],
    '//Unknown > ops/agent/DaemonSet cross_zone': [1100, 11],
  });
  // Records an earlier attempt applied (row -1) are not attributed twice.
  const again = records([['10.244.1.10', '10.244.1.11', 5, 1], ['10.244.1.10', '10.244.1.11', 7, 1]]);
  again.rows[0] = -1;
  now.t = 12_000;
  a.apply(again.records, again.rows, 'ring');
  const sum = Object.values(table.byClass()).reduce((s, v) => s + v.bytes, 0);
  t.is(sum, 100 + 201 + 1 + 300 + 400 + 500 + 600 + 700 + 800 + 900 + 1000 + 1100 + 7);
  t.deepEqual(table.byClass().same_node, { bytes: 108, packets: 3 });
});

test('pod churn: a reused address goes to the pod that had it when counted; a release asks for a drain', (t) => {
  const now = { t: 10_000 };
  const { c, released } = fixture(now);
  const table = new WorkloadTable();
  const a = new Attribution(c, new Destinations(), table, { ttlMs: 300_000 }, () => now.t);
  // Interval 10s..20s: db-0 sends, is deleted at 15s, and shop/db-1 takes its address at 16s.
  now.t = 15_000;
  c.removePod('shop/db-0');
  t.deepEqual(released, ['10.244.1.11']);
  now.t = 16_000;
  c.upsertPod('shop/db-1', pod('u9', 'shop', 'db-1', 'n1', ['10.244.1.11'], { kind: 'StatefulSet', name: 'db-new' }));
  now.t = 20_000;
  const first = records([['10.244.1.11', '10.244.1.10', 50, 1]]);
  a.apply(first.records, first.rows, 'slot');
  now.t = 30_000;
  const second = records([['10.244.1.11', '10.244.1.10', 70, 2]]);
  a.apply(second.records, second.rows, 'slot');
  const got = [...Array(table.end).keys()].map((row) => `${table.labelsOf(row).src_workload}=${table.bytes[row]}`);
  t.deepEqual(got, ['db=50', 'db-new=70']);
});

test('the workload family renders as prom-client renders it; TTL drops idle rows', async (t) => {
  const now = { t: 10_000 };
  const { c } = fixture(now);
  const m = createMetrics(new PairTable(), { workloadMetrics: true, pairMetrics: false });
  const a = new Attribution(c, new Destinations(), m.workloads, { ttlMs: 5_000 }, () => now.t);
  const r = records([['10.244.1.10', '10.244.1.11', 2 ** 40, 3], ['10.244.1.11', '10.244.2.10', 9, 1]]);
  a.apply(r.records, r.rows, 'slot');
  const text = (await renderMetrics(m)).toString();
  const families = parseExposition(text).map((f) => f.name);
  t.true(families.includes('kubeadapt_workload_traffic_bytes_total') && families.includes('kubeadapt_workload_traffic_packets_total'), 'valid text format');
  t.true(text.includes('kubeadapt_workload_traffic_bytes_total{src_namespace="shop",src_workload="web",src_kind="Deployment",dst_namespace="shop",dst_workload="db",dst_kind="StatefulSet",cost_class="same_node"} 1099511627776\n'));
  t.false(text.includes('kubeadapt_connection_traffic_bytes_total'), 'EBPF_PAIR_METRICS=off: no pair family');
  now.t = 14_000;
  const more = records([['10.244.1.11', '10.244.2.10', 1, 1]]);
  a.apply(more.records, more.rows, 'slot');
  now.t = 18_000;
  a.apply(Buffer.alloc(0), new Int32Array(0), 'slot');
  t.is(m.workloads.size, 1, 'web -> db idle 8 s > 5 s: dropped; db -> cache active 4 s ago: kept');
  parseExposition((await renderMetrics(m)).toString());
});

test('EBPF_PAIR_DESTINATION_GROUPS: destinations in a named group collapse to it in the pair family, sums exact, seeded from the pinned totals', async (t) => {
  const { GroupedPairs } = await import('../../agent/src/cost/grouped-pairs.js');
  const d = new Destinations({ destinations: { groups: [{ name: 's3', class: 'in-region', cidrs: ['52.216.0.0/15', '2001:db8:5::/48'] }] } });
  const table = new PairTable();
  const m = createMetrics(table, { groupedPairs: true });
  const now = { t: 1000 };
  const g = new GroupedPairs(d, m.groupedPairs, 60_000, () => now.t);
  // Pinned totals from an earlier process.
  const pinned = records([['10.0.0.1', '52.216.1.1', 1000, 10], ['10.0.0.1', '8.8.8.8', 5, 1]]);
  const rows = [table.add(pinned.records, 0), table.add(pinned.records, PAIR_RECORD_SIZE)];
  table.bytes[rows[0]!] = 1000; table.packets[rows[0]!] = 10;
  table.bytes[rows[1]!] = 5; table.packets[rows[1]!] = 1;
  g.seed(m.pairs);
  const r = records([['10.0.0.1', '52.217.9.9', 300, 3], ['10.0.0.1', '52.216.1.1', 7, 1], ['10.0.0.1', '8.8.8.8', 2, 1]]);
  g.apply(r.records, r.rows, 'slot');
  const text = (await renderMetrics(m)).toString();
  parseExposition(text);
  t.true(text.includes('kubeadapt_connection_traffic_bytes_total{src_ip="10.0.0.1",dst_ip="s3",protocol="tcp"} 1307\n'));
  t.true(text.includes('kubeadapt_connection_traffic_packets_total{src_ip="10.0.0.1",dst_ip="s3",protocol="tcp"} 14\n'));
  t.true(text.includes('kubeadapt_connection_traffic_bytes_total{src_ip="10.0.0.1",dst_ip="8.8.8.8",protocol="tcp"} 7\n'));
  t.false(text.split('\n').some((l) => l.startsWith('kubeadapt_connection_traffic_') && l.includes('52.21')), 'no grouped address appears in the traffic families');
  // kubeadapt_active_connections stays per address (EBPF_CONNECTION_TRACKING=false removes it).
  t.true(text.includes('kubeadapt_active_connections{src_ip="10.0.0.1",dst_ip="52.216.1.1",protocol="tcp"} 0\n'));
  t.is(m.groupedPairs.size, 2);
});

test('workload label text: each side escaped once, in the definition\'s label order, read back as written', (t) => {
  const odd = { namespace: 'ns', workload: 'a"b\\c\nd', kind: 'CIDRGroup' };
  const pod = { namespace: 'shop', workload: 'web', kind: 'Deployment' };
  const text = workloadLabelText(sideLabelText('src', pod), sideLabelText('dst', odd), 'internet');
  t.is(text, '{src_namespace="shop",src_workload="web",src_kind="Deployment",dst_namespace="ns",dst_workload="a\\"b\\\\c\\nd",dst_kind="CIDRGroup",cost_class="internet"}');
  const table = new WorkloadTable();
  table.add(pod, odd, 'internet', 5, 1, 0);
  table.addText(text, 7, 2, 0);
  t.is(table.size, 1, 'add() and addText() of the same series meet in one row');
  t.deepEqual(table.labelsOf(0), { src_namespace: 'shop', src_workload: 'web', src_kind: 'Deployment', dst_namespace: 'ns', dst_workload: 'a"b\\c\nd', dst_kind: 'CIDRGroup', cost_class: 'internet' });
  t.deepEqual([table.bytes[0], table.packets[0]], [12, 3]);
});
