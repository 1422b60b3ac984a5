// renderMetrics (agent/src/metrics/exposition.ts) must produce exactly the
// text prom-client produces, on every scrape, for the agent's registry:
// the pair series from the pair table, counters, gauges, histograms, escapes,
// removed series. The reference is prom-client twice over: its own Counter
// and Gauge instruments holding the same pairs, and its Registry.metrics()
// reading the pair series through get().
import test from 'ava';
import { Counter, Gauge, Registry } from 'prom-client';
import { renderMetrics, streamMetrics } from '../../agent/src/metrics/exposition.js';
import { TextWriter } from '../../agent/src/metrics/text-writer.js';
import { Twin, type Labels } from '../../bench/pair-twin.js';
import { encodePairKey } from '../../agent/src/collector/ledger.js';

const pairs: Labels[] = Array.from({ length: 50 }, (_, i) => ({ src_ip: `10.0.${i}.1`, dst_ip: i % 2 ? `fd00::${i.toString(16)}` : '10.96.0.10', protocol: i % 3 ? 'tcp' : 'udp' }));
for (const l of pairs) if (l.dst_ip.includes(':')) l.src_ip = `fd00:10:244::${l.src_ip.split('.')[2]}`;

test('the agent registry renders byte for byte as prom-client renders it, scrape after scrape', async (t) => {
  const twin = new Twin();
  const m = twin.m;
  t.is((await renderMetrics(m.registry)).toString(), await m.registry.metrics(), 'empty registry');
  for (const [i, l] of pairs.entries()) twin.add(l, 2 ** 40 + i, i + 1, i % 4);
  twin.add(pairs[3]!, 2 ** 53 - 2 ** 40 - 5, 99_999_999, 100_000_000);
  m.collectionDuration.observe(0.013);
  m.collectionDuration.observe(3);
  m.collectorErrors.inc({ type: 'drain' }, 0);
  m.mapUtilization.set({ map: 'connection_flows' }, 12.5);
  const first = (await renderMetrics(m.registry)).toString();
  t.is(first, await m.registry.metrics(), 'as prom-client formats the pair series');
  t.is(first, await twin.expected(), 'as prom-client instruments holding the same pairs render');
  t.true(first.includes('kubeadapt_connection_traffic_bytes_total{src_ip="fd00:10:244::1",dst_ip="fd00::1",protocol="tcp"} 1099511627777\n'));
  t.true(first.includes(`{src_ip="fd00:10:244::3",dst_ip="fd00::3",protocol="udp"} ${2 ** 53 - 2}\n`));

  // Values move, series go, rows are reused.
  twin.add(pairs[1]!, 5, 1, 9);
  twin.remove(pairs[2]!);
  twin.add({ src_ip: '10.244.9.9', dst_ip: '10.244.8.8', protocol: 'udp' }, 7, 1, 1);
  m.mapUtilization.set({ map: 'connection_flows' }, NaN);
  const second = (await renderMetrics(m.registry)).toString();
  t.is(second, await m.registry.metrics());
  t.false(second.includes('src_ip="10.0.2.1"'));
  t.true(second.includes('{src_ip="10.244.9.9",dst_ip="10.244.8.8",protocol="udp"} 7\n'));
  t.is(twin.table.size, pairs.length);
});

test('without connection tracking the active-connections metric has no series', async (t) => {
  const twin = new Twin();
  const m = twin.m;
  twin.add(pairs[0]!, 10, 1, 1);
  twin.table.trackConnections = false;
  const text = (await renderMetrics(m.registry)).toString();
  t.is(text, await m.registry.metrics());
  t.regex(text, /# TYPE kubeadapt_active_connections gauge\n\n/);
  t.false(text.includes('kubeadapt_active_connections{'));
});

test('label values and help text are escaped as prom-client escapes them', async (t) => {
  const registry = new Registry();
  const c = new Counter({ name: 'x_total', help: 'back\\slash and\nnewline', labelNames: ['v'], registers: [registry] });
  c.inc({ v: 'quote " back\\slash \n newline ü' }, 2);
  const g = new Gauge({ name: 'g', help: 'h', registers: [registry] });
  g.set(-Infinity);
  t.is((await renderMetrics(registry)).toString(), await registry.metrics());
});

test('a registry with default labels is left to prom-client', async (t) => {
  const registry = new Registry();
  registry.setDefaultLabels({ node: 'n1' });
  new Counter({ name: 'y_total', help: 'h', labelNames: ['a'], registers: [registry] }).inc({ a: '1' });
  const text = (await renderMetrics(registry)).toString();
  t.is(text, await registry.metrics());
  t.true(text.includes('node="n1"'));
});

test('pair rows are found, removed and reused through the index at any load', (t) => {
  const twin = new Twin();
  const m = twin.m;
  const n = 5000;
  const label = (i: number): Labels => ({ src_ip: `10.244.${i >> 8}.${i & 255}`, dst_ip: '10.96.0.10', protocol: i & 1 ? 'udp' : 'tcp' });
  for (let i = 0; i < n; i++) twin.add(label(i), i, 1, 0);
  for (let i = 0; i < n; i += 3) twin.remove(label(i));
  for (let i = 0; i < n; i += 6) twin.add(label(i), 1, 1, 0);
  const t2 = twin.table;
  t.is(t2.size, n - Math.ceil(n / 3) + Math.ceil(n / 6));
  for (let i = 0; i < n; i++) {
    const present = i % 3 !== 0 || i % 6 === 0;
    const row = t2.find(encodePairKey(label(i).src_ip, label(i).dst_ip, label(i).protocol));
    t.is(row >= 0, present, `pair ${i}`);
    if (present) t.deepEqual(t2.labelsOf(row), label(i));
  }
});

test('streamed in small chunks: the same bytes, and a pair removed and re-added mid-scrape appears once', async (t) => {
  const twin = new Twin();
  const m = twin.m;
  const label = (i: number): Labels => ({ src_ip: `10.244.${i >> 8}.${i & 255}`, dst_ip: '10.96.0.10', protocol: 'tcp' });
  for (let i = 0; i < 3000; i++) twin.add(label(i), 1000 + i, 1, 1);
  const whole = (await renderMetrics(m.registry)).toString();
  const chunks: string[] = [];
  await streamMetrics(m.registry, new TextWriter(16), (c) => void chunks.push(c.toString()), 4096);
  t.true(chunks.length > 10);
  t.is(chunks.join(''), whole);

  // Between chunks, as a collection could: pair 0 (already sent) expires and comes back.
  const seen: string[] = [];
  let churned = false;
  await streamMetrics(m.registry, new TextWriter(16), async (c) => {
    seen.push(c.toString());
    if (churned) return;
    churned = true;
    twin.remove(label(0));
    twin.add(label(0), 7, 1, 1);
  }, 4096);
  const text = seen.join('');
  for (const name of ['kubeadapt_connection_traffic_bytes_total', 'kubeadapt_connection_traffic_packets_total', 'kubeadapt_active_connections']) {
    const lines = text.split('\n').filter((l) => l.startsWith(`${name}{src_ip="10.244.0.0",`));
    t.is(lines.length, 1, `${name}: ${lines.join(' | ')}`);
  }
  t.is(twin.table.size, 3000);
  // The revived pair keeps its row; prom-client appends it: the same lines, in another order.
  const sorted = (x: string) => x.split('\n').sort().join('\n');
  t.is(sorted((await renderMetrics(m.registry)).toString()), sorted(await twin.expected()), 'after the scrape the table matches prom-client again');
});
