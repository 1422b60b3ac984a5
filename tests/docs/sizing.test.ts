// docs/sizing.md's numbers, measured again: the flow maps' kernel memory per
// entry (bpftool's memlock), the ring buffer, pair_totals' capacity and the
// agent's own series count, from a real agent in its own network namespace.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { REPO } from './markdown.js';

const NS = `kapf-size-${process.pid}`;
const PIN = '/sys/fs/bpf/kapf-size';
const sizing = readFileSync(join(REPO, 'docs/sizing.md'), 'utf8');
const num = (s: string) => Number(s.replaceAll(',', ''));

interface MapInfo { name: string; max_entries: number; bytes_memlock: number }

interface Measured { maps: Record<string, MapInfo>; metrics: string }

/** Starts the agent, waits until ready, reads its pinned maps and /metrics, stops it; all in one namespace. */
function measure(): Measured {
  const maps = ['connection_flows', 'connection_flows_1', 'pair_totals', 'overflow_events'];
  const script = [
    'set -e', 'ip link set lo up', 'mount -t bpf bpf /sys/fs/bpf',
    `EBPF_BPF_PIN_PATH=${PIN} EBPF_METRICS_ADDRESS=127.0.0.1 EBPF_METRICS_PORT=9090 EBPF_COLLECTION_INTERVAL=1s EBPF_ON_SHUTDOWN=cleanup node agent/dist/main.js >/dev/null 2>&1 & P=$!`,
    'trap "kill -TERM $P 2>/dev/null; wait $P" EXIT',
    'i=0; until curl -sf -o /dev/null http://127.0.0.1:9090/health/ready; do i=$((i+1)); [ $i -lt 150 ] || exit 3; sleep 0.1; done',
    ...maps.map((m) => `echo "MAP ${m} $(bpftool -j map show pinned ${PIN}/${m})"`),
    'curl -sf http://127.0.0.1:9090/metrics',
  ].join('\n');
  execFileSync('ip', ['netns', 'add', NS]);
  try {
    const out = execFileSync('ip', ['netns', 'exec', NS, 'sh', '-c', script], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    const result: Measured = { maps: {}, metrics: '' };
    for (const line of out.split('\n')) {
      const m = /^MAP (\S+) (.*)$/.exec(line);
      if (m) result.maps[m[1]!] = JSON.parse(m[2]!) as MapInfo;
      else result.metrics += line + '\n';
    }
    return result;
  } finally {
    execFileSync('ip', ['netns', 'del', NS]);
  }
}

let measured: Measured;
test.before(() => {
  if (process.getuid?.() !== 0) throw new Error('measuring the maps loads BPF programs: run the tests as root');
  measured = measure();
});

test('flow map: kernel memory per entry as documented (within 1% on the documented kernel, 15% elsewhere)', (t) => {
  const doc = /\*\*(\d+) B per entry\*\*/.exec(sizing);
  const total = /2 × ([\d,]+) B = \*\*([\d.]+) MiB\*\*/.exec(sizing);
  const kernel = /measured with .* on kernel (\d+\.\d+)/s.exec(sizing)?.[1];
  t.truthy(doc && total && kernel, 'docs/sizing.md lost its measured numbers');
  for (const slot of ['connection_flows', 'connection_flows_1']) {
    const m = measured.maps[slot]!;
    t.is(m.max_entries, 65536, 'EBPF_MAX_FLOWS default');
    const perEntry = m.bytes_memlock / m.max_entries;
    t.log(`${slot}: ${m.bytes_memlock} B memlock, ${perEntry.toFixed(1)} B per entry (kernel ${release()})`);
    // memlock depends on the machine, not only on the kernel version (seen: 8,914,112 B
    // against the documented 8,914,048 B on the same 6.18): a documented bound, not equality.
    const bound = release().startsWith(`${kernel}.`) ? 0.01 : 0.15;
    t.true(Math.abs(m.bytes_memlock / num(total![1]!) - 1) <= bound, `${m.bytes_memlock} B is more than ${bound * 100}% from the documented ${total![1]} B`);
    t.true(Math.abs(perEntry / Number(doc![1]) - 1) <= bound, `${perEntry} B per entry is more than ${bound * 100}% from the documented ${doc![1]} B`);
  }
  t.is((2 * num(total![1]!) / 2 ** 20).toFixed(1), total![2]!);
});

test('ring buffer 1 MiB and pair_totals sized EBPF_MAX_PAIRS, as documented', (t) => {
  t.is(measured.maps.overflow_events!.max_entries, 2 ** 20);
  t.regex(sizing, /\| `overflow_events` \(ring buffer\) \| 1 MiB /);
  t.is(measured.maps.pair_totals!.max_entries, 131072);
  t.regex(sizing, /at the default `EBPF_MAX_PAIRS=131072`: 2\.0 MiB empty/);
});

test('the agent\'s own series: as many as docs/sizing.md says, before any traffic', (t) => {
  const documented = Number(/\| the agent's own metrics \| (\d+), fixed/.exec(sizing)?.[1]);
  const samples = measured.metrics.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  t.deepEqual(samples.filter((l) => /^kubeadapt_(connection_traffic_(bytes|packets)_total|active_connections)/.test(l)), [], 'no traffic in a fresh namespace');
  t.is(samples.length, documented, samples.join('\n'));
});
