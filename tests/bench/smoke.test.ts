// Runs the whole benchmark harness in its tiny mode, so it cannot rot: every
// section must run against the real addon, kernel, agent and iperf3 and
// produce well-formed results. The figures themselves are not asserted (a
// benchmark is not a timed test); the counts the harness checks are.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const PROJECT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const isRoot = process.getuid?.() === 0;

(isRoot ? test : test.skip)('npm run bench -- --quick runs every section and writes results', async (t) => {
  t.timeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'results.json');
  const { stdout } = await promisify(execFile)(join(PROJECT, 'node_modules/.bin/tsx'), [join(PROJECT, 'bench/run.ts'), '--quick', `--out=${out}`], {
    cwd: PROJECT, maxBuffer: 16 * 1024 * 1024,
  }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`npm run bench -- --quick failed: ${err.stderr?.trim().split('\n').slice(-15).join('\n') ?? err.message}`);
  });
  const r = JSON.parse(readFileSync(out, 'utf8'));
  t.true(r.quick);
  t.deepEqual(r.perpacket.map((k: { kind: string }) => k.kind), ['ipv4-tcp-64B', 'ipv4-udp-512B', 'ipv6-tcp-128B', 'ipv6-udp-128B', 'vlan-ipv4-udp-128B']);
  for (const k of r.perpacket) t.true(k.hot.ours.median > 0 && k.insert.ours.median > 0, k.kind);
  // 1000 synthetic connections, 10 per pair: the harness checked every byte against the C floor.
  t.deepEqual(r.drain.map((d: { flows: number; pairs: number }) => [d.flows, d.pairs]), [[1000, 100]]);
  t.deepEqual(r.exposition.map((e: { pairs: number; lines: number }) => [e.pairs, e.lines]), [[100, 300]]);
  t.deepEqual(r.footprint.scenarios.map((s: { activePairs: number }) => s.activePairs), [0, 100]);
  t.true(r.footprint.bpfDefault.maps.some((m: { name: string; maxEntries: number }) => m.name === 'connection_flows' && m.maxEntries === 65536));
  t.deepEqual(r.throughput.map((c: { name: string }) => c.name), ['tcp-offloads-on', 'udp-64B-offloads-off']);
  for (const c of r.throughput) t.true(c.with.bitsPerSecond.median > 0 && c.without.bitsPerSecond.median > 0, c.name);
  t.true(r.targets.length >= 9, 'every target has a verdict');
  t.regex(stdout, /Targets\n/);
});

if (!isRoot) test('bench smoke test skipped: it loads BPF programs and makes network namespaces, which needs root', (t) => t.pass());
