// Builds the agent's own prom-client Registry (never the global default) from
// the metric definitions, so names, help and labels have one source.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRICS, type MetricDefinition, type MetricKey } from './definitions.js';

type Labels<K extends MetricKey> = (typeof METRICS)[K]['labels'][number];
type Instrument<K extends MetricKey> = (typeof METRICS)[K]['type'] extends 'counter'
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

export function createMetrics(): AgentMetrics {
  const registry = new Registry();
  const out: Record<string, unknown> = { registry };
  for (const [key, def] of Object.entries(METRICS)) out[key] = build(def, registry);
  return out as AgentMetrics;
}
