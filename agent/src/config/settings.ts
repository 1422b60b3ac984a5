// Every agent setting, once: environment variable, CLI flag, default, what is
// accepted and how it is parsed. `--help`, the config errors, docs/configuration.md
// and the chart's env wiring all read this table.
import { isIP } from 'node:net';

export interface Setting<T> {
  readonly env: string;
  readonly flag: string;
  /** Dotted path of the chart value that sets it, when the chart exposes it. */
  readonly chartValue?: string;
  readonly default: T;
  readonly description: string;
  /** Human description of accepted values, used in error messages. */
  readonly accepted: string;
  /** Returns the parsed value, or undefined when the text is not accepted. */
  readonly parse: (text: string) => T | undefined;
  /** How the default is written as text (env var form). */
  readonly format: (value: T) => string;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Longer duration text is garbage (a real one is 1h2m3s), not a sum worth computing. */
const MAX_DURATION_LENGTH = 32;

/** Parses Go-style durations such as 500ms, 1s, 25s, 1m30s into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (text.length === 0 || text.length > MAX_DURATION_LENGTH || consumed !== text.length) return undefined;
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function integer(min: number, max: number) {
  return (text: string): number | undefined => {
    // Plain decimal only: no sign, no 0x/0o/1e3, no leading zeros (010 is not 8 here, nor 10).
    if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) return undefined;
    const n = Number(text);
    return n >= min && n <= max ? n : undefined;
  };
}

function oneOf<T extends string>(...values: T[]) {
  return (text: string): T | undefined => (values as string[]).includes(text) ? (text as T) : undefined;
}

function durationBetween(minMs: number, maxMs: number) {
  return (text: string): number | undefined => {
    const ms = parseDuration(text);
    return ms !== undefined && ms >= minMs && ms <= maxMs ? ms : undefined;
  };
}

const bool = (text: string): boolean | undefined =>
  text === 'true' ? true : text === 'false' ? false : undefined;

// Node's own parser (what listen() will be given), without zone IDs: a link-local
// address with %eth0 binds one interface, which hostNetwork never needs.
const ipAddress = (text: string): string | undefined =>
  isIP(text) !== 0 && !text.includes('%') ? text : undefined;

/** Longest path accepted: the pins add their own names below it and Linux stops at PATH_MAX (4096). */
export const MAX_PATH_LENGTH = 1024;

/**
 * An absolute path in plain ASCII, without `.` or `..` segments: the pin path
 * is removed recursively on cleanup, so `/sys/fs/bpf/../../etc` must never reach
 * the filesystem, and names a shell or a log viewer could show differently
 * (unicode look-alikes, control characters) are refused rather than escaped.
 */
const absolutePath = (text: string): string | undefined => {
  if (text.length < 2 || text.length > MAX_PATH_LENGTH || !/^\/[A-Za-z0-9._:@/-]+$/.test(text)) return undefined;
  const trimmed = text.replace(/\/+$/, '');
  const segments = trimmed.split('/').slice(1);
  if (segments.length === 0 || segments.some((seg) => seg === '' || seg === '.' || seg === '..')) return undefined;
  return trimmed;
};

/**
 * Linux interface names (1-15 bytes, no whitespace, '/' or ':'), each
 * optionally ending in '*' to match a prefix; comma-separated.
 */
// Names as CNIs and clouds make them (eth0, ens5, cali1a2b, vxlan.calico, eth0.100, br-1f2e),
// ASCII only so a look-alike can never name a different interface than it shows.
export const INTERFACE_LIST_PATTERN = '^(auto|[A-Za-z0-9_.@-]{1,15}\\*?(,[A-Za-z0-9_.@-]{1,15}\\*?)*)$';
const INTERFACE_LIST = new RegExp(INTERFACE_LIST_PATTERN);

// `.` and `..` are the two names Linux refuses that the pattern lets through.
const interfaceList = (text: string): 'auto' | readonly string[] | undefined =>
  text === 'auto' ? 'auto' : INTERFACE_LIST.test(text) && !text.split(',').some((n) => /^\.\.?\*?$/.test(n)) ? text.split(',') : undefined;

const str = (v: string) => v;
/** Switches named on/off in the issue tracker's words; true/false as every other switch here. */
const onOff = (text: string): boolean | undefined =>
  text === 'on' || text === 'true' ? true : text === 'off' || text === 'false' ? false : undefined;
const num = (v: number) => String(v);

export const SETTINGS = {
  metricsPort: {
    env: 'EBPF_METRICS_PORT', flag: '--metrics-port', chartValue: 'config.metricsPort',
    default: 9090, description: 'TCP port of the HTTP server for /metrics and /health',
    accepted: 'an integer from 1 to 65535', parse: integer(1, 65535), format: num,
  },
  metricsAddress: {
    env: 'EBPF_METRICS_ADDRESS', flag: '--metrics-address', chartValue: 'config.metricsAddress',
    default: '0.0.0.0', description: 'Address the HTTP server binds to',
    accepted: 'an IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::', parse: ipAddress, format: str,
  },
  metricsAuth: {
    env: 'EBPF_METRICS_AUTH', flag: '--metrics-auth', chartValue: 'config.metricsAuth',
    default: 'none' as 'none' | 'kubernetes',
    description: 'none: /metrics over plain HTTP to anyone who reaches the port; kubernetes: HTTPS, and each request\'s bearer token must pass a TokenReview and a SubjectAccessReview for get on the non-resource URL /metrics (/health/* stays open for the kubelet)',
    accepted: 'one of none, kubernetes', parse: oneOf('none', 'kubernetes'), format: str,
  },
  metricsTlsCertFile: {
    env: 'EBPF_METRICS_TLS_CERT_FILE', flag: '--metrics-tls-cert-file',
    default: '/etc/ebpf-agent/tls/tls.crt', description: 'PEM certificate (chain) of the HTTPS server when EBPF_METRICS_AUTH is kubernetes; re-read when it changes',
    accepted: `an absolute path (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`, parse: absolutePath, format: str,
  },
  metricsTlsKeyFile: {
    env: 'EBPF_METRICS_TLS_KEY_FILE', flag: '--metrics-tls-key-file',
    default: '/etc/ebpf-agent/tls/tls.key', description: 'PEM private key of the HTTPS server when EBPF_METRICS_AUTH is kubernetes; re-read when it changes',
    accepted: `an absolute path (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`, parse: absolutePath, format: str,
  },
  collectionInterval: {
    env: 'EBPF_COLLECTION_INTERVAL', flag: '--collection-interval', chartValue: 'config.collectionInterval',
    default: 25_000, description: 'How often the flow maps are drained into the counters',
    accepted: 'a duration from 100ms to 1h such as 500ms, 1s, 25s or 1m', parse: durationBetween(100, 3_600_000),
    format: formatDuration,
  },
  logLevel: {
    env: 'EBPF_LOG_LEVEL', flag: '--log-level', chartValue: 'config.logLevel',
    default: 'info' as 'debug' | 'info' | 'warn' | 'error', description: 'Lowest level that is logged',
    accepted: 'one of debug, info, warn, error', parse: oneOf('debug', 'info', 'warn', 'error'), format: str,
  },
  logFormat: {
    env: 'EBPF_LOG_FORMAT', flag: '--log-format', chartValue: 'config.logFormat',
    default: 'json' as 'json' | 'console', description: 'Log line format',
    accepted: 'one of json, console', parse: oneOf('json', 'console'), format: str,
  },
  netnsFilterMode: {
    env: 'EBPF_NETNS_FILTER_MODE', flag: '--netns-filter-mode', chartValue: 'config.netnsFilterMode',
    default: 'default' as 'default' | 'disabled',
    description: 'default: count pods (hostNetwork pods too) and leave out host system traffic; disabled: count everything',
    accepted: 'one of default, disabled', parse: oneOf('default', 'disabled'), format: str,
  },
  connectionTracking: {
    env: 'EBPF_CONNECTION_TRACKING', flag: '--connection-tracking', chartValue: 'config.connectionTracking',
    default: true, description: 'Export kubeadapt_active_connections (distinct 5-tuples per IP pair and interval)',
    accepted: 'true or false', parse: bool, format: (v: boolean) => String(v),
  },
  serviceResolution: {
    env: 'EBPF_SERVICE_RESOLUTION', flag: '--service-resolution', chartValue: 'config.serviceResolution',
    default: 'conntrack' as 'conntrack' | 'off',
    description: 'conntrack: count a pod\'s traffic to a Service (ClusterIP, NodePort) under the backend pod that received it, from the node\'s conntrack at each drain; off: under the Service address the pod sent to',
    accepted: 'one of conntrack, off', parse: oneOf('conntrack', 'off'), format: str,
  },
  pinPath: {
    env: 'EBPF_BPF_PIN_PATH', flag: '--bpf-pin-path', chartValue: 'config.pinPath',
    default: '/sys/fs/bpf/kubeadapt', description: 'bpffs directory where the agent pins its maps',
    accepted: `an absolute path on a bpf filesystem (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`, parse: absolutePath, format: str,
  },
  maxFlows: {
    env: 'EBPF_MAX_FLOWS', flag: '--max-flows', chartValue: 'config.maxFlows',
    default: 65536, description: 'Capacity of the flow map (connections per collection interval); new flows beyond it go to the overflow ring buffer',
    accepted: 'an integer from 16 to 16777216', parse: integer(16, 16_777_216), format: num,
  },
  maxPairs: {
    env: 'EBPF_MAX_PAIRS', flag: '--max-pairs', chartValue: 'config.maxPairs',
    default: 131072, description: 'Capacity of the pair ledger (pinned pair_totals map): IP pairs exported within EBPF_PAIR_TTL, plus one entry for the loss; traffic of new pairs beyond it is counted in kubeadapt_connection_traffic_dropped_bytes_total{reason="pair_ledger_full"}',
    accepted: 'an integer from 1024 to 16777216', parse: integer(1024, 16_777_216), format: num,
  },
  pairTtl: {
    env: 'EBPF_PAIR_TTL', flag: '--pair-ttl', chartValue: 'config.pairTtl',
    default: 300_000, description: 'Series of IP pairs without traffic for this long are dropped from /metrics',
    accepted: 'a duration from 1s to 24h such as 90s, 5m or 1h', parse: durationBetween(1000, 86_400_000),
    format: formatDuration,
  },
  attachMode: {
    env: 'EBPF_ATTACH_MODE', flag: '--attach-mode', chartValue: 'config.attachMode',
    default: 'auto' as 'auto' | 'tcx' | 'tc',
    description: 'auto: tcx where the kernel has it (6.6+), legacy TC (clsact + cls_bpf) otherwise',
    accepted: 'one of auto, tcx, tc', parse: oneOf('auto', 'tcx', 'tc'), format: str,
  },
  podCgroup: {
    env: 'EBPF_POD_CGROUP', flag: '--pod-cgroup', chartValue: 'config.podCgroup',
    default: 'auto', description: 'The cgroup v2 directory that holds the pods (kubepods): in netns filter mode default, host traffic counts only from sockets below it (hostNetwork pods); auto looks for kubepods.slice and kubepods',
    accepted: `auto or an absolute path of a cgroup v2 directory (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`, parse: (t: string) => (t === 'auto' ? t : absolutePath(t)), format: str,
  },
  uplinkInterfaces: {
    env: 'EBPF_UPLINK_INTERFACES', flag: '--uplink-interfaces', chartValue: 'config.uplinkInterfaces',
    default: 'auto' as 'auto' | readonly string[],
    description: 'Which interfaces are uplinks (their traffic is not a pod\'s: egress hook only). auto: a veth is an uplink when a route through it has a gateway or leads to a network (a default route, another node\'s pod CIDR), otherwise it is a pod veth; a list: exactly the named veths are uplinks. `check` and the start-up log say what was chosen and why',
    accepted: 'auto or a comma-separated list of interface names, each optionally ending in * to match a prefix, such as eth0 or eth0,bond*', parse: interfaceList,
    format: (v: 'auto' | readonly string[]) => (v === 'auto' ? v : v.join(',')),
  },
  onShutdown: {
    env: 'EBPF_ON_SHUTDOWN', flag: '--on-shutdown', chartValue: 'config.onShutdown',
    default: 'auto' as 'auto' | 'keep' | 'cleanup',
    description: 'keep: leave programs attached and state pinned on SIGTERM so the next agent continues without losing a byte (rolling updates); cleanup: remove everything; auto: keep while the DaemonSet exists, cleanup when it is gone or outside Kubernetes',
    accepted: 'one of auto, keep, cleanup', parse: oneOf('auto', 'keep', 'cleanup'), format: str,
  },
  enableProfiling: {
    env: 'EBPF_ENABLE_PROFILING', flag: '--enable-profiling', chartValue: 'config.enableProfiling',
    default: false, description: 'Serve CPU profiles and heap snapshots on the profiling port (/debug/cpu-profile, /debug/heap-snapshot)',
    accepted: 'true or false', parse: bool, format: (v: boolean) => String(v),
  },
  profilingPort: {
    env: 'EBPF_PROFILING_PORT', flag: '--profiling-port', chartValue: 'config.profilingPort',
    default: 6060, description: 'TCP port of the profiling server (bound to 127.0.0.1 unless the metrics address is)',
    accepted: 'an integer from 1 to 65535', parse: integer(1, 65535), format: num,
  },
  dumpBpfMaps: {
    env: 'EBPF_DUMP_BPF_MAPS', flag: '--dump-bpf-maps', chartValue: 'config.dumpBPFMaps',
    default: false, description: 'Log every drained flow record at debug level (troubleshooting only: one line per connection)',
    accepted: 'true or false', parse: bool, format: (v: boolean) => String(v),
  },
  kubernetes: {
    env: 'EBPF_KUBERNETES', flag: '--kubernetes', chartValue: 'config.kubernetes',
    default: false,
    description: 'Watch Pods, Nodes and Services through the Kubernetes API and export kubeadapt_workload_traffic_* (bytes per source workload, destination workload and cost class); stays off, with a warning, when no API credentials are found',
    accepted: 'on or off (or true, false)', parse: onOff, format: (v: boolean) => String(v),
  },
  pairMetrics: {
    env: 'EBPF_PAIR_METRICS', flag: '--pair-metrics', chartValue: 'config.pairMetrics',
    default: true,
    description: 'Export the per-IP-pair families (kubeadapt_connection_traffic_*, kubeadapt_active_connections); off leaves the bounded workload families only (counting and the pinned totals go on)',
    accepted: 'on or off (or true, false)', parse: onOff, format: (v: boolean) => String(v),
  },
  pairDestinationGroups: {
    env: 'EBPF_PAIR_DESTINATION_GROUPS', flag: '--pair-destination-groups', chartValue: 'config.pairDestinationGroups',
    default: false,
    description: 'In kubeadapt_connection_traffic_*, write a destination address that is in a named group of the destinations file (costDestinations) as the group\'s name (dst_ip="<group>"): one series per source and group instead of one per address (kubeadapt_active_connections stays per address: EBPF_CONNECTION_TRACKING=false drops it)',
    accepted: 'true or false', parse: bool, format: (v: boolean) => String(v),
  },
  workloadTtl: {
    env: 'EBPF_WORKLOAD_TTL', flag: '--workload-ttl', chartValue: 'config.workloadTtl',
    default: 300_000, description: 'Workload series without traffic for this long are dropped from /metrics',
    accepted: 'a duration from 1s to 24h such as 90s, 5m or 1h', parse: durationBetween(1000, 86_400_000),
    format: formatDuration,
  },
  destinationsFile: {
    env: 'EBPF_DESTINATIONS_FILE', flag: '--destinations-file',
    default: '/etc/ebpf-agent/cost/destinations.json', description: 'JSON file classing addresses outside the cluster (destinations.in-zone, in-region, cross-region, internet CIDR lists and named groups; see docs/cost.md), where the chart mounts its costDestinations value. Missing at the default path: public addresses are internet, private ones unknown; missing elsewhere: an error',
    accepted: `an absolute path (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`, parse: absolutePath, format: str,
  },
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type Config = { -readonly [K in SettingKey]: Exclude<ReturnType<(typeof SETTINGS)[K]['parse']>, undefined> };
