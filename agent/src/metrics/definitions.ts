// The metric contract. The chart README, docs/metrics.md, the Grafana dashboard
// and the alert rules are generated from this list, so they cannot drift from
// what the agent registers.

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  /** Which README table the metric belongs to. */
  readonly group: 'traffic' | 'internal';
  readonly buckets?: readonly number[];
  /** Exported only with this setting on (EBPF_KUBERNETES): absent or empty otherwise. */
  readonly requires?: 'kubernetes';
}

const pairLabels = ['src_ip', 'dst_ip', 'protocol'] as const;
/** cost/workload-table.ts writes them in this order. */
const workloadLabels = ['src_namespace', 'src_workload', 'src_kind', 'dst_namespace', 'dst_workload', 'dst_kind', 'cost_class'] as const;

export const METRICS = {
  trafficBytes: {
    name: 'kubeadapt_connection_traffic_bytes_total',
    type: 'counter',
    help: 'Cumulative egress bytes (L3: IP header and payload) per source IP, destination IP and protocol (use rate() for throughput)',
    labels: pairLabels,
    group: 'traffic',
  },
  trafficPackets: {
    name: 'kubeadapt_connection_traffic_packets_total',
    type: 'counter',
    help: 'Cumulative egress packets (GSO super-packets count as the segments they become on the wire)',
    labels: pairLabels,
    group: 'traffic',
  },
  activeConnections: {
    name: 'kubeadapt_active_connections',
    type: 'gauge',
    help: 'Distinct connections (5-tuples) with traffic in the last collection interval',
    labels: pairLabels,
    group: 'traffic',
  },
  workloadBytes: {
    name: 'kubeadapt_workload_traffic_bytes_total',
    type: 'counter',
    help: 'Egress bytes (L3) per source workload, destination workload and cost class, from the IP pairs this agent counted (EBPF_KUBERNETES=on; restarts at 0 with the agent)',
    labels: workloadLabels,
    group: 'traffic',
    requires: 'kubernetes',
  },
  workloadPackets: {
    name: 'kubeadapt_workload_traffic_packets_total',
    type: 'counter',
    help: 'Egress packets per source workload, destination workload and cost class (EBPF_KUBERNETES=on; restarts at 0 with the agent)',
    labels: workloadLabels,
    group: 'traffic',
    requires: 'kubernetes',
  },
  loadStatus: {
    name: 'kubeadapt_bpf_load_status',
    type: 'gauge',
    help: 'BPF program load status (1=loaded, 0=failed)',
    labels: ['program'],
    group: 'internal',
  },
  loadAttempts: {
    name: 'kubeadapt_bpf_load_attempts_total',
    type: 'counter',
    help: 'Total BPF load attempts',
    labels: [],
    group: 'internal',
  },
  loadDuration: {
    name: 'kubeadapt_bpf_load_duration_seconds',
    type: 'gauge',
    help: 'Duration of the last BPF object load (open, verify, load) in seconds',
    labels: [],
    group: 'internal',
  },
  mapUtilization: {
    name: 'kubeadapt_bpf_map_utilization_percent',
    type: 'gauge',
    help: 'BPF map utilization (0-100%) at the last collection',
    labels: ['map'],
    group: 'internal',
  },
  unresolvedServiceFlows: {
    name: 'kubeadapt_unresolved_service_flows_total',
    type: 'counter',
    help: 'Connections to a Service address exported under that address because their backend was unknown (reason: entry_gone, events_lost, conntrack_unavailable)',
    labels: ['reason'],
    group: 'internal',
  },
  overflowFlows: {
    name: 'kubeadapt_overflow_flows_total',
    type: 'counter',
    help: 'Flow records sent to the overflow ring buffer because the flow map was full',
    labels: [],
    group: 'internal',
  },
  overflowShare: {
    name: 'kubeadapt_overflow_flow_ratio',
    type: 'gauge',
    help: 'Share (0 to 1) of the last interval\'s flow records that went through the overflow ring buffer instead of the flow map',
    labels: [],
    group: 'internal',
  },
  ipPairsBatchSize: {
    name: 'kubeadapt_ip_pairs_batch_size',
    type: 'gauge',
    help: 'Number of IP pairs (source IP, destination IP, protocol) in the last collection batch',
    labels: [],
    group: 'internal',
  },
  collectionDuration: {
    name: 'kubeadapt_ebpf_collection_duration_seconds',
    type: 'histogram',
    help: 'Map collection cycle duration in seconds',
    labels: [],
    group: 'internal',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  },
  collectorErrors: {
    name: 'kubeadapt_collector_errors_total',
    type: 'counter',
    help: 'Collection errors by type (drain, attach, detach, ringbuf_full, map_update, ...)',
    labels: ['type'],
    group: 'internal',
  },
  droppedBytes: {
    name: 'kubeadapt_connection_traffic_dropped_bytes_total',
    type: 'counter',
    help: 'Egress bytes the programs counted that are in no exported series, by reason (pair_ledger_full: a new IP pair while the pair ledger held EBPF_MAX_PAIRS entries; ringbuf_full: the flow map and the overflow ring buffer were both full)',
    labels: ['reason'],
    group: 'internal',
  },
  droppedPackets: {
    name: 'kubeadapt_connection_traffic_dropped_packets_total',
    type: 'counter',
    help: 'Egress packets the programs counted that are in no exported series, by reason (pair_ledger_full, ringbuf_full)',
    labels: ['reason'],
    group: 'internal',
  },
  connectionTrackingInfo: {
    name: 'kubeadapt_connection_tracking_info',
    type: 'gauge',
    help: 'Connection tracking configuration info (always 1; the labels carry the settings)',
    labels: ['enabled', 'netns_filter_mode', 'max_flows'],
    group: 'internal',
  },
  ignoredPackets: {
    name: 'kubeadapt_bpf_ignored_packets_total',
    type: 'counter',
    help: 'Packets seen by the TC programs but not counted as TCP/UDP traffic, by reason',
    labels: ['reason'],
    group: 'internal',
  },
  kubernetesObjects: {
    name: 'kubeadapt_kubernetes_objects',
    type: 'gauge',
    help: 'Pods, Nodes and Services the cost attribution knows from the Kubernetes API (EBPF_KUBERNETES=on)',
    labels: ['resource'],
    group: 'internal',
    requires: 'kubernetes',
  },
  kubernetesWatchErrors: {
    name: 'kubeadapt_kubernetes_watch_errors_total',
    type: 'counter',
    help: 'Failed lists and watches of the Kubernetes API (each is retried; attribution goes on from what is known)',
    labels: ['resource'],
    group: 'internal',
    requires: 'kubernetes',
  },
  attachedInterfaces: {
    name: 'kubeadapt_attached_interfaces',
    type: 'gauge',
    help: 'Interfaces the TC programs are currently attached to',
    labels: [],
    group: 'internal',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

export const METRIC_LIST: readonly MetricDefinition[] = Object.values(METRICS);
