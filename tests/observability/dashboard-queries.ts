// Runs every panel query of the dashboard against a running Prometheus, the way
// Grafana would with "All" selected. Shared by the exposition test here and the
// real-agent test in tests/e2e/node.

import { dashboardQueries, expandQuery } from '../../cdk8s/src/observability/dashboard.js';
import type { RunningPrometheus, Sample } from '../helpers/prometheus.js';

export interface PanelResult {
  readonly panel: string;
  readonly refId: string;
  /** The query as sent, variables replaced. */
  readonly expr: string;
  readonly samples: Sample[];
}

/** Escapes a literal for a PromQL regex matcher (`instance=~"..."`), as Grafana does for regex variables. */
export function regexLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}

/**
 * `instances` are the agents' `instance` label values (host:port); `rateInterval`
 * stands in for Grafana's $__rate_interval and must cover a few scrapes.
 * A query Prometheus rejects throws PrometheusQueryError naming it.
 */
export async function runDashboardQueries(
  prom: Pick<RunningPrometheus, 'instantQuery'>,
  opts: { instances: readonly string[]; node?: string; rateInterval: string },
): Promise<PanelResult[]> {
  const instance = `(${opts.instances.map(regexLiteral).join('|')})`;
  const out: PanelResult[] = [];
  for (const q of dashboardQueries()) {
    const expr = expandQuery(q.expr, { instance, node: opts.node, rateInterval: opts.rateInterval });
    out.push({ panel: q.panel, refId: q.refId, expr, samples: await prom.instantQuery(expr) });
  }
  return out;
}
