// Small statistics and formatting helpers shared by the benchmark sections.

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  if (values.length === 0) throw new Error('spread() of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
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

export interface Target {
  name: string;
  /** The measured figure the target is about (a ratio or an absolute value). */
  value: number;
  limit: number;
  unit: string;
  met: boolean;
}

export function atMost(name: string, value: number, limit: number, unit = 'x'): Target {
  return { name, value: round(value, 3), limit, unit, met: value <= limit };
}

export function atLeast(name: string, value: number, limit: number, unit = 'x'): Target {
  return { name, value: round(value, 3), limit, unit, met: value >= limit };
}
