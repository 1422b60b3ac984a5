// Builds the agent's own prom-client Registry (never the global default) from
// the metric definitions, so names, help and labels have one source. The
// per-pair metrics are views of the pair table (pair-series.ts); the rest are
// prom-client instruments.
import { Counter, Gauge, Histogram, Registry } from './prom.js';
import { METRICS, type MetricDefinition, type MetricKey } from './definitions.js';
import type { PairColumn, PairView } from '../collector/pair-table.js';
import { PairSeries } from './pair-series.js';

const PAIR_COLUMNS = { trafficBytes: 'bytes', trafficPackets: 'packets', activeConnections: 'connections' } as const satisfies Partial<Record<MetricKey, PairColumn>>;
type PairMetricKey = keyof typeof PAIR_COLUMNS;

type Labels<K extends MetricKey> = (typeof METRICS)[K]['labels'][number];
type Instrument<K extends MetricKey> = K extends PairMetricKey
  ? PairSeries
  : (typeof METRICS)[K]['type'] extends 'counter'
    ? Counter<Labels<K>>
    : (typeof METRICS)[K]['type'] extends 'gauge'
      ? Gauge<Labels<K>>
      : Histogram<Labels<K>>;

export type AgentMetrics = { [K in MetricKey]: Instrument<K> } & { registry: Registry };

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
export function createMetrics(pairs: PairView): AgentMetrics {
  const registry = new Registry();
  const out: Record<string, unknown> = { registry };
  for (const [key, def] of Object.entries(METRICS)) {
    const column = PAIR_COLUMNS[key as PairMetricKey] as PairColumn | undefined;
    if (column) {
      const series = new PairSeries(def, pairs, column);
      // prom-client's Registry only needs name and get(); its types list its own classes.
      registry.registerMetric(series as unknown as Parameters<Registry['registerMetric']>[0]);
      out[key] = series;
    } else {
      out[key] = build(def, registry);
    }
  }
  return out as AgentMetrics;
}
