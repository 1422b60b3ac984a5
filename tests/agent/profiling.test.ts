// The profiling server of EBPF_ENABLE_PROFILING, in process: real CPU profiles
// and heap snapshots from node:inspector and node:v8.
import test from 'ava';
import { ProfilingServer, profilingAddress } from '../../agent/src/metrics/profiling.js';

test('cpu profile, heap snapshot, and a clear error for a bad duration', async (t) => {
  const server = new ProfilingServer();
  const port = await server.start(0, '127.0.0.1');
  t.teardown(() => server.stop());
  const base = `http://127.0.0.1:${port}`;

  const profile = await fetch(`${base}/debug/cpu-profile?seconds=1`);
  t.is(profile.status, 200);
  const body = (await profile.json()) as { nodes: unknown[]; startTime: number; endTime: number };
  t.true(body.nodes.length > 0);
  t.true(body.endTime - body.startTime >= 900_000, 'about a second of samples (microseconds)');

  const bad = await fetch(`${base}/debug/cpu-profile?seconds=0`);
  t.is(bad.status, 400);
  t.is(await bad.text(), 'invalid seconds="0": expected an integer from 1 to 120\n');

  const heap = await fetch(`${base}/debug/heap-snapshot`);
  t.is(heap.status, 200);
  t.true((await heap.text()).startsWith('{"snapshot":'));

  t.is((await fetch(`${base}/nope`)).status, 404);
});

test('the profiling server stays on loopback unless the metrics are', (t) => {
  t.is(profilingAddress('0.0.0.0'), '127.0.0.1');
  t.is(profilingAddress('10.0.0.5'), '127.0.0.1');
  t.is(profilingAddress('::1'), '::1');
  t.is(profilingAddress('127.0.0.1'), '127.0.0.1');
});
