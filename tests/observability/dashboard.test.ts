// The Grafana dashboard: its JSON model is well formed, it covers the whole
// metric contract, and every panel query runs on a real Prometheus scraping an
// exposition built from METRIC_LIST (the real-agent run is in tests/e2e/node).

import test from 'ava';
import { METRIC_LIST } from '../../agent/src/metrics/definitions.js';
import { buildDashboard, dashboardQueries } from '../../cdk8s/src/observability/dashboard.js';
import { startPrometheus, type Sample } from '../helpers/prometheus.js';
import { runDashboardQueries } from './dashboard-queries.js';
import { IPV4_STEP, IPV6_STEP, sampleExposition, serveExposition } from './exposition.js';

interface Target { refId: string; expr: string; datasource: { type: string; uid: string } }
interface Panel { id: number; type: string; title: string; datasource?: { type: string; uid: string }; gridPos: { x: number; y: number; w: number; h: number }; targets?: Target[] }

const dashboard = buildDashboard() as { uid: string; panels: Panel[]; templating: { list: Array<Record<string, unknown>> } };
const panels = dashboard.panels.filter((p) => p.type !== 'row');

test('every panel queries the ${datasource} variable, which is a prometheus data source', (t) => {
  const vars = dashboard.templating.list;
  t.deepEqual(vars.map((v) => v.name), ['datasource', 'node', 'instance']);
  t.like(vars[0], { type: 'datasource', query: 'prometheus' });
  for (const p of panels) {
    t.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
    for (const target of p.targets ?? []) t.deepEqual(target.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
  }
});

test('panels have unique ids, fit the 24-column grid and do not overlap', (t) => {
  const ids = dashboard.panels.map((p) => p.id);
  t.is(new Set(ids).size, ids.length);
  const cells = new Map<string, string>();
  for (const p of dashboard.panels) {
    const { x, y, w, h } = p.gridPos;
    t.true(x >= 0 && w > 0 && x + w <= 24, `${p.title}: x=${x} w=${w}`);
    for (let i = x; i < x + w; i++) {
      for (let j = y; j < y + h; j++) {
        const other = cells.get(`${i},${j}`);
        t.is(other, undefined, `${p.title} overlaps ${other}`);
        cells.set(`${i},${j}`, p.title);
      }
    }
  }
});

test('dashboardQueries() lists exactly the targets in the JSON model, and every query is scoped', (t) => {
  const inModel = panels.flatMap((p) => (p.targets ?? []).map((x) => ({ panel: p.title, refId: x.refId, expr: x.expr })));
  t.deepEqual(dashboardQueries(), inModel);
  for (const q of dashboardQueries()) {
    t.true(q.expr.includes('instance=~"$instance"') && q.expr.includes('node=~"$node"'), `${q.panel}: ${q.expr}`);
  }
});

test('every metric of the contract is on the dashboard', (t) => {
  const text = dashboardQueries().map((q) => q.expr).join('\n');
  const missing = METRIC_LIST.filter((m) => !new RegExp(`\\b${m.name}(_bucket|_sum|_count)?\\{`).test(text)).map((m) => m.name);
  t.deepEqual(missing, []);
});

test('every panel query runs on a real Prometheus and returns the exposition\'s data', async (t) => {
  const target = await serveExposition(sampleExposition);
  t.teardown(() => target.stop());
  const prom = await startPrometheus({ targets: [target.address], job: 'ebpf-agent', labels: { node: 'node-a' } });
  t.teardown(() => prom.stop());
  // A 3s rate window filled with 1s scrapes makes rate() the per-scrape step exactly.
  await prom.waitForScrapes(6);

  const results = new Map<string, Sample[]>();
  const all = await runDashboardQueries(prom, { instances: [target.address], rateInterval: '3s' });
  t.is(all.length, dashboardQueries().length);
  for (const q of all) {
    t.true(q.samples.length > 0, `${q.panel} ${q.refId} returned no data: ${q.expr}`);
    t.false(q.samples.some((s) => Number.isNaN(s.value)), `${q.panel} ${q.refId} returned NaN`);
    results.set(`${q.panel}/${q.refId}`, q.samples);
  }
  const one = (key: string): Sample => {
    const s = results.get(key);
    if (s?.length !== 1) throw new Error(`${key}: expected one sample, got ${JSON.stringify(s)}`);
    return s[0]!;
  };
  const near = (actual: number, expected: number, what: string) =>
    t.true(Math.abs(actual - expected) <= Math.abs(expected) * 0.02, `${what}: ${actual} is not within 2% of ${expected}`);

  // One scrape per second: a counter that grows by STEP per scrape has rate STEP/s.
  const v4 = one('IPv4 vs IPv6 (bytes/s)/A').value;
  const v6 = one('IPv4 vs IPv6 (bytes/s)/B').value;
  near(v4, IPV4_STEP, 'IPv4 bytes/s');
  near(v4 / v6, IPV4_STEP / IPV6_STEP, 'IPv4/IPv6 ratio');
  t.deepEqual(results.get('TCP vs UDP (bytes/s)/A')!.map((s) => s.metric.protocol).sort(), ['tcp', 'udp']);
  t.deepEqual(results.get('Top talkers by bytes/s/A')!.map((s) => s.metric).sort((a, b) => a.src_ip!.localeCompare(b.src_ip!)), [
    { src_ip: '10.244.1.5', dst_ip: '10.244.2.7', protocol: 'tcp' },
    { src_ip: 'fd00:10:244:1::5', dst_ip: 'fd00:10:244:2::7', protocol: 'udp' },
  ]);
  t.deepEqual(one('BPF load status/A'), { metric: { instance: target.address, program: 'tc_pod_egress' }, value: 1 });
  t.deepEqual(one('Connection tracking settings/A').metric, { instance: target.address, enabled: 'true', netns_filter_mode: 'default', max_flows: '65536' });
  t.deepEqual(one('Collector errors/s by type/A').metric, { type: 'drain' });

  // Every collection takes 3 ms: the buckets up to 0.0025 hold none, 0.005 holds
  // all, so the q-quantile interpolates to 0.0025 + 0.0025 q.
  for (const [ref, q] of [['A', 0.5], ['B', 0.9], ['C', 0.99]] as const) {
    t.is(Number(one(`Collection duration quantiles/${ref}`).value.toFixed(9)), Number((0.0025 + 0.0025 * q).toFixed(9)));
  }

  const sampleLines = sampleExposition(1).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  t.is(one('Series per scrape/A').value, sampleLines);
  t.is(one('Series per scrape/B').value, 0, 'the same series every scrape: none added');

  // The node variable filters: another node's dashboard shows none of this data.
  for (const q of await runDashboardQueries(prom, { instances: [target.address], node: 'node-b', rateInterval: '3s' })) {
    t.deepEqual(q.samples, [], q.panel);
  }
  // And the instance variable too.
  for (const q of await runDashboardQueries(prom, { instances: ['127.0.0.1:1'], rateInterval: '3s' })) {
    t.deepEqual(q.samples, [], q.panel);
  }
});
