// The Grafana dashboard, as the JSON model Grafana imports. The chart ships it
// in a ConfigMap (label grafana_dashboard) and docs/dashboards/ebpf-agent.json is
// written from it by scripts/gen-docs.ts. Every metric name comes from METRICS.

// Grafana's own schema types: tsc checks the model against them.
import { type Dashboard, type DataTransformerConfig, type FieldConfigSource, MappingType, type Panel, type RowPanel, ThresholdsMode, type VariableModel } from '@grafana/schema';
import { METRICS } from '../../../agent/src/metrics/definitions.js';
import { type Matcher, rate, selector } from './promql.js';

export const DASHBOARD_UID = 'kubeadapt-ebpf-agent';

/** Every panel's target refers to the data source through this template variable. */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/**
 * `instance` has no allValue: Grafana then expands "All" to the agent instances it
 * found, which keeps Prometheus' own scrape_* series of other targets out.
 * `node` falls back to `.*` so series without a node label (plain scrape configs) still match.
 */
const SCOPE: readonly Matcher[] = [
  ['instance', '=~', '$instance'],
  ['node', '=~', '$node'],
];
const WINDOW = '$__rate_interval';

interface Target {
  readonly expr: string;
  readonly legend: string;
  /** Stat and table panels show the latest value only. */
  readonly instant?: boolean;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly type: 'timeseries' | 'stat' | 'table';
  readonly unit: string;
  readonly width: number;
  readonly height: number;
  readonly targets: readonly Target[];
  readonly fieldConfig?: FieldConfigSource;
  readonly options?: Record<string, unknown>;
  /** Grafana data transformations, e.g. joining two instant queries into one table. */
  readonly transformations?: DataTransformerConfig[];
}

interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const pair = 'src_ip, dst_ip, protocol';
const isIpv6: Matcher = ['dst_ip', '=~', '.*:.*'];
const isIpv4: Matcher = ['dst_ip', '!~', '.*:.*'];

function timeseries(title: string, description: string, unit: string, targets: readonly Target[], width = 12): PanelSpec {
  return { title, description, type: 'timeseries', unit, width, height: 8, targets };
}

function trafficRow(): RowSpec {
  const bytes = METRICS.trafficBytes;
  const packets = METRICS.trafficPackets;
  const conns = METRICS.activeConnections;
  return {
    title: 'Traffic (egress, per IP pair)',
    panels: [
      timeseries('Top talkers by bytes/s', 'The 10 source/destination/protocol triples sending the most L3 bytes per second.', 'Bps', [
        { expr: `topk(10, sum by (${pair}) (${rate(bytes, SCOPE, WINDOW)}))`, legend: '{{src_ip}} → {{dst_ip}} {{protocol}}' },
      ]),
      timeseries('Top talkers by packets/s', 'The 10 source/destination/protocol triples sending the most packets per second (GSO super-packets count as their segments).', 'pps', [
        { expr: `topk(10, sum by (${pair}) (${rate(packets, SCOPE, WINDOW)}))`, legend: '{{src_ip}} → {{dst_ip}} {{protocol}}' },
      ]),
      timeseries('Top sources by bytes/s', 'The 10 source IPs (pods) sending the most bytes per second, all destinations together.', 'Bps', [
        { expr: `topk(10, sum by (src_ip) (${rate(bytes, SCOPE, WINDOW)}))`, legend: '{{src_ip}}' },
      ], 8),
      timeseries('TCP vs UDP (bytes/s)', 'Egress bytes per second by transport protocol.', 'Bps', [
        { expr: `sum by (protocol) (${rate(bytes, SCOPE, WINDOW)})`, legend: '{{protocol}}' },
      ], 8),
      timeseries('IPv4 vs IPv6 (bytes/s)', 'Egress bytes per second by address family: a destination IP containing ":" is IPv6.', 'Bps', [
        { expr: `sum(${rate(bytes, [...SCOPE, isIpv4], WINDOW)})`, legend: 'IPv4' },
        { expr: `sum(${rate(bytes, [...SCOPE, isIpv6], WINDOW)})`, legend: 'IPv6' },
      ], 8),
      timeseries('TCP vs UDP (packets/s)', 'Egress packets per second by transport protocol.', 'pps', [
        { expr: `sum by (protocol) (${rate(packets, SCOPE, WINDOW)})`, legend: '{{protocol}}' },
      ], 8),
      timeseries('IPv4 vs IPv6 (packets/s)', 'Egress packets per second by address family.', 'pps', [
        { expr: `sum(${rate(packets, [...SCOPE, isIpv4], WINDOW)})`, legend: 'IPv4' },
        { expr: `sum(${rate(packets, [...SCOPE, isIpv6], WINDOW)})`, legend: 'IPv6' },
      ], 8),
      timeseries('Active connections', 'Distinct 5-tuples with traffic in the last collection interval, by protocol (needs connection tracking on).', 'short', [
        { expr: `sum by (protocol) (${selector(conns, SCOPE)})`, legend: '{{protocol}}' },
      ], 8),
    ],
  };
}

/** The workload family (EBPF_KUBERNETES=on): what the bytes cost, by workload and cost class (docs/cost.md). */
function costRow(): RowSpec {
  const bytes = METRICS.workloadBytes;
  const packets = METRICS.workloadPackets;
  const cls = (c: string): Matcher => ['cost_class', '=~', c];
  const src = 'src_namespace, src_workload, src_kind';
  return {
    title: 'Cost (egress by workload and cost class)',
    panels: [
      timeseries('Bytes/s by cost class', 'Egress of all workloads by cost class: same_node and same_zone are free on most clouds, cross_zone, cross_region and internet are billed per GB. unknown: an address the agent could not place (see docs/cost.md).', 'Bps', [
        { expr: `sum by (cost_class) (${rate(bytes, SCOPE, WINDOW)})`, legend: '{{cost_class}}' },
      ], 8),
      timeseries('Cross-zone bytes/s by workload', 'The 10 source workloads sending the most bytes to other zones of the region.', 'Bps', [
        { expr: `topk(10, sum by (${src}) (${rate(bytes, [...SCOPE, cls('cross_zone')], WINDOW)}))`, legend: '{{src_namespace}}/{{src_workload}} ({{src_kind}})' },
      ], 8),
      timeseries('Internet egress bytes/s by namespace', 'Bytes to internet destinations (public addresses outside the destinations file\'s other lists), by source namespace.', 'Bps', [
        { expr: `sum by (src_namespace) (${rate(bytes, [...SCOPE, cls('internet')], WINDOW)})`, legend: '{{src_namespace}}' },
      ], 8),
      timeseries('Top cross-zone and cross-region workload pairs', 'The 10 source/destination workload pairs with the most billed inter-zone or inter-region bytes per second.', 'Bps', [
        { expr: `topk(10, sum by (src_namespace, src_workload, dst_namespace, dst_workload, cost_class) (${rate(bytes, [...SCOPE, cls('cross_zone|cross_region')], WINDOW)}))`, legend: '{{src_namespace}}/{{src_workload}} → {{dst_namespace}}/{{dst_workload}} {{cost_class}}' },
      ], 12),
      timeseries('Packets/s by cost class', 'Egress packets of all workloads by cost class.', 'pps', [
        { expr: `sum by (cost_class) (${rate(packets, SCOPE, WINDOW)})`, legend: '{{cost_class}}' },
      ], 6),
      timeseries('Kubernetes objects known / watch errors', 'Pods, Nodes and Services the attribution knows, and failed lists/watches per second (retried; attribution goes on from what is known).', 'short', [
        { expr: `max by (resource) (${selector(METRICS.kubernetesObjects, SCOPE)})`, legend: '{{resource}}' },
        { expr: `sum by (resource) (${rate(METRICS.kubernetesWatchErrors, SCOPE, WINDOW)})`, legend: 'errors/s {{resource}}' },
      ], 6),
    ],
  };
}

function healthRow(): RowSpec {
  const d = METRICS.collectionDuration;
  const quantile = (q: number): Target => ({
    expr: `histogram_quantile(${q}, sum by (le) (${rate(d, SCOPE, WINDOW, '_bucket')}))`,
    legend: `p${Math.round(q * 100)}`,
  });
  return {
    title: 'Agent health',
    panels: [
      {
        title: 'BPF load status', type: 'stat', unit: 'none', width: 6, height: 6,
        description: 'Per agent and program: 1 = loaded, 0 = failed (see the runbook).',
        targets: [{ expr: `min by (instance, program) (${selector(METRICS.loadStatus, SCOPE)})`, legend: '{{instance}} {{program}}', instant: true }],
        fieldConfig: {
          defaults: {
            unit: 'none',
            mappings: [{ type: MappingType.ValueToText, options: { '0': { text: 'failed', color: 'red' }, '1': { text: 'loaded', color: 'green' } } }],
            thresholds: { mode: ThresholdsMode.Absolute, steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] },
          },
          overrides: [],
        },
      },
      {
        title: 'BPF load attempts / last load duration', type: 'table', unit: 'none', width: 6, height: 6,
        description: 'Load attempts since start (more than one means retries) and how long the last load took.',
        targets: [
          { expr: `sum by (instance) (${selector(METRICS.loadAttempts, SCOPE)})`, legend: 'attempts', instant: true },
          { expr: `max by (instance) (${selector(METRICS.loadDuration, SCOPE)})`, legend: 'load seconds', instant: true },
        ],
        transformations: [
          { id: 'merge', options: {} },
          { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { 'Value #A': 'load attempts', 'Value #B': 'last load (s)' } } },
        ],
      },
      {
        title: 'Attached interfaces', type: 'stat', unit: 'none', width: 6, height: 6,
        description: 'Interfaces each agent has its TC programs on.',
        targets: [{ expr: `sum by (instance) (${selector(METRICS.attachedInterfaces, SCOPE)})`, legend: '{{instance}}', instant: true }],
      },
      {
        title: 'Connection tracking settings', type: 'table', unit: 'none', width: 6, height: 6,
        description: 'What each agent runs with (the labels of kubeadapt_connection_tracking_info).',
        targets: [{ expr: `max by (instance, enabled, netns_filter_mode, max_flows) (${selector(METRICS.connectionTrackingInfo, SCOPE)})`, legend: '{{instance}}', instant: true }],
        transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true } } }],
      },
      {
        ...timeseries('BPF map utilization', 'Fill level of each BPF map at the last collection. connection_flows near 100%: new flows go to the overflow ring buffer, raise config.maxFlows. pair_totals at 100%: new IP pairs are not exported, raise config.maxPairs.', 'percent', [
          { expr: `max by (instance, map) (${selector(METRICS.mapUtilization, SCOPE)})`, legend: '{{instance}} {{map}}' },
        ], 8),
        fieldConfig: {
          defaults: {
            unit: 'percent', min: 0, max: 100,
            thresholds: { mode: ThresholdsMode.Absolute, steps: [{ color: 'green', value: null }, { color: 'orange', value: 80 }, { color: 'red', value: 90 }] },
            custom: { thresholdsStyle: { mode: 'line' } },
          },
          overrides: [],
        },
      },
      timeseries('Overflow flows/s', 'Flow records that went to the overflow ring buffer because the flow map was full.', 'ops', [
        { expr: `sum by (instance) (${rate(METRICS.overflowFlows, SCOPE, WINDOW)})`, legend: '{{instance}}' },
      ], 8),
      timeseries('Share of flows through the ring buffer', 'Of the last interval\'s flow records, the share that went through the overflow ring buffer (0 to 1): above 0, raise config.maxFlows.', 'percentunit', [
        { expr: `max by (instance) (${selector(METRICS.overflowShare, SCOPE)})`, legend: '{{instance}}' },
      ], 8),
      timeseries('IP pairs per collection', 'IP pairs (source, destination, protocol) in the last collection batch.', 'short', [
        { expr: `sum by (instance) (${selector(METRICS.ipPairsBatchSize, SCOPE)})`, legend: '{{instance}}' },
      ], 8),
      timeseries('Traffic counted but not exported (bytes/s) by reason', 'Bytes the programs counted that are in no exported series: pair_ledger_full (the pair ledger holds config.maxPairs pairs; raise it or lower config.pairTtl), ringbuf_full (flow map and ring buffer both full; raise config.maxFlows). Anything above 0 is missing from the traffic panels.', 'Bps', [
        { expr: `sum by (instance, reason) (${rate(METRICS.droppedBytes, SCOPE, WINDOW)})`, legend: '{{instance}} {{reason}}' },
      ], 8),
      timeseries('Traffic counted but not exported (packets/s) by reason', 'The packets of the bytes beside: counted by the programs, in no exported series.', 'pps', [
        { expr: `sum by (instance, reason) (${rate(METRICS.droppedPackets, SCOPE, WINDOW)})`, legend: '{{instance}} {{reason}}' },
      ], 8),
      timeseries('Collector errors/s by type', 'Errors of the collector by type; ringbuf_full, map_update and drain lose counts.', 'ops', [
        { expr: `sum by (type) (${rate(METRICS.collectorErrors, SCOPE, WINDOW)})`, legend: '{{type}}' },
      ], 8),
      timeseries('Ignored packets/s by reason', 'Packets the TC programs saw but did not count as TCP/UDP traffic; truncated means lost counts.', 'pps', [
        { expr: `sum by (reason) (${rate(METRICS.ignoredPackets, SCOPE, WINDOW)})`, legend: '{{reason}}' },
      ], 8),
      timeseries('Unresolved Service connections/s by reason', 'Connections to a Service exported under the Service address because their backend was unknown (docs/runbook.md, "Series under a Service address"); 0 when every Service byte is under its backend.', 'ops', [
        { expr: `sum by (reason) (${rate(METRICS.unresolvedServiceFlows, SCOPE, WINDOW)})`, legend: '{{reason}}' },
      ], 8),
      timeseries('Collection duration quantiles', 'How long one drain of the flow maps takes (all agents); it must stay well below the collection interval.', 's', [
        quantile(0.5), quantile(0.9), quantile(0.99),
      ], 8),
      timeseries('Series per scrape', 'Samples in each scrape of the agent and series new since the previous scrape (churn from pairs appearing and expiring).', 'short', [
        { expr: `sum by (instance) (scrape_samples_scraped{instance=~"$instance",node=~"$node"})`, legend: 'samples {{instance}}' },
        { expr: `sum by (instance) (scrape_series_added{instance=~"$instance",node=~"$node"})`, legend: 'new series {{instance}}' },
      ], 12),
      timeseries('Scrape duration', 'How long Prometheus takes to scrape each agent.', 's', [
        { expr: `max by (instance) (scrape_duration_seconds{instance=~"$instance",node=~"$node"})`, legend: '{{instance}}' },
      ], 12),
    ],
  };
}

const ROWS: readonly RowSpec[] = [trafficRow(), costRow(), healthRow()];

function refId(i: number): string {
  return String.fromCharCode('A'.charCodeAt(0) + i);
}

function panelJson(spec: PanelSpec, id: number, gridPos: Panel['gridPos']): Panel {
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: spec.fieldConfig ?? { defaults: { unit: spec.unit }, overrides: [] },
    options: spec.options ?? (spec.type === 'timeseries'
      ? { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } }
      : {}),
    ...(spec.transformations ? { transformations: spec.transformations } : {}),
    targets: spec.targets.map((t, i) => ({
      refId: refId(i),
      datasource: DATASOURCE,
      expr: t.expr,
      legendFormat: t.legend,
      ...(t.instant ? { instant: true, range: false, format: spec.type === 'table' ? 'table' : 'time_series' } : { range: true }),
    })),
  };
}

/** Lays the panels out left to right, wrapping at Grafana's 24 columns. */
function layout(): Array<Panel | RowPanel> {
  const out: Array<Panel | RowPanel> = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    out.push({ id: id++, type: 'row', title: row.title, collapsed: false, panels: [], gridPos: { h: 1, w: 24, x: 0, y } });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      if (x + p.width > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      out.push(panelJson(p, id++, { h: p.height, w: p.width, x, y }));
      x += p.width;
      rowHeight = Math.max(rowHeight, p.height);
    }
    y += rowHeight;
  }
  return out;
}

function templating(): { list: VariableModel[] } {
  const status = METRICS.loadStatus.name;
  const queryVar = (name: string, label: string, query: string, allValue?: string): VariableModel => ({
    name, label, type: 'query', datasource: DATASOURCE,
    // The plain-string query form is the one every Grafana from 7 to 11 reads.
    query,
    refresh: 2, sort: 1, multi: true, includeAll: true,
    ...(allValue === undefined ? {} : { allValue }),
    current: { selected: true, text: ['All'], value: ['$__all'] },
    hide: 0, regex: '', options: [],
  });
  return {
    list: [
      { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', refresh: 1, hide: 0, regex: '', options: [] },
      queryVar('node', 'Node', `label_values(${status}, node)`, '.*'),
      queryVar('instance', 'Agent', `label_values(${status}{node=~"$node"}, instance)`),
    ],
  };
}

/** The dashboard's JSON model (Grafana schema 39). */
export function buildDashboard(): Record<string, unknown> {
  const dashboard: Dashboard = {
    uid: DASHBOARD_UID,
    title: 'kubeadapt eBPF agent',
    description: 'Per-pod egress traffic by IP pair (top talkers, TCP/UDP, IPv4/IPv6) and the health of the eBPF agent.',
    tags: ['kubeadapt', 'ebpf', 'network'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    annotations: { list: [] },
    links: [],
    templating: templating(),
    panels: layout(),
  };
  return { ...dashboard };
}

/** Every query of every panel, in panel order, for tests that run them. */
export function dashboardQueries(): Array<{ panel: string; refId: string; expr: string }> {
  return ROWS.flatMap((row) => row.panels.flatMap((p) => p.targets.map((t, i) => ({ panel: p.title, refId: refId(i), expr: t.expr }))));
}

/**
 * Replaces the dashboard's variables the way Grafana does before a query is sent,
 * so tests can run the queries against Prometheus directly.
 * `instance` is a regex of agent instances (Grafana's "All" expands to `(a|b)`).
 */
export function expandQuery(expr: string, vars: { instance: string; node?: string; rateInterval?: string }): string {
  return expr
    .replaceAll('$__rate_interval', () => vars.rateInterval ?? '1m')
    .replaceAll('$instance', () => vars.instance)
    .replaceAll('$node', () => vars.node ?? '.*');
}
