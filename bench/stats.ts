// Small statistics and formatting helpers shared by the benchmark sections.

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** First and third quartiles: the middle half of the rounds, what a verdict is read from. */
  q1: number;
  q3: number;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function spread(values: number[]): Spread {
  if (values.length === 0) throw new Error('spread() of no values');
  const s = [...values].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), min: s[0]!, max: s[s.length - 1]!, q1: quantile(s, 0.25), q3: quantile(s, 0.75) };
}

/** A spread of f(x) for a decreasing f (e.g. flows per second from seconds). */
export function mapSpreadDecreasing(s: Spread, f: (v: number) => number): Spread {
  return { median: f(s.median), min: f(s.max), max: f(s.min), q1: f(s.q3), q3: f(s.q1) };
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function fmtSpread(s: Spread, digits = 2, unit = ''): string {
  return `${round(s.median, digits)}${unit} [${round(s.min, digits)}-${round(s.max, digits)}]`;
}

/** A plain-text table: the first row is the header. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export type Verdict = 'met' | 'MISSED' | 'within noise' | `not judged: ${string}`;

export interface Target {
  name: string;
  /** The measured figure the target is about (a ratio or an absolute value): the median when measured in rounds. */
  value: number;
  /** The middle half of the rounds [q1, q3], when measured in rounds. */
  range?: [number, number];
  limit: number;
  unit: string;
  verdict: Verdict;
  met: boolean;
}

/**
 * A single measurement this close to its limit (relative) is within the noise
 * of this VM: repeated runs of the bench put the footprint figures ~2-4 % apart.
 */
export const SINGLE_VALUE_NOISE = 0.05;

// A target measured in rounds is met when the middle half of its rounds is on
// the right side of the limit, missed when it is all on the wrong side, and
// within noise when it straddles the limit: so the verdict holds from run to
// run where the figure itself does not.
function judge(name: string, value: number | Spread, limit: number, unit: string, ok: (v: number) => boolean): Target {
  if (typeof value === 'number') {
    const near = Math.abs(value - limit) <= Math.abs(limit) * SINGLE_VALUE_NOISE;
    const verdict: Verdict = near ? 'within noise' : ok(value) ? 'met' : 'MISSED';
    return { name, value: round(value, 3), limit, unit, verdict, met: verdict === 'met' };
  }
  return judgeInterval(name, value.median, [value.q1, value.q3], limit, unit, ok);
}

function judgeInterval(name: string, median: number, [lo, hi]: [number, number], limit: number, unit: string, ok: (v: number) => boolean): Target {
  const okLo = ok(lo);
  const okHi = ok(hi);
  const verdict: Verdict = okLo && okHi ? 'met' : !okLo && !okHi ? 'MISSED' : 'within noise';
  return { name, value: round(median, 3), range: [round(lo, 3), round(hi, 3)], limit, unit, verdict, met: verdict === 'met' };
}

export function atMost(name: string, value: number | Spread, limit: number, unit = 'x'): Target {
  return judge(name, value, limit, unit, (v) => v <= limit);
}

/** A target whose measurement cannot be trusted this run (the machine was busy): no verdict, and why. */
export function notJudged(name: string, value: Spread, limit: number, unit: string, why: string): Target {
  return { name, value: round(value.median, 3), range: [round(value.q1, 3), round(value.q3, 3)], limit, unit, verdict: `not judged: ${why}`, met: false };
}

/**
 * A distribution-free confidence interval of the median: the order statistics
 * [x(k), x(n+1-k)] with the largest k whose coverage (binomial, p = 1/2) is at
 * least `level`; [min, max] when no k reaches it. Unlike the middle half of
 * the rounds it says where the median is, not where one round falls, and it
 * narrows as rounds are added.
 */
export function medianInterval(values: number[], level = 0.9): [number, number] {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  // P(Binom(n, 1/2) <= j) for j = 0..n.
  const cdf: number[] = [];
  let c = 1, acc = 0;
  for (let j = 0; j <= n; j++) {
    acc += c / 2 ** n;
    cdf.push(acc);
    c = (c * (n - j)) / (j + 1);
  }
  let k = 1;
  while (k + 1 <= (n + 1) / 2 && 1 - 2 * cdf[k]! >= level) k++;
  return [s[k - 1]!, s[n - k]!];
}

/** A target judged on an interval of its median (medianInterval) instead of the middle half of its rounds. */
export function atMostInterval(name: string, median: number, interval: [number, number], limit: number, unit: string): Target {
  return judgeInterval(name, median, interval, limit, unit, (v) => v <= limit);
}

export function atLeast(name: string, value: number | Spread, limit: number, unit = 'x'): Target {
  return judge(name, value, limit, unit, (v) => v >= limit);
}
