// The three per-pair metrics (bytes, packets, active connections) as views of
// the pair ledger's table (read only: PairView), rendered by metrics/exposition.ts straight from the table's
// columns. They are not prom-client metrics and are not in its Registry:
// prom-client's Counter would keep an object, a label hash string and a
// labels object per series, three times per pair, and format every label set
// on every scrape. The table writes each row's label text from its key's
// addresses and protocol name: none of them holds a character the format
// escapes (backslash, double quote, line feed).
import { MAX_LABEL_TEXT, type PairColumn, type PairLabels, type PairView } from '../collector/pair-table.js';
import type { MetricDefinition } from './definitions.js';
import type { PairFamily } from './exposition.js';
import type { TextWriter } from './text-writer.js';

export type { PairColumn };

export class PairSeries implements PairFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  /** `\n<name>`, copied whole into each line. */
  private readonly lineStart: Buffer;

  constructor(
    def: MetricDefinition,
    private readonly table: PairView,
    private readonly column: PairColumn,
  ) {
    if (def.type === 'histogram') throw new Error(`${def.name}: a pair series is a counter or a gauge`);
    this.name = def.name;
    this.help = def.help;
    this.type = def.type;
    this.lineStart = Buffer.from(`\n${def.name}`, 'latin1');
  }

  private shown(): boolean {
    return this.column !== 'connections' || this.table.trackConnections;
  }

  /** The live rows as {value, labels}, for tests and tools (the exposition does not use it). */
  values(): { value: number; labels: PairLabels }[] {
    const t = this.table;
    const col = t.column(this.column);
    const out = [];
    if (this.shown()) {
      for (let row = 0; row < t.end; row++) if (t.live(row)) out.push({ value: col[row]!, labels: t.labelsOf(row) });
    }
    return out;
  }

  /** Upper bound of the bytes renderRows() writes for the whole table. */
  maxBytes(): number {
    return this.shown() ? this.table.end * this.maxLineBytes() : 0;
  }

  private maxLineBytes(): number {
    return this.name.length + MAX_LABEL_TEXT + 26;
  }

  beginRead(): void {
    this.table.beginRead();
  }

  endRead(): void {
    this.table.endRead();
  }

  /**
   * `\n<name>{labels} <value>` per live row from `from`, until the writer holds
   * `until` bytes; returns the next row (table end: done). The table may have
   * changed since the previous call: rows are read afresh.
   */
  renderRows(w: TextWriter, from: number, until: number): number {
    const t = this.table;
    if (!this.shown()) return t.end;
    const col = t.column(this.column);
    const line = this.maxLineBytes();
    let row = from;
    for (; row < t.end && w.length < until; row++) {
      if (!t.live(row)) continue;
      w.reserve(line);
      w.bytes(this.lineStart);
      w.length = t.writeLabels(row, w.buffer, w.length);
      w.byte(32);
      w.number(col[row]!);
    }
    return row;
  }

  end(): number {
    return this.table.end;
  }
}
