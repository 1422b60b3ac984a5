// Builds the agent's metrics from the definitions, so names, help and labels
// have one source: the per-pair families are views of the pair table
// (pair-series.ts), rendered by metrics/exposition.ts; the rest are
// prom-client instruments in the agent's own Registry (never the global
// default), rendered by prom-client.
import { Counter, Gauge, Histogram, Registry } from './prom.js';
import { METRICS, type MetricDefinition, type MetricKey } from './definitions.js';
import type { PairColumn, PairView } from '../collector/pair-table.js';
import { PairSeries } from './pair-series.js';
import { WorkloadTable } from '../cost/workload-table.js';
import { WorkloadSeries } from './workload-series.js';

const PAIR_COLUMNS = { trafficBytes: 'bytes', trafficPackets: 'packets', activeConnections: 'connections' } as const satisfies Partial<Record<MetricKey, PairColumn>>;
type PairMetricKey = keyof typeof PAIR_COLUMNS;
const WORKLOAD_COLUMNS = { workloadBytes: 'bytes', workloadPackets: 'packets' } as const satisfies Partial<Record<MetricKey, 'bytes' | 'packets'>>;
type WorkloadMetricKey = keyof typeof WORKLOAD_COLUMNS;

type Labels<K extends MetricKey> = (typeof METRICS)[K]['labels'][number];
type Instrument<K extends MetricKey> = K extends PairMetricKey
  ? PairSeries
  : K extends WorkloadMetricKey
    ? WorkloadSeries
    : (typeof METRICS)[K]['type'] extends 'counter'
    ? Counter<Labels<K>>
    : (typeof METRICS)[K]['type'] extends 'gauge'
      ? Gauge<Labels<K>>
      : Histogram<Labels<K>>;

export type AgentMetrics = { [K in MetricKey]: Instrument<K> } & {
  /** prom-client instruments only: the pair families are not in it. */
  registry: Registry;
  /** The pair ledger's read-only view. */
  pairs: PairView;
  /** The families rendered from tables (per pair, per workload), in definition order (what /metrics renders first). */
  pairFamilies: (PairSeries | WorkloadSeries)[];
  /** The workload family's rows (EBPF_KUBERNETES), filled by cost/attribution.ts. */
  workloads: WorkloadTable;
  /** The pair family with grouped destinations (EBPF_PAIR_DESTINATION_GROUPS), filled by cost/grouped-pairs.ts. */
  groupedPairs: WorkloadTable;
};

export interface MetricsOptions {
  /** EBPF_PAIR_METRICS: the per-IP-pair families on /metrics (the ledger counts either way). */
  pairMetrics?: boolean;
  /** EBPF_KUBERNETES: the workload families. */
  workloadMetrics?: boolean;
  /** EBPF_PAIR_DESTINATION_GROUPS: pair bytes and packets rendered from groupedPairs instead of the pair table. */
  groupedPairs?: boolean;
}

function build(def: MetricDefinition, registry: Registry) {
  const common = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
  switch (def.type) {
    case 'counter':
      return new Counter(common);
    case 'gauge':
      return new Gauge(common);
    case 'histogram':
      return new Histogram({ ...common, buckets: [...(def.buckets ?? [])] });
  }
}

/** `pairs`: the pair ledger's read-only view (collector/ledger.ts), which the per-pair series render. */
export function createMetrics(pairs: PairView, opts: MetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  const pairFamilies: (PairSeries | WorkloadSeries)[] = [];
  const workloads = new WorkloadTable();
  const groupedPairs = new WorkloadTable();
  const out: Record<string, unknown> = { registry, pairs, pairFamilies, workloads, groupedPairs };
  for (const [key, def] of Object.entries(METRICS)) {
    const column = PAIR_COLUMNS[key as PairMetricKey] as PairColumn | undefined;
    const workloadColumn = WORKLOAD_COLUMNS[key as WorkloadMetricKey] as 'bytes' | 'packets' | undefined;
    if (column) {
      const series = new PairSeries(def, pairs, column);
      if (opts.pairMetrics ?? true) {
        pairFamilies.push(opts.groupedPairs && column !== 'connections' ? new WorkloadSeries(def, groupedPairs, column) : series);
      }
      out[key] = series;
    } else if (workloadColumn) {
      const series = new WorkloadSeries(def, workloads, workloadColumn);
      if (opts.workloadMetrics) pairFamilies.push(series);
      out[key] = series;
    } else {
      out[key] = build(def, registry);
    }
  }
  return out as AgentMetrics;
}
