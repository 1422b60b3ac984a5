// A strict reader of the Prometheus text exposition format, version 0.0.4,
// written from the specification
// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format),
// not from any library's output. It throws on the first violation, naming the
// line; what it returns is decoded (escapes undone), so tests compare values.
//
// Checked: line kinds (HELP, TYPE, other comments, blank, sample); metric and
// label name syntax; label values quoted with only \\, \" and \n escapes;
// docstring escapes (only \\ and \n); sample values as Go's ParseFloat reads
// them (NaN, +Inf, -Inf in any case) and an optional integer timestamp; at most
// one HELP and one TYPE per family, TYPE before the family's first sample;
// all lines of a family in one block; no series (name and label set) twice;
// a line feed at the end.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function unescape(text: string, allowed: string, where: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = text[++i];
    if (n === undefined || !allowed.includes(n)) throw new Error(`${where}: invalid escape \\${n ?? ''}`);
    out += n === 'n' ? '\n' : n;
  }
  return out;
}

/** As Go's strconv.ParseFloat, which Prometheus uses: NaN and Inf in any case, Inf signed. */
function parseValue(text: string, where: string): number {
  if (/^nan$/i.test(text)) return NaN;
  const inf = /^([+-]?)(inf|infinity)$/i.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (!FLOAT.test(text)) throw new Error(`${where}: value ${JSON.stringify(text)} is not a float`);
  return Number(text);
}

/** The family a sample belongs to: a histogram's or summary's _bucket, _sum, _count lines are its own. */
function familyOf(sample: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const base = sample.slice(0, -suffix.length);
    const t = types.get(base);
    if (t === 'histogram' || (t === 'summary' && suffix !== '_bucket')) return base;
  }
  return sample;
}

function parseSample(line: string, where: string): Sample & { key: string } {
  const m = /^([^\s{]+)(\{)?/.exec(line)!;
  const name = m[1]!;
  if (!METRIC_NAME.test(name)) throw new Error(`${where}: invalid metric name ${JSON.stringify(name)}`);
  let i = name.length;
  const labels: Record<string, string> = {};
  if (m[2]) {
    i++;
    for (;;) {
      if (line[i] === '}') {
        i++;
        break;
      }
      const ln = /^([^=\s]+)="/.exec(line.slice(i));
      if (!ln) throw new Error(`${where}: expected label="value" at column ${i}`);
      const label = ln[1]!;
      if (!LABEL_NAME.test(label)) throw new Error(`${where}: invalid label name ${JSON.stringify(label)}`);
      if (label in labels) throw new Error(`${where}: label ${label} twice`);
      i += ln[0].length;
      let raw = '';
      for (; i < line.length && line[i] !== '"'; i++) {
        raw += line[i];
        if (line[i] === '\\') raw += line[++i] ?? '';
      }
      if (line[i] !== '"') throw new Error(`${where}: unterminated label value`);
      i++;
      labels[label] = unescape(raw, '\\"n', where);
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${where}: expected , or } after label ${label}`);
    }
  }
  const rest = line.slice(i);
  const parts = rest.trim().split(/[ \t]+/);
  if (!/^[ \t]/.test(rest) || parts.length < 1 || parts.length > 2) throw new Error(`${where}: expected a value and an optional timestamp after the labels`);
  const value = parseValue(parts[0]!, where);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: timestamp ${parts[1]} is not an integer`);
  const key = `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
  return { name, labels, value, key };
}

export function parseExposition(text: string): Family[] {
  if (text.length && !text.endsWith('\n')) throw new Error('the text does not end with a line feed');
  const families = new Map<string, Family>();
  const types = new Map<string, string>();
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: string | undefined;
  const enter = (name: string, where: string) => {
    if (current === name) return;
    if (closed.has(name)) throw new Error(`${where}: family ${name} continues after another family: a family is one block`);
    if (current !== undefined) closed.add(current);
    current = name;
    if (!families.has(name)) families.set(name, { name, samples: [] });
  };
  const lines = text.split('\n');
  lines.pop();
  for (const [n, line] of lines.entries()) {
    const where = `line ${n + 1} ${JSON.stringify(line.length > 80 ? line.slice(0, 80) + '...' : line)}`;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t](.*))?$/.exec(line);
      if (!m) continue; // any other comment
      const [, kind, name, rest = ''] = m as unknown as [string, string, string, string | undefined];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: invalid metric name ${JSON.stringify(name)}`);
      enter(name, where);
      const f = families.get(name)!;
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        f.help = unescape(rest, '\\n', where);
      } else {
        if (f.type !== undefined) throw new Error(`${where}: second TYPE for ${name}`);
        if (f.samples.length) throw new Error(`${where}: TYPE for ${name} after its first sample`);
        if (!TYPES.has(rest.trim())) throw new Error(`${where}: unknown type ${JSON.stringify(rest)}`);
        f.type = rest.trim();
        types.set(name, f.type);
      }
      continue;
    }
    const s = parseSample(line, where);
    enter(familyOf(s.name, types), where);
    if (series.has(s.key)) throw new Error(`${where}: series ${s.key} twice`);
    series.add(s.key);
    families.get(current!)!.samples.push({ name: s.name, labels: s.labels, value: s.value });
  }
  return [...families.values()];
}
