// The workload family's series: one row per (source workload, destination
// workload, cost class), bytes and packets added as the ledger applies each
// pair's delta. Bounded by workloads and classes, not by addresses: rows are
// the (source workload, destination workload, class) that talked, however
// many pods and addresses each has (bench/ cost: 100k pairs, 79k rows in a
// stress case of 40 local workloads talking to 500 workloads in 3 zones).
import { COST_CLASSES, type CostClass } from './classes.js';

export const WORKLOAD_LABELS = ['src_namespace', 'src_workload', 'src_kind', 'dst_namespace', 'dst_workload', 'dst_kind', 'cost_class'] as const;
export type WorkloadLabels = Record<(typeof WORKLOAD_LABELS)[number], string>;

export interface Side {
  readonly namespace: string;
  readonly workload: string;
  readonly kind: string;
}

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** One side's three labels, `src_namespace="…",src_workload="…",src_kind="…"` (or dst_), escaped. */
export function sideLabelText(role: 'src' | 'dst', side: Side): string {
  return `${role}_namespace="${escape(side.namespace)}",${role}_workload="${escape(side.workload)}",${role}_kind="${escape(side.kind)}"`;
}

/** `{src_namespace="…",…,cost_class="…"}` in the definition's label order, from each side's sideLabelText(). */
export function workloadLabelText(src: string, dst: string, cls: CostClass): string {
  return `{${src},${dst},cost_class="${cls}"}`;
}

export class WorkloadTable {
  private readonly index = new Map<string, number>();
  private readonly freeRows: number[] = [];
  private readers = 0;
  private deadRows: number[] = [];
  /** `{…}` per row; undefined: free. */
  labels: (string | undefined)[] = [];
  /** The label text as UTF-8 bytes, copied whole into each scrape (a char-by-char copy of ~190-byte labels was most of a render). */
  labelBytes: (Buffer | undefined)[] = [];
  bytes: number[] = [];
  packets: number[] = [];
  lastActiveMs: number[] = [];

  get size(): number {
    return this.index.size;
  }

  get end(): number {
    return this.labels.length;
  }

  live(row: number): boolean {
    return this.labels[row] !== undefined;
  }

  add(src: Side, dst: Side, cls: CostClass, bytes: number, packets: number, nowMs: number): void {
    this.addText(workloadLabelText(sideLabelText('src', src), sideLabelText('dst', dst), cls), bytes, packets, nowMs);
  }

  /** Adds to the row of a label text (`{a="x",…}`, escaped, in the metric's label order). */
  addText(text: string, bytes: number, packets: number, nowMs: number): void {
    let row = this.index.get(text);
    if (row === undefined) {
      row = this.freeRows.pop() ?? this.labels.length;
      this.labels[row] = text;
      this.labelBytes[row] = Buffer.from(text, 'utf8');
      this.bytes[row] = 0;
      this.packets[row] = 0;
      this.index.set(text, row);
    }
    this.bytes[row]! += bytes;
    this.packets[row]! += packets;
    this.lastActiveMs[row] = nowMs;
  }

  /** Drops rows idle longer than ttlMs; returns how many. */
  expire(nowMs: number, ttlMs: number): number {
    let n = 0;
    for (let row = 0; row < this.labels.length; row++) {
      const l = this.labels[row];
      if (l === undefined || nowMs - this.lastActiveMs[row]! <= ttlMs) continue;
      this.index.delete(l);
      this.labels[row] = undefined;
      this.labelBytes[row] = undefined;
      if (this.readers > 0) this.deadRows.push(row);
      else this.freeRows.push(row);
      n++;
    }
    return n;
  }

  /** A scrape in progress keeps removed rows from being reused until it ends. */
  beginRead(): void {
    this.readers++;
  }

  endRead(): void {
    if (--this.readers > 0) return;
    this.freeRows.push(...this.deadRows);
    this.deadRows = [];
  }

  labelsOf(row: number): WorkloadLabels {
    const out: Record<string, string> = {};
    for (const m of this.labels[row]!.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    return out as WorkloadLabels;
  }

  /** Sum per cost class (tests, the start-up log). */
  byClass(): Record<CostClass, { bytes: number; packets: number }> {
    const out = Object.fromEntries(COST_CLASSES.map((c) => [c, { bytes: 0, packets: 0 }])) as Record<CostClass, { bytes: number; packets: number }>;
    for (let row = 0; row < this.labels.length; row++) {
      if (!this.live(row)) continue;
      const c = this.labelsOf(row).cost_class as CostClass;
      out[c].bytes += this.bytes[row]!;
      out[c].packets += this.packets[row]!;
    }
    return out;
  }
}
