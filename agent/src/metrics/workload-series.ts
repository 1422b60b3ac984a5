// kubeadapt_workload_traffic_{bytes,packets}_total (and the pair family with
// grouped destinations) as views of a WorkloadTable, rendered by
// metrics/exposition.ts like the pair series (pair-series.ts): straight from
// the table, not through prom-client.
import type { WorkloadTable } from '../cost/workload-table.js';
import type { MetricDefinition } from './definitions.js';
import type { PairFamily } from './exposition.js';
import type { TextWriter } from './text-writer.js';

export class WorkloadSeries implements PairFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter';
  /** `\n<name>`, copied whole into each line. */
  private readonly lineStart: Buffer;

  constructor(
    def: MetricDefinition,
    private readonly table: WorkloadTable,
    private readonly column: 'bytes' | 'packets',
  ) {
    if (def.type !== 'counter') throw new Error(`${def.name}: a workload series is a counter`);
    this.name = def.name;
    this.help = def.help;
    this.type = def.type;
    this.lineStart = Buffer.from(`\n${def.name}`, 'latin1');
  }

  /** The live rows as {value, labels}, for tests and tools (the exposition does not use it). */
  values(): { value: number; labels: Record<string, string> }[] {
    const t = this.table;
    const out = [];
    for (let row = 0; row < t.end; row++) if (t.live(row)) out.push({ value: t[this.column][row]!, labels: t.labelsOf(row) });
    return out;
  }

  maxBytes(): number {
    let n = 0;
    const t = this.table;
    for (let row = 0; row < t.end; row++) n += (t.labels[row]?.length ?? 0) * 3 + this.name.length + 26;
    return n;
  }

  beginRead(): void {
    this.table.beginRead();
  }

  endRead(): void {
    this.table.endRead();
  }

  renderRows(w: TextWriter, from: number, until: number): number {
    const t = this.table;
    const col = t[this.column];
    let row = from;
    for (; row < t.end && w.length < until; row++) {
      const l = t.labelBytes[row];
      if (l === undefined) continue;
      w.reserve(this.name.length + l.length + 26);
      w.bytes(this.lineStart);
      w.bytes(l);
      w.byte(32);
      w.number(col[row]!);
    }
    return row;
  }

  end(): number {
    return this.table.end;
  }
}
