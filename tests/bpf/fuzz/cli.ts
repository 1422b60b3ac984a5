// `npm run fuzz -- [--seed N] [--duration 120s] [--out FILE] [--program tc_host_egress]`: the long
// differential run of the packet parser. Each disagreement is minimized and
// written as one JSON line (category, hex frame, GSO fields, what the reference
// expected, what the program did), ready to become a unit test in tests/bpf.
import { appendFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_OBJECT_PATH } from '../../../agent/src/addon.js';
import { loadTestingAddon } from '../../helpers/testing-addon.js';
import { Differential, describe, describeObserved } from './differential.js';
import { referenceFor, type Program } from './reference.js';
import { formatCounts, fuzz } from './run.js';

function usage(msg: string): never {
  console.error(`fuzz: ${msg}\nusage: npm run fuzz -- [--seed N] [--duration 120s|5m] [--out disagreements.jsonl] [--max-report 20] [--program tc_pod_egress|tc_host_egress]`);
  process.exit(2);
}

const { values } = parseArgs({
  options: { seed: { type: 'string' }, duration: { type: 'string', default: '120s' }, out: { type: 'string', default: 'fuzz-disagreements.jsonl' }, 'max-report': { type: 'string', default: '20' }, program: { type: 'string', default: 'tc_pod_egress' } },
});
const seed = values.seed === undefined ? (Date.now() & 0x7fffffff) : Number(values.seed);
if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) usage(`--seed must be an integer 0..4294967295, got ${values.seed}`);
const m = /^(\d+)(s|m)?$/.exec(values.duration!);
if (!m) usage(`--duration must look like 90s or 5m, got ${values.duration}`);
const ms = Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000);
const maxReport = Number(values['max-report']);
if (values.program !== 'tc_pod_egress' && values.program !== 'tc_host_egress') usage(`--program must be tc_pod_egress or tc_host_egress, got ${values.program}`);
const program = values.program as Program;
const reference = referenceFor(program);

const addon = loadTestingAddon();
const bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: 4096, ringbufBytes: 1 << 16, countHostSystemTraffic: program === 'tc_host_egress' });
console.log(`[fuzz] ${program}, seed ${seed}, ${ms / 1000} s`);
try {
  const r = await fuzz(bpf, { seed, deadline: Date.now() + ms, program });
  console.log(formatCounts(r.counts));
  console.log(`[fuzz] ${r.frames} frames in ${r.seconds.toFixed(1)} s: ${Math.round(r.framesPerSecond)} frames/s, ${r.diff.disagreements.length} disagreements`);
  writeFileSync(values.out!, '');
  const seen = new Map<string, number>();
  for (const d of r.diff.disagreements) {
    const c = { category: d.category, frame: Buffer.from(d.frameHex, 'hex'), gso: d.gso };
    const sig = `${d.category}: ${Differential.signature(reference(c.frame, c.gso), await r.diff.observe(c))}`;
    const n = seen.get(sig) ?? 0;
    seen.set(sig, n + 1);
    if (n >= 3 || seen.size > maxReport) continue;
    const min = await r.diff.minimize(c);
    const line = {
      seed, signature: sig, category: d.category, frameHex: min.frame.toString('hex'), gso: min.gso,
      expected: describe(reference(min.frame, min.gso)), observed: describeObserved(await r.diff.observe(min)),
      original: { frameHex: d.frameHex, gso: d.gso, expected: d.expected, observed: d.observed },
    };
    appendFileSync(values.out!, JSON.stringify(line) + '\n');
  }
  for (const [sig, n] of seen) console.log(`  ${String(n).padStart(7)}  ${sig}`);
  if (seen.size) console.log(`[fuzz] minimized frames in ${values.out}`);
  process.exitCode = r.diff.disagreements.length ? 1 : 0;
} finally {
  bpf.close();
}
