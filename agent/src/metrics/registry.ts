// Builds the agent's own prom-client Registry (never the global default) from
// the metric definitions, so names, help and labels have one source. The
// per-pair metrics are views of the pair table (pair-series.ts); the rest are
// prom-client instruments.
import { Counter, Gauge, Histogram, Registry } from './prom.js';
import { METRICS, type MetricDefinition, type MetricKey } from './definitions.js';
import { PairTable } from '../collector/pair-table.js';
import { PairSeries, type PairColumn } from './pair-series.js';
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
  registry: Registry; pairs: PairTable; workloads: WorkloadTable;
  /** The pair family with grouped destinations (EBPF_PAIR_DESTINATION_GROUPS), else unused. */
  groupedPairs: WorkloadTable;
};

export interface MetricsOptions {
  /** EBPF_PAIR_METRICS: the per-IP-pair families on /metrics (the pair table is the ledger's memory either way). */
  pairMetrics?: boolean;
  /** EBPF_KUBERNETES: the workload families. */
  workloadMetrics?: boolean;
  /** EBPF_PAIR_DESTINATION_GROUPS: bytes and packets per pair rendered from groupedPairs instead of the pair table. */
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

export function createMetrics(opts: MetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  const pairs = new PairTable();
  const workloads = new WorkloadTable();
  const groupedPairs = new WorkloadTable();
  const out: Record<string, unknown> = { registry, pairs, workloads, groupedPairs };
  // prom-client's Registry only needs name and get(); its types list its own classes.
  const register = (series: unknown) => registry.registerMetric(series as Parameters<Registry['registerMetric']>[0]);
  for (const [key, def] of Object.entries(METRICS)) {
    const column = PAIR_COLUMNS[key as PairMetricKey] as PairColumn | undefined;
    const workloadColumn = WORKLOAD_COLUMNS[key as WorkloadMetricKey] as 'bytes' | 'packets' | undefined;
    if (column) {
      const series = new PairSeries(def, pairs, column);
      if ((opts.pairMetrics ?? true) && opts.groupedPairs && column !== 'connections') {
        register(new WorkloadSeries(def, groupedPairs, column as 'bytes' | 'packets'));
      } else if (opts.pairMetrics ?? true) register(series);
      out[key] = series;
    } else if (workloadColumn) {
      const series = new WorkloadSeries(def, workloads, workloadColumn);
      if (opts.workloadMetrics ?? false) register(series);
      out[key] = series;
    } else {
      out[key] = build(def, registry);
    }
  }
  return out as AgentMetrics;
}
