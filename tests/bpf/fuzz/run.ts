// One fuzz run: every category in turn from one seed, until a case count or a
// deadline, with the figures a run reports.
import type { TestingBpfObject } from '../../helpers/testing-addon.js';
import { CATEGORIES, EVERY, Rng, generate, type Category } from './generate.js';
import { Differential, type CategoryCounts } from './differential.js';
import type { Program } from './reference.js';

export interface RunOptions {
  seed: number;
  /** Stop after this many rounds (one generator call per category each)... */
  rounds?: number;
  /** ...or at this deadline (ms since the epoch), whichever comes first. */
  deadline?: number;
  categories?: readonly Category[];
  /** The program the frames run through (default tc_pod_egress). */
  program?: Program;
}

export interface RunResult {
  frames: number;
  seconds: number;
  framesPerSecond: number;
  counts: Map<Category, CategoryCounts>;
  diff: Differential;
}

export async function fuzz(bpf: TestingBpfObject, o: RunOptions): Promise<RunResult> {
  const diff = new Differential(bpf, undefined, o.program);
  const rng = new Rng(o.seed);
  const categories = o.categories ?? CATEGORIES;
  const rounds = o.rounds ?? Number.POSITIVE_INFINITY;
  const start = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) {
    if (o.deadline !== undefined && (round & 63) === 0 && Date.now() >= o.deadline) break;
    for (const category of categories) {
      if (round % (EVERY[category] ?? 1) !== 0) continue;
      for (const c of generate(category, rng)) await diff.add(c);
    }
  }
  await diff.flush();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { frames: diff.frames, seconds, framesPerSecond: diff.frames / seconds, counts: diff.counts, diff };
}

/** One line per category: cases, counted, refused and each ignored reason. */
export function formatCounts(counts: Map<Category, CategoryCounts>): string {
  const rows = [...counts].map(([cat, t]) => {
    const ign = Object.entries(t.ignored).filter(([, n]) => n > 0).map(([r, n]) => `${r.replace('ignored_', '')}=${n}`).join(' ');
    return `${cat.padEnd(12)} ${String(t.cases).padStart(9)} cases: counted=${t.counted} refused=${t.refused} ${ign}`;
  });
  return rows.join('\n');
}
