// Interface roles (agent/src/interfaces/roles.ts) from hand-written link and
// route lists as rtnetlink reports them: which veth is a pod's, which is an
// uplink and why, the override, and the `check` line that shows it all.
import test from 'ava';
import { decideRoles, describeRole, uplinkEvidence } from '../../agent/src/interfaces/roles.js';
import { checkInterfaces } from '../../agent/src/preflight/checks.js';
import type { LinkInfo, RouteInfo } from '../../agent/src/native.js';

const link = (ifindex: number, name: string, kind: string, o: Partial<LinkInfo> = {}): LinkInfo =>
  ({ ifindex, name, kind, link: 0, peerNetnsId: -1, master: 0, up: true, ...o });
const route = (ifindex: number, dst: string, o: Partial<RouteInfo> = {}): RouteInfo => {
  const [addr = '', len = '0'] = dst === 'default' ? ['0.0.0.0', '0'] : dst.split('/');
  return { family: addr.includes(':') ? 6 : 4, dst: addr, dstLen: Number(len), ifindex, table: 254, type: 1, protocol: 3, ...o };
};

const LO = link(1, 'lo', '');
const ETH0 = link(2, 'eth0', 'veth', { peerNetnsId: 0 });
const POD = link(5, 'veth1a2b', 'veth', { peerNetnsId: 1 });
/** What every pod veth carries: the pod's own addresses and the link-local network. */
const POD_ROUTES = [
  route(5, '10.244.1.5/32', { protocol: 4 }),
  route(5, 'fd00:10:244:1::5/128', { protocol: 4 }),
  route(5, 'fe80::/64', { protocol: 2 }),
];
const POD_HOOKS = [{ direction: 'ingress', program: 'tc_pod_egress' }, { direction: 'egress', program: 'tc_host_egress' }];
const EGRESS = [{ direction: 'egress', program: 'tc_host_egress' }];

const roleOf = (links: LinkInfo[], routes: RouteInfo[], uplinks: 'auto' | string[] = 'auto') =>
  Object.fromEntries(decideRoles(links, routes, uplinks).map((d) => [d.name, { role: d.role, why: d.why, hooks: d.hooks }]));

test('a kind node: the veth with the default route is the uplink, the pod veth a pod\'s', (t) => {
  const r = roleOf([LO, ETH0, POD], [route(2, 'default', { gateway: '172.18.0.1' }), route(2, '172.18.0.0/16', { protocol: 2 }), ...POD_ROUTES]);
  t.deepEqual(r, {
    lo: { role: 'ignored', why: 'loopback: nothing leaves the node through it', hooks: [] },
    eth0: { role: 'uplink', why: 'a veth whose peer is in another network namespace; carries a default route via 172.18.0.1', hooks: EGRESS },
    veth1a2b: { role: 'pod veth', why: 'a veth whose peer is in another network namespace (netns id 1) and no route through it leads past that peer', hooks: POD_HOOKS },
  });
});

test('no default route: a route with a gateway, or one to another node\'s pod CIDR, marks the uplink', (t) => {
  const connected = [route(2, '10.244.250.0/24', { protocol: 2 }), route(2, 'fd00:10:244:fa::/64', { protocol: 2 }), route(2, 'fe80::/64', { protocol: 2 })];
  t.deepEqual(roleOf([ETH0, POD], [...connected, ...POD_ROUTES]).eth0!.role, 'pod veth', 'connected and link-local routes alone say nothing');
  const gateway = roleOf([ETH0, POD], [...connected, route(2, '10.244.3.0/24', { gateway: '10.244.250.2' }), ...POD_ROUTES]);
  t.deepEqual(gateway.eth0, { role: 'uplink', why: 'a veth whose peer is in another network namespace; carries a route with a gateway: 10.244.3.0/24 via 10.244.250.2', hooks: EGRESS });
  t.is(gateway.veth1a2b!.role, 'pod veth');
  const network = roleOf([ETH0, POD], [...connected, route(2, 'fd00:10:244:3::/64'), ...POD_ROUTES]);
  t.deepEqual(network.eth0, { role: 'uplink', why: 'a veth whose peer is in another network namespace; carries a route to a network: fd00:10:244:3::/64', hooks: EGRESS });
  t.is(network.veth1a2b!.role, 'pod veth');
});

test('the strongest evidence is named; other tables count, the local table and non-unicast routes do not', (t) => {
  const ev = uplinkEvidence([
    route(2, '10.244.3.0/24'),
    route(2, '10.244.4.0/24', { gateway: '10.244.250.2' }),
    route(3, '10.244.5.0/24', { gateway: '10.244.250.3', table: 100 }),
    route(4, '10.244.6.0/24', { table: 255, type: 2 }),
    route(4, '10.244.7.0/24', { type: 6 }), // blackhole
    route(0, '10.244.8.0/24', { type: 7 }), // unreachable: no device
    route(6, 'default', { family: 6, dst: '::', gateway: 'fe80::1' }),
    route(6, '10.244.9.0/24', { gateway: '10.244.250.9' }),
    route(7, '169.254.0.0/16'),
    // A pod reached through its link-local address: one address, no evidence; a network the same way is.
    route(8, 'fd00:10:244:1::5/128', { gateway: 'fe80::1c2d:3eff:fe4f:5a6b' }),
    route(9, 'fd00:10:244:7::/64', { gateway: 'fe80::1' }),
  ]);
  t.deepEqual([...ev].sort((a, b) => a[0] - b[0]), [
    [2, 'carries a route with a gateway: 10.244.4.0/24 via 10.244.250.2'],
    [3, 'carries a route with a gateway: 10.244.5.0/24 via 10.244.250.3 (table 100)'],
    [6, 'carries a default route via fe80::1'],
    [9, 'carries a route with a gateway: fd00:10:244:7::/64 via fe80::1'],
  ]);
});

test('a multipath default route marks each of its devices', (t) => {
  const a = link(2, 'eth0', 'veth', { peerNetnsId: 0 });
  const b = link(3, 'eth1', 'veth', { peerNetnsId: 0 });
  const r = roleOf([a, b], [route(2, 'default', { gateway: '10.0.0.1' }), route(3, 'default', { gateway: '10.0.1.1' })]);
  t.deepEqual([r.eth0!.role, r.eth1!.role], ['uplink', 'uplink']);
});

test('bridges, their ports and other devices', (t) => {
  const br = link(3, 'cni0', 'bridge');
  const podPort = link(6, 'vethb0b0', 'veth', { peerNetnsId: 2, master: 3 });
  const nic = link(7, 'ens5', '', { master: 8 });
  const bond = link(8, 'bond0', 'bond');
  const r = roleOf([br, podPort, nic, bond], [route(3, '10.244.1.0/24', { protocol: 2 }), route(8, 'default', { gateway: '192.0.2.1' })]);
  t.deepEqual(r, {
    cni0: { role: 'host device', why: 'a bridge device', hooks: EGRESS },
    vethb0b0: {
      role: 'pod veth', hooks: [{ direction: 'ingress', program: 'tc_pod_egress' }],
      why: 'a veth whose peer is in another network namespace (netns id 2) and no route through it leads past that peer; no egress hook: a port of cni0, whose own hook sees its packets',
    },
    ens5: { role: 'ignored', why: 'a device without a link kind (physical), a port of bond0, whose own hook sees its packets', hooks: [] },
    bond0: { role: 'uplink', why: 'a bond device; carries a default route via 192.0.2.1', hooks: EGRESS },
  });
});

test('EBPF_UPLINK_INTERFACES replaces the guess: exactly the named veths are uplinks', (t) => {
  // The node's link is a veth enslaved to a bridge that holds the node address and routes: no route is on the veth itself.
  const up = link(2, 'eth0', 'veth', { peerNetnsId: 0, master: 9 });
  const br = link(9, 'br-up', 'bridge');
  const routes = [route(9, 'default', { gateway: '10.0.0.1' }), route(4, 'default', { gateway: '10.9.0.1' }), ...POD_ROUTES];
  const other = link(4, 'eth9', 'veth', { peerNetnsId: 3 });
  t.is(roleOf([up, br, POD], routes).eth0!.role, 'pod veth', 'the guess: a bridge port whose peer is elsewhere looks like a bridge CNI\'s pod');
  const r = roleOf([up, br, POD, other], routes, ['eth*']);
  t.deepEqual(r.eth0, { role: 'uplink', why: 'a veth whose peer is in another network namespace; EBPF_UPLINK_INTERFACES names it (eth*); no egress hook: a port of br-up, whose own hook sees its packets', hooks: [] });
  t.is(r.eth9!.role, 'uplink');
  t.deepEqual(r.veth1a2b, {
    role: 'pod veth', hooks: POD_HOOKS,
    why: 'a veth whose peer is in another network namespace (netns id 1); EBPF_UPLINK_INTERFACES does not name it',
  });
  const exact = roleOf([up, br, POD, other], routes, ['eth0']);
  t.is(exact.eth9!.role, 'pod veth', 'a veth with a default route that the list does not name is a pod\'s');
  t.is(exact['br-up']!.role, 'host device');
});

test('check prints each interface\'s role and warns about a missing uplink or an override that matches nothing', (t) => {
  const roles = decideRoles([LO, ETH0, POD], [route(2, '10.244.3.0/24', { gateway: '10.244.250.2' }), ...POD_ROUTES]);
  t.deepEqual(checkInterfaces(roles, 'auto'), {
    name: 'interfaces', status: 'pass',
    detail: '3 interface(s): 1 pod veth(s), 1 uplink(s), 0 other host device(s), 1 ignored (EBPF_UPLINK_INTERFACES=auto)',
    lines: [
      'lo (ifindex 1): ignored [no hook]: loopback: nothing leaves the node through it',
      'eth0 (ifindex 2): uplink [egress tc_host_egress]: a veth whose peer is in another network namespace; carries a route with a gateway: 10.244.3.0/24 via 10.244.250.2',
      'veth1a2b (ifindex 5): pod veth [ingress tc_pod_egress, egress tc_host_egress]: a veth whose peer is in another network namespace (netns id 1) and no route through it leads past that peer',
    ],
  });
  const none = checkInterfaces(decideRoles([LO, ETH0, POD], POD_ROUTES), 'auto');
  t.is(none.status, 'warn');
  t.regex(none.detail, /no uplink found: no interface carries a default route, a route with a gateway or a route to a network$/);
  t.regex(none.fix!, /name it in EBPF_UPLINK_INTERFACES/);
  const missing = checkInterfaces(decideRoles([LO, ETH0, POD], POD_ROUTES, ['eth0', 'bond*']), ['eth0', 'bond*']);
  t.is(missing.status, 'warn');
  t.regex(missing.detail, /\(EBPF_UPLINK_INTERFACES=eth0,bond\*\); EBPF_UPLINK_INTERFACES names bond\*, which match\(es\) no interface on this node$/);
  t.is(describeRole(decideRoles([ETH0], [], ['eth0'])[0]!), 'eth0 (ifindex 2): uplink [egress tc_host_egress]: a veth whose peer is in another network namespace; EBPF_UPLINK_INTERFACES names it (eth0)');
});
