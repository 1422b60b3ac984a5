// Issue 11 §2, reproduced on a simulated node: a tiny flow map
// (EBPF_MAX_FLOWS=64) and pair ledger (EBPF_MAX_PAIRS=1024), 1,500 source
// addresses sending one datagram each beside ordinary pod traffic, then a
// SIGKILL and a new agent on the same pins. Before the ledger had room
// accounting, every collection failed (E2BIG), /metrics showed totals the pins
// never got, and after the restart the pods' new traffic was not exported.
//
// Now: the pods' series equal the nftables oracle exactly, before and after
// the restart (and updates that change EBPF_MAX_PAIRS and EBPF_MAX_FLOWS); of the 1,500 new pairs exactly as many are exported as there
// is room for (1024 − 1 loss entry − the pods' pairs), each with its 38 bytes,
// and the rest is loss: its packets and bytes exactly (every flood pair
// carries one 38-byte datagram); and every value on /metrics is the one in
// the pinned pair_totals map.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode, type Pod } from '../helpers/topology.js';
import { AgentProcess, AGENT_MAIN, trafficOf as traffic, type Sample } from '../helpers/agent-process.js';
import { run } from '../helpers/exec.js';
import { Sinks, send } from '../helpers/traffic.js';
import { RawLink, l3Bytes, type InjectStep } from '../internal-metrics/raw-link.js';

const MAX_PAIRS = 1024;
const SOURCES = 1500;
const FLOOD_SIZE = 10;

/** One round of the pods' ordinary traffic: always the same pairs, so the first round makes them all. */
async function ordinary(p1: Pod, p2: Pod): Promise<void> {
  await send(p1, p2.ipv4, { udpCount: 5, udpSize: 400, tcpBytes: 30_000 });
  await send(p2, p1.ipv6, { udpCount: 3, udpSize: 200, tcpBytes: 10_000 });
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

interface Pinned { pairs: Map<string, { bytes: number; packets: number }>; loss?: { bytes: number; packets: number }; entries: number }

/** pair_totals as the kernel has it (bpftool), in the same form; the reserved loss entry apart. */
async function pinned(pinPath: string): Promise<Pinned> {
  const { stdout } = await run('/usr/sbin/bpftool', ['-j', 'map', 'dump', 'pinned', `${pinPath}/pair_totals`]);
  type Entry = { formatted?: { key: { family: number; protocol: number; src_addr: number[]; dst_addr: number[] }; value: { bytes: number; packets: number } } };
  const entries = JSON.parse(stdout) as Entry[];
  const out: Pinned = { pairs: new Map(), entries: entries.length };
  const ip = (family: number, a: number[]) => family === 4
    ? a.slice(0, 4).join('.')
    : (Array.from({ length: 8 }, (_, i) => ((a[2 * i]! << 8) | a[2 * i + 1]!).toString(16)).join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::'));
  for (const e of entries) {
    if (!e.formatted) throw new Error(`bpftool printed pair_totals without BTF: ${stdout.slice(0, 200)}`);
    const { key, value: v } = e.formatted;
    if (key.family === 0) {
      out.loss = { bytes: v.bytes, packets: v.packets };
      continue;
    }
    out.pairs.set(`${ip(key.family, key.src_addr)}|${ip(key.family, key.dst_addr)}|${key.protocol === 6 ? 'tcp' : 'udp'}`, { bytes: v.bytes, packets: v.packets });
  }
  return out;
}

test.serial('EBPF_MAX_PAIRS=1024 and 1,500 new sources beside pod traffic: no stall, exact pod series, exact loss, nothing shown that is not pinned, across a SIGKILL', async (t) => {
  const node = await new SimulatedNode(23).create();
  t.teardown(() => node.destroy());
  for (const cni of ['ptp', 'ptp'] as const) await node.addPod(cni, { skipDad: true });
  await node.setOffloads('off');
  await node.installOracle();
  const link = await RawLink.create(node, 'f');
  t.teardown(() => link.destroy());
  const sinks = new Sinks();
  t.teardown(() => sinks.stop());
  await sinks.start(node.pods);
  const [p1, p2] = node.pods as [Pod, Pod];

  const env = {
    EBPF_MAX_FLOWS: '64', EBPF_MAX_PAIRS: String(MAX_PAIRS), EBPF_COLLECTION_INTERVAL: '1s',
    EBPF_PAIR_TTL: '1h', EBPF_ON_SHUTDOWN: 'keep',
  };
  const agents: AgentProcess[] = [];
  t.teardown(async () => {
    for (const a of agents) await a.stop().catch(() => undefined);
    await run('nsenter', [`--net=/run/netns/${node.netns}`, process.execPath, AGENT_MAIN, 'cleanup'], { env: { ...process.env, EBPF_BPF_PIN_PATH: `/sys/fs/bpf/${node.id}` }, allowFail: true });
  });
  const start = async (extra: Record<string, string> = {}) => {
    const a = await AgentProcess.start(node, { ...env, ...extra });
    agents.push(a);
    await a.waitReady();
    return a;
  };
  const podPairs = (m: Map<string, { bytes: number; packets: number }>) => {
    const pods = new Set(node.pods.flatMap((p) => [p.ipv4, p.ipv6]));
    return Object.fromEntries([...m].filter(([k]) => pods.has(k.split('|')[0]!)));
  };

  const first = await start();
  await ordinary(p1, p2);
  await first.waitForCollections(2);
  const podSeries = podPairs(await first.traffic());
  const n0 = Object.keys(podSeries).length;
  t.deepEqual(podSeries, Object.fromEntries(await node.readOracle('forwarded')), 'the pods\' pairs, before the flood');
  t.log(`${n0} pod pairs in the ledger before the flood`);

  // The flood, beside more pod traffic on the same pairs.
  const flood: InjectStep[] = Array.from({ length: SOURCES }, (_, i) => ({
    kind: 'udp', count: 1, src: `10.250.${i >> 8}.${i & 255}`, dst: p2.ipv4, size: FLOOD_SIZE, sport: 4000,
  }));
  const [sent] = await Promise.all([link.inject(flood), ordinary(p1, p2)]);
  t.is(sent, SOURCES);
  t.deepEqual(await link.received(), { packets: SOURCES, l3Bytes: SOURCES * l3Bytes(flood[0]!) }, 'every datagram reached the hook');
  await ordinary(p1, p2);
  await first.waitForCollections(3);

  const admitted = MAX_PAIRS - 1 - n0;
  const lostPairs = SOURCES - admitted;
  const perPair = l3Bytes(flood[0]!); // 38: IPv4 20 + UDP 8 + 10
  const check = async (agent: AgentProcess, when: string) => {
    const samples = await agent.samples();
    const counted = traffic(samples);
    t.deepEqual(podPairs(counted), Object.fromEntries(await node.readOracle('forwarded')), `${when}: the pods' series equal the oracle`);
    const floodSeries = [...counted].filter(([k]) => k.startsWith('10.250.'));
    t.is(floodSeries.length, admitted, `${when}: flood pairs exported = room left`);
    t.deepEqual(new Set(floodSeries.map(([, v]) => `${v.bytes}/${v.packets}`)), new Set([`${perPair}/1`]), when);
    t.is(value(samples, 'kubeadapt_connection_traffic_dropped_packets_total', { reason: 'pair_ledger_full' }), lostPairs, `${when}: lost packets`);
    t.is(value(samples, 'kubeadapt_connection_traffic_dropped_bytes_total', { reason: 'pair_ledger_full' }), lostPairs * perPair, `${when}: lost bytes`);
    t.is(value(samples, 'kubeadapt_connection_traffic_dropped_packets_total', { reason: 'ringbuf_full' }), 0, when);
    t.is(value(samples, 'kubeadapt_bpf_map_utilization_percent', { map: 'pair_totals' }), 100, when);
    t.is(value(samples, 'kubeadapt_collector_errors_total', { type: 'drain' }), 0, `${when}: no collection failed`);
    t.is(value(samples, 'kubeadapt_collector_errors_total', { type: 'ringbuf_consume' }), 0, when);
    // Durable first: what /metrics shows is what the pins hold (no traffic moves now).
    const pins = await pinned(agent.pinPath);
    t.is(pins.entries, MAX_PAIRS, `${when}: pair_totals exactly full`);
    t.deepEqual(Object.fromEntries(pins.pairs), Object.fromEntries(counted), `${when}: /metrics = pair_totals`);
    t.deepEqual(pins.loss, { bytes: lostPairs * perPair, packets: lostPairs }, `${when}: the loss is pinned`);
  };
  await check(first, 'first agent');

  await first.kill();
  await ordinary(p1, p2); // counted by the programs while no agent runs
  const second = await start();
  for (let i = 0; i < 3; i++) await ordinary(p1, p2);
  await second.waitForCollections(2);
  await check(second, 'after SIGKILL');
  t.is(await second.stop(), 0);

  // Rolling updates with another EBPF_MAX_PAIRS, then another EBPF_MAX_FLOWS:
  // libbpf reuses a pinned map only as created (the load failed until the pins
  // went), so the pinned ledger and flow maps keep their sizes, nothing resets,
  // and the agent says so. Traffic in between lands in the pinned slot while no agent runs.
  const updates: { env: Record<string, string>; said: RegExp }[] = [
    { env: { EBPF_MAX_PAIRS: '2048' }, said: /EBPF_MAX_PAIRS differs from the pinned pair ledger.*"maxPairs":2048,"pinned":1024/ },
    { env: { EBPF_MAX_FLOWS: '128' }, said: /EBPF_MAX_FLOWS differs from the pinned flow maps.*"maxFlows":128,"pinned":64/ },
  ];
  for (const u of updates) {
    await ordinary(p1, p2);
    const next = await start(u.env);
    await ordinary(p1, p2);
    await next.waitForCollections(2);
    await check(next, `after an update to ${JSON.stringify(u.env)}`);
    t.regex(next.output(), u.said);
    t.is(await next.stop(), 0);
  }
});
