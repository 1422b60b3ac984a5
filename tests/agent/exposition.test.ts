// /metrics (agent/src/metrics/exposition.ts) against the Prometheus text
// exposition format's specification, read by tests/helpers/exposition-format.ts:
// HELP and TYPE lines, escapes of backslash, double quote and line feed, each
// family one block, no series twice, scrape after scrape and streamed in
// chunks. The pair families are the agent's own rendering; prom-client renders
// only the agent's other metrics, through its public Registry.metrics().
import test from 'ava';
import { Registry } from 'prom-client';
import { createMetrics } from '../../agent/src/metrics/registry.js';
import { escapeHelp, escapeLabelValue, familyHeader, renderMetrics, streamMetrics } from '../../agent/src/metrics/exposition.js';
import { PairSeries } from '../../agent/src/metrics/pair-series.js';
import { PairTable } from '../../agent/src/collector/pair-table.js';
import { METRICS } from '../../agent/src/metrics/definitions.js';
import { TextWriter } from '../../agent/src/metrics/text-writer.js';
import { Twin, type Labels } from '../../bench/pair-twin.js';
import { encodePairKey } from '../../agent/src/collector/ledger.js';
import { parseExposition, type Family } from '../helpers/exposition-format.js';

const pairs: Labels[] = Array.from({ length: 50 }, (_, i) => ({ src_ip: `10.0.${i}.1`, dst_ip: i % 2 ? `fd00::${i.toString(16)}` : '10.96.0.10', protocol: i % 3 ? 'tcp' : 'udp' }));
for (const l of pairs) if (l.dst_ip.includes(':')) l.src_ip = `fd00:10:244::${l.src_ip.split('.')[2]}`;
const PAIR_NAMES: string[] = [METRICS.trafficBytes.name, METRICS.trafficPackets.name, METRICS.activeConnections.name];

const text = async (m: ReturnType<typeof createMetrics>) => (await renderMetrics(m)).toString();
const family = (fs: Family[], name: string) => fs.find((f) => f.name === name)!;
const byPair = (f: Family) => Object.fromEntries(f.samples.map((s) => [`${s.labels.src_ip}|${s.labels.dst_ip}|${s.labels.protocol}`, s.value]));

test('the format reader refuses what the specification forbids', (t) => {
  const bad: [string, RegExp][] = [
    ['a 1\nb 1\na{x="1"} 2\n', /family a continues after another family/],
    ['a{x="1"} 1\na{x="1"} 2\n', /series a\{x="1"\} twice/],
    ['a{x="q"q"} 1\n', /expected , or \}/],
    ['a{x="tab\\t"} 1\n', /invalid escape \\t/],
    ['# HELP a one\n# HELP a two\n', /second HELP for a/],
    ['a 1\n# TYPE a counter\n', /TYPE for a after its first sample/],
    ['# HELP a back\\"slash\n', /invalid escape \\"/],
    ['a one\n', /not a float/],
    ['a 1', /does not end with a line feed/],
    ['1a 1\n', /invalid metric name/],
  ];
  for (const [input, err] of bad) t.throws(() => parseExposition(input), { message: err }, JSON.stringify(input));
  t.deepEqual(parseExposition('# HELP h_total x\\\\y\\nz\n# TYPE h_total counter\nh_total{l="a\\"b\\\\c\\nd"} +Inf\n\nx_bucket{le="1"} 1\n'), [
    { name: 'h_total', help: 'x\\y\nz', type: 'counter', samples: [{ name: 'h_total', labels: { l: 'a"b\\c\nd' }, value: Infinity }] },
    { name: 'x_bucket', samples: [{ name: 'x_bucket', labels: { le: '1' }, value: 1 }] },
  ]);
});

test('escapes: HELP escapes backslash and line feed, label values also the double quote', (t) => {
  t.is(escapeHelp('a\\b\nc"d'), 'a\\\\b\\nc"d');
  t.is(escapeLabelValue('a\\b\nc"d'), 'a\\\\b\\nc\\"d');
  t.is(familyHeader({ name: 'x_total', help: 'one\ntwo \\ three', type: 'counter' }), '# HELP x_total one\\ntwo \\\\ three\n# TYPE x_total counter');
});

test('every scrape is valid text format: each pair family one block with exactly the table\'s rows, the agent\'s own metrics after them', async (t) => {
  const twin = new Twin();
  const m = twin.m;
  t.deepEqual(m.registry.getMetricsAsArray().map((x) => x.name).filter((n) => PAIR_NAMES.includes(n)), [], 'the pair families are not prom-client metrics');
  const empty = parseExposition(await text(m));
  t.deepEqual(empty.slice(0, 3).map((f) => [f.name, f.type, f.samples.length]), [[PAIR_NAMES[0], 'counter', 0], [PAIR_NAMES[1], 'counter', 0], [PAIR_NAMES[2], 'gauge', 0]]);

  for (const [i, l] of pairs.entries()) twin.add(l, 2 ** 40 + i, i + 1, i % 4);
  twin.add(pairs[3]!, 2 ** 53 - 2 ** 40 - 5, 99_999_999, 100_000_000);
  m.collectionDuration.observe(0.013);
  m.collectionDuration.observe(3);
  // The agent's own label values may hold anything: prom-client escapes them, the reader undoes it.
  m.collectorErrors.inc({ type: 'quote " back\\slash \n newline ü' }, 2);
  m.mapUtilization.set({ map: 'connection_flows' }, NaN);
  const first = await text(m);
  const fs = parseExposition(first);
  t.deepEqual(fs.map((f) => f.name).slice(0, 3), PAIR_NAMES, 'the pair families come first');
  for (const [name, key] of [[PAIR_NAMES[0]!, 'bytes'], [PAIR_NAMES[1]!, 'packets'], [PAIR_NAMES[2]!, 'conns']] as const) {
    const f = family(fs, name);
    t.is(f.help, Object.values(METRICS).find((d) => d.name === name)!.help);
    t.is(f.samples.length, 50);
    const want = Object.fromEntries(pairs.map((l, i) => {
      const v = key === 'bytes' ? 2 ** 40 + i : key === 'packets' ? i + 1 : i % 4;
      return [`${l.src_ip}|${l.dst_ip}|${l.protocol}`, v];
    }));
    const p3 = `${pairs[3]!.src_ip}|${pairs[3]!.dst_ip}|${pairs[3]!.protocol}`;
    want[p3] = key === 'bytes' ? 2 ** 53 - 2 : key === 'packets' ? 4 + 99_999_999 : 100_000_000;
    t.deepEqual(byPair(f), want, name);
  }
  t.deepEqual(family(fs, METRICS.collectorErrors.name).samples, [{ name: METRICS.collectorErrors.name, labels: { type: 'quote " back\\slash \n newline ü' }, value: 2 }]);
  t.true(Number.isNaN(family(fs, METRICS.mapUtilization.name).samples[0]!.value));
  t.deepEqual(family(fs, METRICS.collectionDuration.name).samples.map((s) => s.name).filter((n, i, a) => a.indexOf(n) === i),
    [`${METRICS.collectionDuration.name}_bucket`, `${METRICS.collectionDuration.name}_sum`, `${METRICS.collectionDuration.name}_count`]);
  // prom-client's own text for its metrics, unchanged after the pair families.
  t.true(first.endsWith(`\n\n${await m.registry.metrics()}`));
  // A second reference: prom-client instruments holding the same pairs render the same bytes.
  t.is(first, await twin.expected());

  // Values move, series go, rows are reused.
  twin.add(pairs[1]!, 5, 1, 9);
  twin.remove(pairs[2]!);
  twin.add({ src_ip: '10.244.9.9', dst_ip: '10.244.8.8', protocol: 'udp' }, 7, 1, 1);
  const second = parseExposition(await text(m));
  const bytes = byPair(family(second, PAIR_NAMES[0]!));
  t.is(Object.keys(bytes).length, 50);
  t.false('10.0.2.1|10.96.0.10|udp' in bytes);
  t.is(bytes['10.244.9.9|10.244.8.8|udp'], 7);
  t.is(bytes[`${pairs[1]!.src_ip}|${pairs[1]!.dst_ip}|${pairs[1]!.protocol}`], 2 ** 40 + 1 + 5);
});

test('a pair family\'s HELP is escaped; without connection tracking the gauge has its header and no series', async (t) => {
  const table = new PairTable();
  const def = { ...METRICS.trafficBytes, name: 'x_bytes_total', help: 'back\\slash and\nnewline' };
  const f = new PairSeries(def, table, 'bytes');
  const registry = new Registry();
  const row = table.add(encodePairKey('10.0.0.1', '10.0.0.2', 'tcp'), 0);
  table.bytes[row] = 12;
  const body = (await renderMetrics({ registry, pairFamilies: [f] })).toString();
  t.is(body, '# HELP x_bytes_total back\\\\slash and\\nnewline\n# TYPE x_bytes_total counter\nx_bytes_total{src_ip="10.0.0.1",dst_ip="10.0.0.2",protocol="tcp"} 12\n');
  t.deepEqual(parseExposition(body)[0]!.help, 'back\\slash and\nnewline');

  const twin = new Twin();
  const m = twin.m;
  twin.add(pairs[0]!, 10, 1, 1);
  twin.table.trackConnections = false;
  const out = await text(m);
  t.regex(out, /# TYPE kubeadapt_active_connections gauge\n\n/);
  t.deepEqual(family(parseExposition(out), METRICS.activeConnections.name).samples, []);
});

test('a registry in another format is refused, not mixed into the Prometheus text', async (t) => {
  const m = createMetrics(new PairTable());
  const openMetrics = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  await t.throwsAsync(renderMetrics({ registry: openMetrics as unknown as Registry, pairFamilies: m.pairFamilies }), { message: /renders application\/openmetrics-text.*not the Prometheus text format/ });
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
  const whole = await text(m);
  const chunks: string[] = [];
  await streamMetrics(m, new TextWriter(16), (c) => void chunks.push(c.toString()), 4096);
  t.true(chunks.length > 10);
  t.is(chunks.join(''), whole);

  // Between chunks, as a collection could: pair 0 (already sent) expires and comes back.
  const seen: string[] = [];
  let churned = false;
  await streamMetrics(m, new TextWriter(16), async (c) => {
    seen.push(c.toString());
    if (churned) return;
    churned = true;
    twin.remove(label(0));
    twin.add(label(0), 7, 1, 1);
  }, 4096);
  // Valid text: in particular no series twice.
  const fs = parseExposition(seen.join(''));
  for (const name of PAIR_NAMES) {
    t.is(family(fs, name).samples.filter((s) => s.labels.src_ip === '10.244.0.0').length, 1, name);
    t.is(family(fs, name).samples.length, 3000, name);
  }
  t.is(twin.table.size, 3000);
  // The revived pair keeps its row; prom-client appends it: the same lines, in another order.
  const sorted = (x: string) => x.split('\n').sort().join('\n');
  t.is(sorted(await text(m)), sorted(await twin.expected()), 'after the scrape the table matches prom-client again');
});
