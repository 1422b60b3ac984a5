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
  beginRead(): void;
  endRead(): void;
  renderRows(w: TextWriter, from: number, until: number): number;
  end(): number;
}

function pairRenderer(metric: unknown): PairRenderer | undefined {
  const m = metric as Partial<PairRenderer>;
  return typeof m.renderRows === 'function' && typeof m.maxBytes === 'function' ? (m as PairRenderer) : undefined;
}

export type ChunkSink = (chunk: Buffer) => void | Promise<void>;

/**
 * Registry.metrics() for a registry in the Prometheus text format without
 * default labels (the agent's own registry), as bytes handed to `write` in
 * chunks of about `chunkBytes`; any other registry is handed to prom-client
 * unchanged. The pair series (metrics/pair-series.ts) write their lines from
 * the pair table. A chunk is a view of w's buffer, reused once `write`'s
 * promise settles: at 100k pairs the text is ~30 MiB, streamed through 1 MiB.
 */
export async function streamMetrics(registry: Registry, w: TextWriter, write: ChunkSink, chunkBytes: number): Promise<void> {
  const defaults = (registry as unknown as { _defaultLabels?: object })._defaultLabels;
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE || (defaults && Object.keys(defaults).length)) {
    await write(Buffer.from(await registry.metrics()));
    return;
  }
  const metrics = registry.getMetricsAsArray();
  const readers = metrics.map(pairRenderer).filter((p): p is PairRenderer => p !== undefined);
  w.reset();
  if (chunkBytes === Infinity) {
    let estimate = 64 * 1024;
    for (const p of readers) estimate += p.maxBytes();
    w.reserve(estimate);
  }
  const flush = async () => {
    await write(w.result());
    w.reset();
  };
  for (const p of readers) p.beginRead();
  try {
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
        for (let row = 0; row < pairs.end(); ) {
          row = pairs.renderRows(w, row, chunkBytes);
          if (w.length >= chunkBytes) await flush();
        }
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
      if (w.length >= chunkBytes) await flush();
    }
    w.string('\n');
    await flush();
  } finally {
    for (const p of readers) p.endRead();
  }
}

/** The whole text at once, in one buffer (valid until w is used again). */
export async function renderMetrics(registry: Registry, w = new TextWriter()): Promise<Buffer> {
  let body: Buffer = Buffer.alloc(0);
  await streamMetrics(registry, w, (chunk) => void (body = chunk), Infinity);
  return body;
}
