// `npm run bench`: every section, a table on stdout, bench/results.json.
//   --quick            tiny sizes (seconds; the smoke test runs this)
//   --only=a,b         sections: perpacket, contention, drain, exposition, footprint, throughput, service, cost
//   --out=path         where to write the JSON (default bench/results.json)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { DEFAULT_OBJECT_PATH } from '../agent/src/addon.js';
import { runDrain } from './drain.js';
import { runExposition } from './exposition.js';
import { runFootprint } from './footprint.js';
import { FLOOR_OBJECT, runPerPacket } from './perpacket.js';
import { runContention } from './contention.js';
import { SHIPPED_NODE_FLAGS } from './node-flags.js';
import { runThroughput } from './throughput.js';
import { runService } from './service.js';
import { runCost } from './cost.js';
import { report } from './report.js';

const SECTIONS = ['perpacket', 'contention', 'drain', 'exposition', 'footprint', 'throughput', 'service', 'cost'] as const;
type Section = (typeof SECTIONS)[number];

function parseArgs(argv: string[]) {
  let quick = false;
  let only: Section[] = [...SECTIONS];
  let out = new URL('./results.json', import.meta.url).pathname;
  for (const a of argv) {
    if (a === '--quick') quick = true;
    else if (a.startsWith('--only=')) {
      const names = a.slice(7).split(',');
      const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (bad.length) throw new Error(`--only: unknown section ${bad.join(', ')}; accepted: ${SECTIONS.join(', ')}`);
      only = names as Section[];
    } else if (a.startsWith('--out=')) out = a.slice(6);
    else throw new Error(`unknown argument ${a}; accepted: --quick, --only=${SECTIONS.join(',')}, --out=<path>`);
  }
  return { quick, only, out };
}

const FULL = {
  perpacket: { rounds: 11, repeat: 1_000_000, inserts: 3000 },
  contention: { rounds: 7, repeat: 2_000_000 },
  drain: { sizes: [10_000, 100_000, 1_000_000], rounds: 5, connectionsPerPair: 10 },
  exposition: { pairs: [10_000, 100_000], rounds: 5 },
  footprint: { pairs: [10_000, 100_000], intervalSeconds: 10, intervals: 3, rounds: 3, nodeOptions: SHIPPED_NODE_FLAGS.join(' '), compareNodeOptions: '' },
  throughput: { rounds: 7, maxRounds: 11, seconds: 2, intervalSeconds: 5 },
  service: { flows: 100_000, connectionsPerPair: 10, rounds: 15, repeat: 1_000_000 },
  cost: { pods: 10_000, nodes: 1_000, services: 1_000, pairs: 100_000, rounds: 5 },
};
const QUICK = {
  perpacket: { rounds: 1, repeat: 1000, inserts: 20 },
  contention: { rounds: 1, repeat: 1000 },
  drain: { sizes: [1000], rounds: 1, connectionsPerPair: 10 },
  exposition: { pairs: [100], rounds: 1 },
  footprint: { pairs: [100], intervalSeconds: 1, intervals: 1, rounds: 1, nodeOptions: SHIPPED_NODE_FLAGS.join(' ') },
  throughput: { rounds: 1, maxRounds: 1, seconds: 1, intervalSeconds: 1 },
  service: { flows: 1000, connectionsPerPair: 10, rounds: 1, repeat: 1000 },
  cost: { pods: 300, nodes: 10, services: 10, pairs: 1000, rounds: 1 },
};

function machine() {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const jit = readFileSync('/proc/sys/net/core/bpf_jit_enable', 'utf8').trim();
  return {
    kernel: execFileSync('uname', ['-r']).toString().trim(),
    cpu: model,
    vcpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    bpfJit: jit === '1' ? 'on' : jit,
    node: process.version,
  };
}

async function main() {
  const { quick, only, out } = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the benchmark loads BPF programs and makes network namespaces: run it as root');
  for (const f of [DEFAULT_OBJECT_PATH]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first`);
  execFileSync('make', ['-s', '-C', new URL('.', import.meta.url).pathname], { stdio: 'inherit' });
  if (!existsSync(FLOOR_OBJECT)) throw new Error(`${FLOOR_OBJECT} was not built`);
  const p = quick ? QUICK : FULL;
  const started = Date.now();
  const results: Record<string, unknown> = { date: new Date().toISOString(), quick, machine: machine(), parameters: p };
  const timings: Record<string, number> = {};
  const step = async <T>(name: Section, fn: () => Promise<T>) => {
    if (!only.includes(name)) return;
    const t = Date.now();
    process.stderr.write(`bench: ${name}...\n`);
    results[name] = await fn();
    timings[name] = (Date.now() - t) / 1000;
  };
  await step('perpacket', () => runPerPacket(p.perpacket));
  await step('contention', () => runContention(p.contention));
  await step('drain', () => runDrain(p.drain));
  await step('exposition', () => runExposition(p.exposition));
  await step('footprint', () => runFootprint(p.footprint));
  await step('throughput', () => runThroughput(p.throughput));
  await step('service', () => runService(p.service));
  await step('cost', () => runCost(p.cost));
  results.secondsPerSection = timings;
  results.seconds = (Date.now() - started) / 1000;
  const { text, targets } = report(results);
  results.targets = targets;
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${text}\n\nwrote ${out} in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
