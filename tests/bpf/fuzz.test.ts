// The seeded differential run of the packet parser (tests/bpf/fuzz): a fixed
// seed, every category, each frame's outcome in tc_pod_egress and
// tc_host_egress compared with the reference parser's. `npm run fuzz` is the long run with any seed.
import test from 'ava';
import { openObject } from './harness.js';
import { CATEGORIES } from './fuzz/generate.js';
import { formatCounts, fuzz } from './fuzz/run.js';

const SEED = 0x5eed;
const ROUNDS = 12_000;

// The uplink's program (host traffic counted, a locally sent packet) parses the
// same way and skips what another device counted: fewer rounds, same generator.
for (const [program, rounds] of [['tc_pod_egress', ROUNDS], ['tc_host_egress', ROUNDS / 2]] as const) {
  test(`differential fuzz of ${program}, seed ${SEED}: every frame counted, ignored or skipped exactly as the reference parser says, verdict always TC_ACT_UNSPEC`, async (t) => {
    const bpf = openObject(t, { maxFlows: 4096, countHostSystemTraffic: program === 'tc_host_egress' });
    const r = await fuzz(bpf, { seed: SEED, rounds, program });
    t.log(`${r.frames} frames in ${r.seconds.toFixed(1)} s: ${Math.round(r.framesPerSecond)} frames/s`);
    t.log(`\n${formatCounts(r.counts)}`);
    t.deepEqual(r.diff.disagreements.slice(0, 5), [], `${r.diff.disagreements.length} disagreements (npm run fuzz -- --program ${program} --seed ${SEED} minimizes them)`);
    // The run must reach every category and every outcome, or a generator change could hollow it out unnoticed.
    t.deepEqual([...r.counts.keys()].sort(), [...CATEGORIES].sort());
    for (const [category, c] of r.counts) t.true(c.cases >= rounds / 8, `${category}: ${c.cases} cases`);
    const all = [...r.counts.values()];
    const sum = (f: (c: (typeof all)[number]) => number) => all.reduce((s, c) => s + f(c), 0);
    t.true(sum((c) => c.counted) > rounds / 2);
    t.true(sum((c) => c.refused) > rounds / 12);
    const reasons = ['ignored_non_ip', 'ignored_other_l4', 'ignored_truncated', 'ignored_ext_limit', ...(program === 'tc_host_egress' ? ['skipped_encap'] as const : [])] as const;
    for (const reason of reasons) t.true(sum((c) => c.ignored[reason]) > rounds / 12, `${reason}: ${sum((c) => c.ignored[reason])}`);
    if (program === 'tc_pod_egress') t.is(sum((c) => c.ignored.skipped_encap), 0, 'a pod veth skips nothing');
  });
}
