// InterfaceDiscovery on a fake addon and attacher (pure logic): hooks follow
// the roles, a veth whose routes make it an uplink loses its pod hook, and the
// log says each interface's role once and again when it changes.
import test from 'ava';
import { InterfaceDiscovery } from '../../agent/src/interfaces/discovery.js';
import type { Attacher, Attachment } from '../../agent/src/interfaces/attacher.js';
import type { Direction, LinkInfo, NativeAddon, RouteInfo } from '../../agent/src/native.js';
import type { Logger } from '../../agent/src/log.js';

const veth = (ifindex: number, name: string): LinkInfo => ({ ifindex, name, kind: 'veth', link: 0, peerNetnsId: 1, master: 0, up: true });
const route = (ifindex: number, dst: string, dstLen: number, gateway?: string): RouteInfo =>
  ({ family: 4, dst, dstLen, ifindex, table: 254, type: 1, protocol: 4, ...(gateway ? { gateway } : {}) });

function setup(uplinks: 'auto' | string[] = 'auto') {
  const state = { links: [veth(2, 'eth0'), veth(3, 'vethpod')], routes: [route(3, '10.244.1.5', 32)] as RouteInfo[] };
  const hooks = new Set<string>();
  const logs: { msg: string; fields: Record<string, unknown> }[] = [];
  const addon = { listLinks: () => state.links, listRoutes: () => state.routes } as unknown as NativeAddon;
  const attacher = {
    attach(ifindex: number, name: string, direction: Direction, program: string): Attachment {
      hooks.add(`${name}/${direction}/${program}`);
      return { ifindex, name, direction, program, mode: 'tcx', runsBefore: [] };
    },
    detach(a: Attachment) {
      hooks.delete(`${a.name}/${a.direction}/${a.program}`);
    },
  } as unknown as Attacher;
  const log: Logger = {
    debug: () => undefined, warn: () => undefined, error: () => undefined, enabled: () => true,
    info: (msg, fields = {}) => void logs.push({ msg, fields }),
  };
  const d = new InterfaceDiscovery(addon, attacher, log, { onAttachError: (_l, err) => { throw err; }, onChange: () => undefined }, undefined, uplinks);
  const roles = () => logs.filter((l) => l.msg.startsWith('interface role')).map((l) => `${l.msg}: ${l.fields.interface} ${l.fields.role} [${(l.fields.hooks as string[]).join(',')}]`);
  return { state, hooks, d, roles };
}

test('a veth that gains a route to another node\'s pod CIDR becomes an uplink: its pod hook goes, the log says why', (t) => {
  const { state, hooks, d, roles } = setup();
  d.sync();
  t.deepEqual([...hooks].sort(), ['eth0/egress/tc_host_egress', 'eth0/ingress/tc_pod_egress', 'vethpod/egress/tc_host_egress', 'vethpod/ingress/tc_pod_egress']);
  t.deepEqual(roles(), ['interface role: eth0 pod veth [ingress,egress]', 'interface role: vethpod pod veth [ingress,egress]']);
  d.sync();
  t.is(roles().length, 2, 'an unchanged role is not logged again');

  state.routes = [...state.routes, route(2, '10.244.3.0', 24, '10.244.250.2')];
  d.sync();
  t.deepEqual([...hooks].sort(), ['eth0/egress/tc_host_egress', 'vethpod/egress/tc_host_egress', 'vethpod/ingress/tc_pod_egress']);
  t.deepEqual(roles().slice(2), ['interface role changed: eth0 uplink [egress]']);
});

test('EBPF_UPLINK_INTERFACES decides without routes', (t) => {
  const { hooks, d, roles } = setup(['eth*']);
  d.sync();
  t.deepEqual([...hooks].sort(), ['eth0/egress/tc_host_egress', 'vethpod/egress/tc_host_egress', 'vethpod/ingress/tc_pod_egress']);
  t.deepEqual(roles(), ['interface role: eth0 uplink [egress]', 'interface role: vethpod pod veth [ingress,egress]']);
});
