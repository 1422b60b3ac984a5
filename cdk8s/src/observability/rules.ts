// Prometheus alert rules for the agent. The chart wraps them in a PrometheusRule;
// docs/alerts/ebpf-agent.rules.yaml is the same groups as a plain rules file.
//
// Annotations use Prometheus templates ({{ $labels.instance }}): a Helm template
// that embeds them must escape the braces, or Helm evaluates them.

import { METRICS } from '../../../agent/src/metrics/definitions.js';
import { SETTINGS } from '../../../agent/src/config/settings.js';
import { increase, quote, rate, selector } from './promql.js';

export interface AlertRuleOptions {
  /**
   * The agent's collection interval in seconds: a mean collection slower than this
   * means drains overlap and counts arrive late. Not a metric, so the chart passes it.
   * @default 25 (the default of EBPF_COLLECTION_INTERVAL)
   */
  readonly collectionIntervalSeconds?: number;
  /**
   * Regex on the `job` label of the agent's scrape target, for the target-down alert.
   * @default '.*ebpf-agent.*'
   */
  readonly jobRegex?: string;
  /**
   * Map fill level (percent) above which the map counts as nearly full.
   * @default 90
   */
  readonly mapUtilizationPercent?: number;
  /**
   * Where the runbook is; each alert links to `<runbookUrl>#<anchor>`.
   * @default 'docs/runbook.md'
   */
  readonly runbookUrl?: string;
}

/** The runbook section each alert links to (headings in docs/runbook.md). */
export const RUNBOOK_ANCHORS = {
  EbpfAgentBpfLoadFailed: 'bpf-program-failed-to-load',
  EbpfAgentMapUtilizationHigh: 'map-utilization-high',
  EbpfAgentOverflowFlowsGrowing: 'overflow-flows-growing',
  EbpfAgentCountsLost: 'counts-lost',
  EbpfAgentTrafficDropped: 'traffic-dropped',
  EbpfAgentPacketsTruncated: 'packets-truncated',
  EbpfAgentCollectionSlow: 'collection-slower-than-interval',
  EbpfAgentCollectionStalled: 'collection-slower-than-interval',
  EbpfAgentTargetDown: 'agent-target-down',
} as const;

export type AlertName = keyof typeof RUNBOOK_ANCHORS;

/** Collector error types that mean flow counts were dropped, not just delayed. */
export const LOSS_ERROR_TYPES = ['ringbuf_full', 'map_update', 'drain'] as const;

export const ALERT_GROUP = 'kubeadapt-ebpf-agent';

interface AlertSpec {
  readonly alert: AlertName;
  readonly expr: string;
  readonly for: string;
  readonly severity: 'critical' | 'warning';
  readonly summary: string;
  readonly description: string;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`buildAlertRules: ${name} is ${value}; accepted: a number greater than 0`);
  }
  return value;
}

function specs(o: Required<AlertRuleOptions>): AlertSpec[] {
  const interval = positive('collectionIntervalSeconds', o.collectionIntervalSeconds);
  const mapLimit = positive('mapUtilizationPercent', o.mapUtilizationPercent);
  if (mapLimit >= 100) throw new Error(`buildAlertRules: mapUtilizationPercent is ${mapLimit}; accepted: a number greater than 0 and below 100`);
  if (o.jobRegex === '') throw new Error('buildAlertRules: jobRegex is empty; accepted: a regex matching the agent\'s scrape job');
  const d = METRICS.collectionDuration;
  // A stalled collector shows as a histogram count that stops moving; give it
  // several intervals (at least 5m) so one slow drain is not a stall.
  const stallWindow = `${Math.max(300, Math.ceil(3 * interval))}s`;
  return [
    {
      alert: 'EbpfAgentBpfLoadFailed', for: '1m', severity: 'critical',
      expr: `${selector(METRICS.loadStatus)} == 0`,
      summary: 'eBPF agent could not load its BPF program',
      description: 'The agent {{ $labels.instance }} failed to load program {{ $labels.program }}: no traffic is counted on that node. Run the preflight check (node agent/dist/main.js check) on the node.',
    },
    {
      alert: 'EbpfAgentMapUtilizationHigh', for: '15m', severity: 'warning',
      expr: `${selector(METRICS.mapUtilization)} > ${mapLimit}`,
      summary: 'eBPF agent BPF map nearly full',
      description: `Map {{ $labels.map }} on {{ $labels.instance }} has been above ${mapLimit}% full for 15 minutes ({{ $value | humanize }}%). connection_flows: new flows go to the overflow ring buffer, raise config.maxFlows or shorten config.collectionInterval. pair_totals: new IP pairs will not be exported, raise config.maxPairs or lower config.pairTtl.`,
    },
    {
      alert: 'EbpfAgentOverflowFlowsGrowing', for: '10m', severity: 'warning',
      expr: `${rate(METRICS.overflowFlows, [], '5m')} > 0`,
      summary: 'eBPF agent flow map overflowing',
      description: 'The flow map on {{ $labels.instance }} is full and flow records go to the overflow ring buffer ({{ $value | humanize }}/s): counts for new flows are at risk. Raise config.maxFlows.',
    },
    {
      alert: 'EbpfAgentCountsLost', for: '5m', severity: 'warning',
      expr: `${increase(METRICS.collectorErrors, [['type', '=~', LOSS_ERROR_TYPES.join('|')]], '10m')} > 0`,
      summary: 'eBPF agent is losing traffic counts',
      description: 'The collector on {{ $labels.instance }} reports {{ $labels.type }} errors ({{ $value | humanize }} in 10m): traffic in those records was not counted.',
    },
    {
      // Bytes, not errors: what the operator needs is how much traffic no series carries.
      alert: 'EbpfAgentTrafficDropped', for: '5m', severity: 'warning',
      expr: `${increase(METRICS.droppedBytes, [], '10m')} > 0`,
      summary: 'eBPF agent counts traffic it cannot export',
      description: 'The agent on {{ $labels.instance }} counted {{ $value | humanize1024 }}B in 10m that is in no exported series (reason {{ $labels.reason }}). pair_ledger_full: the pair ledger holds config.maxPairs pairs, raise it or lower config.pairTtl. ringbuf_full: raise config.maxFlows.',
    },
    {
      alert: 'EbpfAgentPacketsTruncated', for: '5m', severity: 'warning',
      expr: `${increase(METRICS.ignoredPackets, [['reason', '=', 'truncated']], '10m')} > 0`,
      summary: 'eBPF agent skips truncated packets',
      description: 'The TC programs on {{ $labels.instance }} saw {{ $value | humanize }} packets in 10m whose headers they could not read; those packets are not counted.',
    },
    {
      alert: 'EbpfAgentCollectionSlow', for: '5m', severity: 'warning',
      // The mean from _sum/_count, not a quantile: the histogram's top bucket is
      // far below the interval, so quantiles cannot exceed it.
      expr: `${rate(d, [], '10m', '_sum')} / ${rate(d, [], '10m', '_count')} > ${interval}`,
      summary: 'eBPF agent collection slower than its interval',
      description: `Draining the flow maps on {{ $labels.instance }} takes {{ $value | humanizeDuration }} on average, longer than the ${interval}s collection interval: counts arrive late and the map fills. Lower config.maxFlows or raise config.collectionInterval.`,
    },
    {
      alert: 'EbpfAgentCollectionStalled', for: '5m', severity: 'warning',
      expr: `${increase(d, [], stallWindow, '_count')} == 0`,
      summary: 'eBPF agent collection stalled',
      description: `The agent {{ $labels.instance }} serves metrics but finished no collection in ${stallWindow}: counters are frozen.`,
    },
    {
      alert: 'EbpfAgentTargetDown', for: '5m', severity: 'critical',
      expr: `up{job=~${quote(o.jobRegex)}} == 0`,
      summary: 'eBPF agent target down',
      description: 'Prometheus cannot scrape the eBPF agent {{ $labels.instance }} (job {{ $labels.job }}): no traffic metrics from that node.',
    },
  ];
}

/** The alert rule groups, in the shape of a Prometheus rules file. */
export function buildAlertRules(options: AlertRuleOptions = {}): {
  groups: Array<{ name: string; rules: Array<Record<string, unknown>> }>;
} {
  const o: Required<AlertRuleOptions> = {
    collectionIntervalSeconds: options.collectionIntervalSeconds ?? SETTINGS.collectionInterval.default / 1000,
    jobRegex: options.jobRegex ?? '.*ebpf-agent.*',
    mapUtilizationPercent: options.mapUtilizationPercent ?? 90,
    runbookUrl: options.runbookUrl ?? 'docs/runbook.md',
  };
  return {
    groups: [{
      name: ALERT_GROUP,
      rules: specs(o).map((s) => ({
        alert: s.alert,
        expr: s.expr,
        for: s.for,
        labels: { severity: s.severity },
        annotations: {
          summary: s.summary,
          description: s.description,
          runbook_url: `${o.runbookUrl}#${RUNBOOK_ANCHORS[s.alert]}`,
        },
      })),
    }],
  };
}
