// kubeadapt_workload_traffic_{bytes,packets}_total as views of the
// WorkloadTable, registered in the agent's Registry like the pair series
// (pair-series.ts): the exposition finds renderRows()/maxBytes() and writes
// their lines straight from the table.
import type { WorkloadTable } from '../cost/workload-table.js';
import type { MetricDefinition } from './definitions.js';
import type { TextWriter } from './text-writer.js';

export class WorkloadSeries {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter';
  readonly aggregator = 'sum';

  constructor(
    def: MetricDefinition,
    private readonly table: WorkloadTable,
    private readonly column: 'bytes' | 'packets',
  ) {
    if (def.type !== 'counter') throw new Error(`${def.name}: a workload series is a counter`);
    this.name = def.name;
    this.help = def.help;
    this.type = def.type;
  }

  async get() {
    const t = this.table;
    const values = [];
    for (let row = 0; row < t.end; row++) if (t.live(row)) values.push({ value: t[this.column][row]!, labels: t.labelsOf(row) });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Counters of what this process attributed: nothing resets them but a restart. */
  reset(): void {}

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
      const l = t.labels[row];
      if (l === undefined) continue;
      w.reserve(this.name.length + l.length * 3 + 26);
      w.byte(10);
      w.ascii(this.name);
      if (t.ascii[row]) w.ascii(l);
      else w.string(l);
      w.byte(32);
      w.number(col[row]!);
    }
    return row;
  }

  end(): number {
    return this.table.end;
  }
}
