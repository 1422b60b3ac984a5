// /metrics in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Two owners,
// one body:
//  - the per-pair families (bytes, packets, active connections) are rendered
//    here, whole, from the pair table (metrics/pair-series.ts): HELP and TYPE
//    once each, then every live row, one block per family. At 100k pairs that
//    is 300k lines (~30 MiB) streamed in chunks, which prom-client would hold
//    as objects and format on every scrape;
//  - the agent's own metrics (a few dozen series) are prom-client instruments
//    in the agent's Registry, rendered by its public Registry.metrics() and
//    appended after the pair families. Nothing here reads prom-client's
//    internals, so a prom-client release cannot change the pair series.
// Family names never repeat between the two: the pair families are not
// registered in the Registry (metrics/registry.ts).
import { Registry } from './prom.js';
import { TextWriter } from './text-writer.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What a pair family (metrics/pair-series.ts) offers the renderer. */
export interface PairFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  /** Upper bound of the bytes renderRows() writes for the whole table. */
  maxBytes(): number;
  beginRead(): void;
  endRead(): void;
  /** `\n<name>{labels} <value>` per live row from `from` until w holds `until` bytes; returns the next row. */
  renderRows(w: TextWriter, from: number, until: number): number;
  end(): number;
}

export interface MetricsSource {
  /** The agent's own metrics; Prometheus text format (prom-client's default content type). */
  readonly registry: Registry;
  /** Rendered first, in this order; none of their names is in the registry. */
  readonly pairFamilies: readonly PairFamily[];
}

/** HELP text: backslash and line feed escaped (the format's rule for docstrings). */
export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value: backslash, double quote and line feed escaped. */
export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `# HELP` and `# TYPE` of one family. */
export function familyHeader(f: { name: string; help: string; type: string }): string {
  return `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}`;
}

export type ChunkSink = (chunk: Buffer) => void | Promise<void>;

/**
 * The whole /metrics body as bytes handed to `write` in chunks of about
 * `chunkBytes`: the pair families, a blank line between families (the format
 * ignores empty lines), then the registry's text. A chunk is a view of w's
 * buffer, reused once `write`'s promise settles. The pair table may change
 * between chunks (a collection): rows are read afresh, and the table keeps a
 * row removed mid-scrape from being reused until endRead(), so no series
 * appears twice in one body.
 */
export async function streamMetrics(source: MetricsSource, w: TextWriter, write: ChunkSink, chunkBytes: number): Promise<void> {
  const { registry, pairFamilies } = source;
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) {
    throw new Error(`the metrics registry renders ${registry.contentType}, not the Prometheus text format the pair families are written in`);
  }
  w.reset();
  if (chunkBytes === Infinity) {
    let estimate = 64 * 1024;
    for (const f of pairFamilies) estimate += f.maxBytes();
    w.reserve(estimate);
  }
  const flush = async () => {
    await write(w.result());
    w.reset();
  };
  for (const f of pairFamilies) f.beginRead();
  try {
    for (const [i, f] of pairFamilies.entries()) {
      w.string(`${i ? '\n\n' : ''}${familyHeader(f)}`);
      for (let row = 0; row < f.end(); ) {
        row = f.renderRows(w, row, chunkBytes);
        if (w.length >= chunkBytes) await flush();
      }
    }
  } finally {
    for (const f of pairFamilies) f.endRead();
  }
  // Registry.metrics() ends with a line feed; an empty registry gives only that.
  const own = registry.getMetricsAsArray().length ? await registry.metrics() : '';
  if (pairFamilies.length) w.string(own ? '\n\n' : '\n');
  w.string(own);
  await flush();
}

/** The whole text at once, in one buffer (valid until w is used again). */
export async function renderMetrics(source: MetricsSource, w = new TextWriter()): Promise<Buffer> {
  let body: Buffer = Buffer.alloc(0);
  await streamMetrics(source, w, (chunk) => void (body = chunk), Infinity);
  return body;
}
