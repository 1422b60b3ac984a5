// renderMetrics (agent/src/metrics/exposition.ts) must produce exactly the
// text prom-client's Registry.metrics() produces, on every scrape, for the
// agent's registry: counters, gauges, histograms, escapes, removed series.
import test from 'ava';
import { Counter, Gauge, Registry } from 'prom-client';
import { createMetrics } from '../../agent/src/metrics/registry.js';
import { renderMetrics } from '../../agent/src/metrics/exposition.js';

test('the agent registry renders byte for byte as prom-client renders it, scrape after scrape', async (t) => {
  const m = createMetrics();
  t.is(await renderMetrics(m.registry), await m.registry.metrics(), 'empty registry');
  const pairs = Array.from({ length: 50 }, (_, i) => ({ src_ip: `10.0.${i}.1`, dst_ip: i % 2 ? `fd00::${i.toString(16)}` : '10.96.0.10', protocol: i % 3 ? 'tcp' : 'udp' }));
  for (const [i, labels] of pairs.entries()) {
    m.trafficBytes.inc(labels, 2 ** 40 + i);
    m.trafficPackets.inc(labels, i + 1);
    m.activeConnections.set(labels, i % 4);
  }
  m.collectionDuration.observe(0.013);
  m.collectionDuration.observe(3);
  m.collectorErrors.inc({ type: 'drain' }, 0);
  m.mapUtilization.set({ map: 'connection_flows' }, 12.5);
  const first = await renderMetrics(m.registry);
  t.is(first, await m.registry.metrics());
  t.true(first.includes('kubeadapt_connection_traffic_bytes_total{src_ip="10.0.1.1",dst_ip="fd00::1",protocol="tcp"} 1099511627777\n'));

  // A second scrape reuses cached line prefixes: values move, series go.
  m.trafficBytes.inc(pairs[1]!, 5);
  m.activeConnections.set(pairs[1]!, 9);
  m.trafficBytes.remove(pairs[2]!);
  m.trafficPackets.remove(pairs[2]!);
  m.activeConnections.remove(pairs[2]!);
  m.mapUtilization.set({ map: 'connection_flows' }, NaN);
  const second = await renderMetrics(m.registry);
  t.is(second, await m.registry.metrics());
  t.not(second, first);
  t.false(second.includes('src_ip="10.0.2.1"'));
});

test('label values and help text are escaped as prom-client escapes them', async (t) => {
  const registry = new Registry();
  const c = new Counter({ name: 'x_total', help: 'back\\slash and\nnewline', labelNames: ['v'], registers: [registry] });
  c.inc({ v: 'quote " back\\slash \n newline' }, 2);
  const g = new Gauge({ name: 'g', help: 'h', registers: [registry] });
  g.set(-Infinity);
  t.is(await renderMetrics(registry), await registry.metrics());
});

test('a registry with default labels is left to prom-client', async (t) => {
  const registry = new Registry();
  registry.setDefaultLabels({ node: 'n1' });
  new Counter({ name: 'y_total', help: 'h', labelNames: ['a'], registers: [registry] }).inc({ a: '1' });
  const text = await renderMetrics(registry);
  t.is(text, await registry.metrics());
  t.true(text.includes('node="n1"'));
});
