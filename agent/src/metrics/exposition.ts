// Renders a prom-client Registry in the Prometheus text format, byte for byte
// as Registry.metrics() does. The per-pair series come from the pair table
// (metrics/pair-series.ts) written straight into the response's bytes; the
// agent's other metrics (a few dozen series) stay prom-client instruments,
// whose value maps are walked in place with each label set's text built once
// (prom-client formats every label set on every scrape and copies every
// metric's values into a new array).
import { Registry } from './prom.js';
import { TextWriter } from './text-writer.js';

interface Value {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
  sharedLabels?: Record<string, string | number>;
}

// A label set's `{a="x",b="y"}`, kept on the label object itself: prom-client
// keeps the caller's object for the series' lifetime, so the text is built
// once per series (a symbol: invisible to Object.keys/entries, which
// prom-client uses).
const LABEL_TEXT = Symbol('exposition label text');
const NEEDS_ESCAPE = /[\\\n"]/;

function escapeString(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(v: string | number): string | number {
  if (typeof v !== 'string' || !NEEDS_ESCAPE.test(v)) return v;
  return escapeString(v).replace(/"/g, '\\"');
}

function formatLabels(labels: Record<string, string | number>, exclude?: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const name in labels) {
    if (!Object.prototype.hasOwnProperty.call(labels, name)) continue;
    if (exclude && Object.prototype.hasOwnProperty.call(exclude, name)) continue;
    out.push(`${name}="${escapeLabelValue(labels[name]!)}"`);
  }
  return out;
}

function labelsOf(v: Value): string {
  const labels = (v.labels ?? {}) as Record<string, string | number> & { [LABEL_TEXT]?: string };
  const shared = v.sharedLabels;
  if (shared && Object.keys(shared).length) {
    const parts = [...formatLabels(labels, shared), formatLabels(shared).join(',')].filter(Boolean);
    return parts.length ? `{${parts.join(',')}}` : '';
  }
  let text = labels[LABEL_TEXT];
  if (text === undefined) {
    const parts = formatLabels(labels);
    text = parts.length ? `{${parts.join(',')}}` : '';
    if (Object.isExtensible(labels)) labels[LABEL_TEXT] = text;
  }
  return text;
}

function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

interface Rendered {
  name: string;
  help: string;
  type: string;
  values?: Value[];
}

/** Counters and gauges keep `{value, labels}` per series in `hashMap`. */
function plainValues(metric: unknown): Record<string, Value> | undefined {
  const m = metric as { type?: string; hashMap?: unknown; collect?: unknown };
  if ((m.type !== 'counter' && m.type !== 'gauge') || typeof m.collect === 'function') return undefined;
  return m.hashMap && typeof m.hashMap === 'object' ? (m.hashMap as Record<string, Value>) : undefined;
}

interface PairRenderer {
  maxBytes(): number;
  renderInto(w: TextWriter): void;
}

function pairRenderer(metric: unknown): PairRenderer | undefined {
  const m = metric as Partial<PairRenderer>;
  return typeof m.renderInto === 'function' && typeof m.maxBytes === 'function' ? (m as PairRenderer) : undefined;
}

/**
 * Registry.metrics() for a registry in the Prometheus text format without
 * default labels (the agent's own registry), as the bytes of the response;
 * any other registry is handed to prom-client unchanged. The pair series
 * (metrics/pair-series.ts) write their lines from the pair table. The bytes
 * are a view of w's buffer: valid until w is used again.
 */
export async function renderMetrics(registry: Registry, w = new TextWriter()): Promise<Buffer> {
  const defaults = (registry as unknown as { _defaultLabels?: object })._defaultLabels;
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE || (defaults && Object.keys(defaults).length)) {
    return Buffer.from(await registry.metrics());
  }
  const metrics = registry.getMetricsAsArray();
  let estimate = 64 * 1024;
  for (const metric of metrics) estimate += pairRenderer(metric)?.maxBytes() ?? 0;
  w.reset();
  w.reserve(estimate);
  let first = true;
  for (const metric of metrics) {
    const pairs = pairRenderer(metric);
    const hashMap = pairs ? undefined : plainValues(metric);
    // get() runs collect() and, for histograms, builds bucket/sum/count values.
    const m = pairs || hashMap ? (metric as unknown as Rendered) : await (metric as unknown as { get(): Promise<Rendered> }).get();
    const name = escapeString(m.name);
    let out = `${first ? '' : '\n\n'}# HELP ${name} ${escapeString(m.help)}\n# TYPE ${name} ${m.type}`;
    first = false;
    if (pairs) {
      w.string(out);
      w.reserve(pairs.maxBytes());
      pairs.renderInto(w);
      continue;
    }
    if (hashMap) {
      for (const hash in hashMap) {
        const e = hashMap[hash]!;
        out += `\n${name}${labelsOf(e)} ${valueText(e.value)}`;
      }
    } else {
      for (const v of m.values ?? []) out += `\n${v.metricName ?? name}${labelsOf(v)} ${valueText(v.value)}`;
    }
    w.string(out);
  }
  w.string('\n');
  return w.result();
}
