// The seeded differential run of the packet parser (tests/bpf/fuzz): a fixed
// seed, every category, each frame's outcome in tc_pod_egress compared with the
// reference parser's. `npm run fuzz` is the long run with any seed.
import test from 'ava';
import { openObject } from './harness.js';
import { CATEGORIES } from './fuzz/generate.js';
import { formatCounts, fuzz } from './fuzz/run.js';

const SEED = 0x5eed;
const ROUNDS = 12_000;

test(`differential fuzz, seed ${SEED}: every frame counted or ignored exactly as the reference parser says, verdict always TC_ACT_UNSPEC`, async (t) => {
  const bpf = openObject(t, { maxFlows: 4096 });
  const r = await fuzz(bpf, { seed: SEED, rounds: ROUNDS });
  t.log(`${r.frames} frames in ${r.seconds.toFixed(1)} s: ${Math.round(r.framesPerSecond)} frames/s`);
  t.log(`\n${formatCounts(r.counts)}`);
  t.deepEqual(r.diff.disagreements.slice(0, 5), [], `${r.diff.disagreements.length} disagreements (npm run fuzz -- --seed ${SEED} minimizes them)`);
  // The run must reach every category and every outcome, or a generator change could hollow it out unnoticed.
  t.deepEqual([...r.counts.keys()].sort(), [...CATEGORIES].sort());
  for (const [category, c] of r.counts) t.true(c.cases >= ROUNDS / 8, `${category}: ${c.cases} cases`);
  const all = [...r.counts.values()];
  const sum = (f: (c: (typeof all)[number]) => number) => all.reduce((s, c) => s + f(c), 0);
  t.true(sum((c) => c.counted) > 10_000);
  t.true(sum((c) => c.refused) > 1_000);
  for (const reason of ['ignored_non_ip', 'ignored_other_l4', 'ignored_truncated', 'ignored_ext_limit'] as const) {
    t.true(sum((c) => c.ignored[reason]) > 1_000, reason);
  }
});
