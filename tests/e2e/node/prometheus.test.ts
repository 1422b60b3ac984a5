// A real Prometheus (Debian's) scrapes the real agent on the simulated node:
// PromQL returns the oracle's exact values, `promtool check metrics` has
// nothing to say about our exposition, all metrics of the published README are
// there with their types, and every dashboard panel query returns data.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { Sinks, send } from '../helpers/traffic.js';
import { startPrometheus } from '../../helpers/prometheus.js';
import { runDashboardQueries } from '../../observability/dashboard-queries.js';
import { METRIC_LIST } from '../../../agent/src/metrics/definitions.js';

test.serial('Prometheus scrapes exact counters, lint-clean, every metric and dashboard panel answers', async (t) => {
  const node = await new SimulatedNode(12).create();
  t.teardown(() => node.destroy());
  for (const cni of ['ptp', 'ptp', 'bridge'] as const) await node.addPod(cni);
  await node.setOffloads('off');
  await node.installOracle();
  const sinks = new Sinks();
  t.teardown(() => sinks.stop());
  await sinks.start(node.pods);
  const agent = await AgentProcess.start(node);
  t.teardown(() => agent.stop());
  await agent.waitReady();

  const prom = await startPrometheus({ targets: [`127.0.0.1:${agent.port}`], labels: { node: node.netns } });
  t.teardown(() => prom.stop());

  const [a, b, c] = node.pods as [typeof node.pods[0], typeof node.pods[0], typeof node.pods[0]];
  // Traffic in two rounds so rate() has something to see across scrapes.
  for (let round = 0; round < 2; round++) {
    await send(a, b.ipv4, { udpCount: 40, udpSize: 512, tcpBytes: 100_000 });
    await send(b, c.ipv6, { udpCount: 25, udpSize: 1000, tcpBytes: 80_000 });
    await send(c, a.ipv4, { udpCount: 10, udpSize: 64 });
    await agent.waitForCollections(2);
    await prom.waitForScrapes(2);
  }

  const oracle = await node.readOracle('forwarded');
  const bytes = await prom.instantQuery('kubeadapt_connection_traffic_bytes_total');
  const packets = await prom.instantQuery('kubeadapt_connection_traffic_packets_total');
  const fromProm = new Map<string, { bytes: number; packets: number }>();
  for (const s of bytes) fromProm.set(`${s.metric.src_ip}|${s.metric.dst_ip}|${s.metric.protocol}`, { bytes: s.value, packets: 0 });
  for (const s of packets) fromProm.get(`${s.metric.src_ip}|${s.metric.dst_ip}|${s.metric.protocol}`)!.packets = s.value;
  t.deepEqual(Object.fromEntries(fromProm), Object.fromEntries(oracle));
  const udpBytes = await prom.instantQuery(`kubeadapt_connection_traffic_bytes_total{src_ip="${a.ipv4}",dst_ip="${b.ipv4}",protocol="udp"}`);
  t.is(udpBytes[0]?.value, 2 * 40 * (512 + 28), 'UDP bytes are L3: payload + 8 + 20, exactly');

  const { text } = await agent.get('/metrics');
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  t.is(lint.status, 0, lint.stdout + lint.stderr);
  t.is((lint.stdout + lint.stderr).trim(), '');

  // The cost attribution's metrics need the Kubernetes API (EBPF_KUBERNETES): the
  // real-cluster suite checks them and their panels; here they are off.
  const enrichment = METRIC_LIST.filter((d) => d.requires === 'kubernetes').map((d) => d.name);
  t.is(enrichment.length, 4);
  for (const def of METRIC_LIST) {
    if (def.requires) continue;
    t.regex(text, new RegExp(`^# TYPE ${def.name} ${def.type}$`, 'm'), def.name);
  }

  const panels = await runDashboardQueries(prom, { instances: [`127.0.0.1:${agent.port}`], node: node.netns, rateInterval: '1m' });
  const needsApi = (p: { expr: string }) => enrichment.some((name) => p.expr.includes(name));
  const empty = panels.filter((p) => p.samples.length === 0 && !needsApi(p)).map((p) => `${p.panel} [${p.refId}]: ${p.expr}`);
  t.deepEqual(empty, [], 'every panel query returns data');
});
