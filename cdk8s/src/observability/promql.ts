// Small PromQL builders shared by the dashboard and the alert rules, so both
// spell selectors and rates the same way and metric names come only from METRICS.

import type { MetricDefinition } from '../../../agent/src/metrics/definitions.js';

/** A label matcher such as `instance=~"$instance"`; values are written as given. */
export type Matcher = readonly [label: string, op: '=' | '!=' | '=~' | '!~', value: string];

/** Escapes a value for use inside a double-quoted PromQL string. */
export function quote(value: string): string {
  return JSON.stringify(value);
}

/** `name{a="b",...}`; `suffix` selects a histogram's `_bucket`, `_sum` or `_count` series. */
export function selector(
  metric: MetricDefinition,
  matchers: readonly Matcher[] = [],
  suffix: '' | '_bucket' | '_sum' | '_count' = '',
): string {
  if (suffix !== '' && metric.type !== 'histogram') {
    throw new Error(`selector: ${metric.name} is a ${metric.type}, it has no ${suffix} series`);
  }
  const inner = matchers.map(([label, op, value]) => `${label}${op}${quote(value)}`).join(',');
  return `${metric.name}${suffix}${inner ? `{${inner}}` : ''}`;
}

/** `rate(counter{...}[window])`; refuses gauges, whose rate means nothing. */
export function rate(metric: MetricDefinition, matchers: readonly Matcher[], window: string, suffix: '' | '_bucket' | '_sum' | '_count' = ''): string {
  if (metric.type === 'gauge') throw new Error(`rate: ${metric.name} is a gauge`);
  if (metric.type === 'histogram' && suffix === '') throw new Error(`rate: ${metric.name} is a histogram: pick _count, _sum or _bucket`);
  return `rate(${selector(metric, matchers, suffix)}[${window}])`;
}

/** `increase(counter{...}[window])`, or of a histogram's `_count`/`_sum`/`_bucket` series. */
export function increase(metric: MetricDefinition, matchers: readonly Matcher[], window: string, suffix: '' | '_bucket' | '_sum' | '_count' = ''): string {
  if (metric.type === 'gauge') throw new Error(`increase: ${metric.name} is a gauge`);
  if (metric.type === 'histogram' && suffix === '') throw new Error(`increase: ${metric.name} is a histogram: pick _count, _sum or _bucket`);
  return `increase(${selector(metric, matchers, suffix)}[${window}])`;
}
