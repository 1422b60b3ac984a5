import {
  ReviewUnavailable
} from "./chunk-GJE3LX66.js";
import {
  close,
  listen
} from "./chunk-GCQEIODM.js";
import {
  CidrTable,
  addressBytes,
  formatIPv4,
  formatIPv6,
  isPrivate,
  parseCidr
} from "./chunk-XSLD4COI.js";
import {
  ApiError,
  loadApiClient,
  retryDelayMs
} from "./chunk-WNMV4U57.js";
import {
  decideRoles,
  runChecks
} from "./chunk-ZRGYL2CZ.js";
import {
  Attacher,
  BPF_FS_MAGIC,
  DEFAULT_OBJECT_PATH,
  loadAddon,
  resolveAttachMode
} from "./chunk-7CANT5TN.js";

// agent/dist/config/settings.js
import { isIP } from "node:net";
var DURATION_UNITS = { ms: 1, s: 1e3, m: 6e4, h: 36e5 };
var MAX_DURATION_LENGTH = 32;
function parseDuration(text) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    consumed = re.lastIndex;
  }
  if (text.length === 0 || text.length > MAX_DURATION_LENGTH || consumed !== text.length)
    return void 0;
  return Math.round(total);
}
function formatDuration(ms) {
  if (ms % 36e5 === 0)
    return `${ms / 36e5}h`;
  if (ms % 6e4 === 0)
    return `${ms / 6e4}m`;
  if (ms % 1e3 === 0)
    return `${ms / 1e3}s`;
  return `${ms}ms`;
}
function integer(min, max) {
  return (text) => {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(text))
      return void 0;
    const n = Number(text);
    return n >= min && n <= max ? n : void 0;
  };
}
function oneOf(...values) {
  return (text) => values.includes(text) ? text : void 0;
}
function durationBetween(minMs, maxMs) {
  return (text) => {
    const ms = parseDuration(text);
    return ms !== void 0 && ms >= minMs && ms <= maxMs ? ms : void 0;
  };
}
var bool = (text) => text === "true" ? true : text === "false" ? false : void 0;
var ipAddress = (text) => isIP(text) !== 0 && !text.includes("%") ? text : void 0;
var MAX_PATH_LENGTH = 1024;
var absolutePath = (text) => {
  if (text.length < 2 || text.length > MAX_PATH_LENGTH || !/^\/[A-Za-z0-9._:@/-]+$/.test(text))
    return void 0;
  const trimmed = text.replace(/\/+$/, "");
  const segments = trimmed.split("/").slice(1);
  if (segments.length === 0 || segments.some((seg) => seg === "" || seg === "." || seg === ".."))
    return void 0;
  return trimmed;
};
var INTERFACE_LIST_PATTERN = "^(auto|[A-Za-z0-9_.@-]{1,15}\\*?(,[A-Za-z0-9_.@-]{1,15}\\*?)*)$";
var INTERFACE_LIST = new RegExp(INTERFACE_LIST_PATTERN);
var interfaceList = (text) => text === "auto" ? "auto" : INTERFACE_LIST.test(text) && !text.split(",").some((n) => /^\.\.?\*?$/.test(n)) ? text.split(",") : void 0;
var str = (v) => v;
var onOff = (text) => text === "on" || text === "true" ? true : text === "off" || text === "false" ? false : void 0;
var num = (v) => String(v);
var SETTINGS = {
  metricsPort: {
    env: "EBPF_METRICS_PORT",
    flag: "--metrics-port",
    chartValue: "config.metricsPort",
    default: 9090,
    description: "TCP port of the HTTP server for /metrics and /health",
    accepted: "an integer from 1 to 65535",
    parse: integer(1, 65535),
    format: num
  },
  metricsAddress: {
    env: "EBPF_METRICS_ADDRESS",
    flag: "--metrics-address",
    chartValue: "config.metricsAddress",
    default: "0.0.0.0",
    description: "Address the HTTP server binds to",
    accepted: "an IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::",
    parse: ipAddress,
    format: str
  },
  metricsAuth: {
    env: "EBPF_METRICS_AUTH",
    flag: "--metrics-auth",
    chartValue: "config.metricsAuth",
    default: "none",
    description: "none: /metrics over plain HTTP to anyone who reaches the port; kubernetes: HTTPS, and each request's bearer token must pass a TokenReview and a SubjectAccessReview for get on the non-resource URL /metrics (/health/* stays open for the kubelet)",
    accepted: "one of none, kubernetes",
    parse: oneOf("none", "kubernetes"),
    format: str
  },
  metricsTlsCertFile: {
    env: "EBPF_METRICS_TLS_CERT_FILE",
    flag: "--metrics-tls-cert-file",
    default: "/etc/ebpf-agent/tls/tls.crt",
    description: "PEM certificate (chain) of the HTTPS server when EBPF_METRICS_AUTH is kubernetes; re-read when it changes",
    accepted: `an absolute path (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`,
    parse: absolutePath,
    format: str
  },
  metricsTlsKeyFile: {
    env: "EBPF_METRICS_TLS_KEY_FILE",
    flag: "--metrics-tls-key-file",
    default: "/etc/ebpf-agent/tls/tls.key",
    description: "PEM private key of the HTTPS server when EBPF_METRICS_AUTH is kubernetes; re-read when it changes",
    accepted: `an absolute path (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`,
    parse: absolutePath,
    format: str
  },
  collectionInterval: {
    env: "EBPF_COLLECTION_INTERVAL",
    flag: "--collection-interval",
    chartValue: "config.collectionInterval",
    default: 25e3,
    description: "How often the flow maps are drained into the counters",
    accepted: "a duration from 100ms to 1h such as 500ms, 1s, 25s or 1m",
    parse: durationBetween(100, 36e5),
    format: formatDuration
  },
  logLevel: {
    env: "EBPF_LOG_LEVEL",
    flag: "--log-level",
    chartValue: "config.logLevel",
    default: "info",
    description: "Lowest level that is logged",
    accepted: "one of debug, info, warn, error",
    parse: oneOf("debug", "info", "warn", "error"),
    format: str
  },
  logFormat: {
    env: "EBPF_LOG_FORMAT",
    flag: "--log-format",
    chartValue: "config.logFormat",
    default: "json",
    description: "Log line format",
    accepted: "one of json, console",
    parse: oneOf("json", "console"),
    format: str
  },
  netnsFilterMode: {
    env: "EBPF_NETNS_FILTER_MODE",
    flag: "--netns-filter-mode",
    chartValue: "config.netnsFilterMode",
    default: "default",
    description: "default: count pods (hostNetwork pods too) and leave out host system traffic; disabled: count everything",
    accepted: "one of default, disabled",
    parse: oneOf("default", "disabled"),
    format: str
  },
  connectionTracking: {
    env: "EBPF_CONNECTION_TRACKING",
    flag: "--connection-tracking",
    chartValue: "config.connectionTracking",
    default: true,
    description: "Export kubeadapt_active_connections (distinct 5-tuples per IP pair and interval)",
    accepted: "true or false",
    parse: bool,
    format: (v) => String(v)
  },
  serviceResolution: {
    env: "EBPF_SERVICE_RESOLUTION",
    flag: "--service-resolution",
    chartValue: "config.serviceResolution",
    default: "conntrack",
    description: "conntrack: count a pod's traffic to a Service (ClusterIP, NodePort) under the backend pod that received it, from the node's conntrack at each drain; off: under the Service address the pod sent to",
    accepted: "one of conntrack, off",
    parse: oneOf("conntrack", "off"),
    format: str
  },
  pinPath: {
    env: "EBPF_BPF_PIN_PATH",
    flag: "--bpf-pin-path",
    chartValue: "config.pinPath",
    default: "/sys/fs/bpf/kubeadapt",
    description: "bpffs directory where the agent pins its maps",
    accepted: `an absolute path on a bpf filesystem (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`,
    parse: absolutePath,
    format: str
  },
  maxFlows: {
    env: "EBPF_MAX_FLOWS",
    flag: "--max-flows",
    chartValue: "config.maxFlows",
    default: 65536,
    description: "Capacity of the flow map (connections per collection interval); new flows beyond it go to the overflow ring buffer",
    accepted: "an integer from 16 to 16777216",
    parse: integer(16, 16777216),
    format: num
  },
  maxPairs: {
    env: "EBPF_MAX_PAIRS",
    flag: "--max-pairs",
    chartValue: "config.maxPairs",
    default: 131072,
    description: 'Capacity of the pair ledger (pinned pair_totals map): IP pairs exported within EBPF_PAIR_TTL, plus one entry for the loss; traffic of new pairs beyond it is counted in kubeadapt_connection_traffic_dropped_bytes_total{reason="pair_ledger_full"}',
    accepted: "an integer from 1024 to 16777216",
    parse: integer(1024, 16777216),
    format: num
  },
  pairTtl: {
    env: "EBPF_PAIR_TTL",
    flag: "--pair-ttl",
    chartValue: "config.pairTtl",
    default: 3e5,
    description: "Series of IP pairs without traffic for this long are dropped from /metrics",
    accepted: "a duration from 1s to 24h such as 90s, 5m or 1h",
    parse: durationBetween(1e3, 864e5),
    format: formatDuration
  },
  attachMode: {
    env: "EBPF_ATTACH_MODE",
    flag: "--attach-mode",
    chartValue: "config.attachMode",
    default: "auto",
    description: "auto: tcx where the kernel has it (6.6+), legacy TC (clsact + cls_bpf) otherwise",
    accepted: "one of auto, tcx, tc",
    parse: oneOf("auto", "tcx", "tc"),
    format: str
  },
  podCgroup: {
    env: "EBPF_POD_CGROUP",
    flag: "--pod-cgroup",
    chartValue: "config.podCgroup",
    default: "auto",
    description: "The cgroup v2 directory that holds the pods (kubepods): in netns filter mode default, host traffic counts only from sockets below it (hostNetwork pods); auto looks for kubepods.slice and kubepods",
    accepted: `auto or an absolute path of a cgroup v2 directory (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`,
    parse: (t) => t === "auto" ? t : absolutePath(t),
    format: str
  },
  uplinkInterfaces: {
    env: "EBPF_UPLINK_INTERFACES",
    flag: "--uplink-interfaces",
    chartValue: "config.uplinkInterfaces",
    default: "auto",
    description: "Which interfaces are uplinks (their traffic is not a pod's: egress hook only). auto: a veth is an uplink when a route through it has a gateway or leads to a network (a default route, another node's pod CIDR), otherwise it is a pod veth; a list: exactly the named veths are uplinks. `check` and the start-up log say what was chosen and why",
    accepted: "auto or a comma-separated list of interface names, each optionally ending in * to match a prefix, such as eth0 or eth0,bond*",
    parse: interfaceList,
    format: (v) => v === "auto" ? v : v.join(",")
  },
  onShutdown: {
    env: "EBPF_ON_SHUTDOWN",
    flag: "--on-shutdown",
    chartValue: "config.onShutdown",
    default: "auto",
    description: "keep: leave programs attached and state pinned on SIGTERM so the next agent continues without losing a byte (rolling updates); cleanup: remove everything; auto: keep while the DaemonSet exists, cleanup when it is gone or outside Kubernetes",
    accepted: "one of auto, keep, cleanup",
    parse: oneOf("auto", "keep", "cleanup"),
    format: str
  },
  enableProfiling: {
    env: "EBPF_ENABLE_PROFILING",
    flag: "--enable-profiling",
    chartValue: "config.enableProfiling",
    default: false,
    description: "Serve CPU profiles and heap snapshots on the profiling port (/debug/cpu-profile, /debug/heap-snapshot)",
    accepted: "true or false",
    parse: bool,
    format: (v) => String(v)
  },
  profilingPort: {
    env: "EBPF_PROFILING_PORT",
    flag: "--profiling-port",
    chartValue: "config.profilingPort",
    default: 6060,
    description: "TCP port of the profiling server (bound to 127.0.0.1 unless the metrics address is)",
    accepted: "an integer from 1 to 65535",
    parse: integer(1, 65535),
    format: num
  },
  dumpBpfMaps: {
    env: "EBPF_DUMP_BPF_MAPS",
    flag: "--dump-bpf-maps",
    chartValue: "config.dumpBPFMaps",
    default: false,
    description: "Log every drained flow record at debug level (troubleshooting only: one line per connection)",
    accepted: "true or false",
    parse: bool,
    format: (v) => String(v)
  },
  kubernetes: {
    env: "EBPF_KUBERNETES",
    flag: "--kubernetes",
    chartValue: "config.kubernetes",
    default: false,
    description: "Watch Pods, Nodes and Services through the Kubernetes API and export kubeadapt_workload_traffic_* (bytes per source workload, destination workload and cost class); stays off, with a warning, when no API credentials are found",
    accepted: "on or off (or true, false)",
    parse: onOff,
    format: (v) => String(v)
  },
  pairMetrics: {
    env: "EBPF_PAIR_METRICS",
    flag: "--pair-metrics",
    chartValue: "config.pairMetrics",
    default: true,
    description: "Export the per-IP-pair families (kubeadapt_connection_traffic_*, kubeadapt_active_connections); off leaves the bounded workload families only (counting and the pinned totals go on)",
    accepted: "on or off (or true, false)",
    parse: onOff,
    format: (v) => String(v)
  },
  pairDestinationGroups: {
    env: "EBPF_PAIR_DESTINATION_GROUPS",
    flag: "--pair-destination-groups",
    chartValue: "config.pairDestinationGroups",
    default: false,
    description: `In kubeadapt_connection_traffic_*, write a destination address that is in a named group of the destinations file (costDestinations) as the group's name (dst_ip="<group>"): one series per source and group instead of one per address (kubeadapt_active_connections stays per address: EBPF_CONNECTION_TRACKING=false drops it)`,
    accepted: "true or false",
    parse: bool,
    format: (v) => String(v)
  },
  workloadTtl: {
    env: "EBPF_WORKLOAD_TTL",
    flag: "--workload-ttl",
    chartValue: "config.workloadTtl",
    default: 3e5,
    description: "Workload series without traffic for this long are dropped from /metrics",
    accepted: "a duration from 1s to 24h such as 90s, 5m or 1h",
    parse: durationBetween(1e3, 864e5),
    format: formatDuration
  },
  destinationsFile: {
    env: "EBPF_DESTINATIONS_FILE",
    flag: "--destinations-file",
    default: "/etc/ebpf-agent/cost/destinations.json",
    description: "JSON file classing addresses outside the cluster (destinations.in-zone, in-region, cross-region, internet CIDR lists and named groups; see docs/cost.md), where the chart mounts its costDestinations value. Missing at the default path: public addresses are internet, private ones unknown; missing elsewhere: an error",
    accepted: `an absolute path (A-Z a-z 0-9 . _ : @ - /, no . or .. segments, at most ${MAX_PATH_LENGTH} characters)`,
    parse: absolutePath,
    format: str
  }
};

// agent/dist/config/load.js
var ConfigError = class extends Error {
};
var KEYS = Object.keys(SETTINGS);
var QUOTE_CHARS = 64;
function quote(text) {
  const cut = text.length > QUOTE_CHARS ? text.slice(0, QUOTE_CHARS) : text;
  const quoted = JSON.stringify(cut).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return text.length > QUOTE_CHARS ? `${quoted}... (${text.length} characters)` : quoted;
}
function parseOne(key2, source, text) {
  const s = SETTINGS[key2];
  const value = s.parse(text);
  if (value === void 0) {
    throw new ConfigError(`invalid ${source}=${quote(text)}: expected ${s.accepted}${text === "" ? " (unset it for the default)" : ""}`);
  }
  return value;
}
function loadConfig(argv, env) {
  const config = {};
  for (const key2 of KEYS) {
    const s = SETTINGS[key2];
    const text = env[s.env];
    config[key2] = text === void 0 ? s.default : parseOne(key2, s.env, text);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, void 0];
    const key2 = KEYS.find((k) => SETTINGS[k].flag === flag);
    if (!key2)
      throw new ConfigError(`unknown argument ${quote(arg)}: run with --help for the accepted flags`);
    const text = inline ?? argv[++i];
    if (text === void 0)
      throw new ConfigError(`flag ${flag} needs a value: expected ${SETTINGS[key2].accepted}`);
    config[key2] = parseOne(key2, flag, text);
  }
  const c = config;
  if (c.enableProfiling && c.profilingPort === c.metricsPort) {
    throw new ConfigError(`invalid ${SETTINGS.profilingPort.env}=${c.profilingPort}: expected a port other than ${SETTINGS.metricsPort.env} (${c.metricsPort}) when profiling is enabled`);
  }
  return c;
}
function helpText() {
  const lines = [
    "Usage: node agent/dist/main.js [command] [flags]",
    "",
    "Commands:",
    "  run (default)   attach the TC programs and serve /metrics",
    "  check           run the preflight checks and exit (0 pass, 1 a check failed, 2 bad usage)",
    "  cleanup         detach our programs and remove the pinned state (uninstall)",
    "",
    "Every flag can also be set by its environment variable; flags win.",
    ""
  ];
  for (const key2 of KEYS) {
    const s = SETTINGS[key2];
    const def = s.format(s.default);
    lines.push(`  ${s.flag} <value>   ${s.env} (default ${def})`, `      ${s.description}; ${s.accepted}`);
  }
  return lines.join("\n");
}

// agent/dist/log.js
var ORDER = { debug: 10, info: 20, warn: 30, error: 40 };
function errorFields(v) {
  if (v instanceof Error) {
    const e = v;
    return { message: e.message, code: e.code, errno: e.errno };
  }
  return v;
}
function createLogger(level, format, out = process.stdout) {
  const min = ORDER[level];
  const write = (lvl, msg, fields = {}) => {
    if (ORDER[lvl] < min)
      return;
    const time = (/* @__PURE__ */ new Date()).toISOString();
    const clean = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, errorFields(v)]));
    if (format === "json") {
      out.write(`${JSON.stringify({ time, level: lvl, msg, ...clean })}
`);
    } else {
      const kv = Object.entries(clean).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
      out.write(`${time} ${lvl.toUpperCase().padEnd(5)} ${msg}${kv.length ? " " + kv.join(" ") : ""}
`);
    }
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    enabled: (l) => ORDER[l] >= min
  };
}

// agent/dist/lifecycle.js
import { mkdirSync, rmSync as rmSync2, existsSync as existsSync3, statfsSync } from "node:fs";
import { dirname, join as join3 } from "node:path";

// agent/dist/metrics/prom.js
import { createRequire } from "node:module";
var require2 = createRequire(import.meta.url);
var Registry = require2("prom-client/lib/registry");
var Counter = require2("prom-client/lib/counter");
var Gauge = require2("prom-client/lib/gauge");
var Histogram = require2("prom-client/lib/histogram");

// agent/dist/metrics/definitions.js
var pairLabels = ["src_ip", "dst_ip", "protocol"];
var workloadLabels = ["src_namespace", "src_workload", "src_kind", "dst_namespace", "dst_workload", "dst_kind", "cost_class"];
var METRICS = {
  trafficBytes: {
    name: "kubeadapt_connection_traffic_bytes_total",
    type: "counter",
    help: "Cumulative egress bytes (L3: IP header and payload) per source IP, destination IP and protocol (use rate() for throughput)",
    labels: pairLabels,
    group: "traffic"
  },
  trafficPackets: {
    name: "kubeadapt_connection_traffic_packets_total",
    type: "counter",
    help: "Cumulative egress packets (GSO super-packets count as the segments they become on the wire)",
    labels: pairLabels,
    group: "traffic"
  },
  activeConnections: {
    name: "kubeadapt_active_connections",
    type: "gauge",
    help: "Distinct connections (5-tuples) with traffic in the last collection interval",
    labels: pairLabels,
    group: "traffic"
  },
  workloadBytes: {
    name: "kubeadapt_workload_traffic_bytes_total",
    type: "counter",
    help: "Egress bytes (L3) per source workload, destination workload and cost class, from the IP pairs this agent counted (EBPF_KUBERNETES=on; restarts at 0 with the agent)",
    labels: workloadLabels,
    group: "traffic",
    requires: "kubernetes"
  },
  workloadPackets: {
    name: "kubeadapt_workload_traffic_packets_total",
    type: "counter",
    help: "Egress packets per source workload, destination workload and cost class (EBPF_KUBERNETES=on; restarts at 0 with the agent)",
    labels: workloadLabels,
    group: "traffic",
    requires: "kubernetes"
  },
  loadStatus: {
    name: "kubeadapt_bpf_load_status",
    type: "gauge",
    help: "BPF program load status (1=loaded, 0=failed)",
    labels: ["program"],
    group: "internal"
  },
  loadAttempts: {
    name: "kubeadapt_bpf_load_attempts_total",
    type: "counter",
    help: "Total BPF load attempts",
    labels: [],
    group: "internal"
  },
  loadDuration: {
    name: "kubeadapt_bpf_load_duration_seconds",
    type: "gauge",
    help: "Duration of the last BPF object load (open, verify, load) in seconds",
    labels: [],
    group: "internal"
  },
  mapUtilization: {
    name: "kubeadapt_bpf_map_utilization_percent",
    type: "gauge",
    help: "BPF map utilization (0-100%) at the last collection",
    labels: ["map"],
    group: "internal"
  },
  unresolvedServiceFlows: {
    name: "kubeadapt_unresolved_service_flows_total",
    type: "counter",
    help: "Connections to a Service address exported under that address because their backend was unknown (reason: entry_gone, events_lost, conntrack_unavailable)",
    labels: ["reason"],
    group: "internal"
  },
  overflowFlows: {
    name: "kubeadapt_overflow_flows_total",
    type: "counter",
    help: "Flow records sent to the overflow ring buffer because the flow map was full",
    labels: [],
    group: "internal"
  },
  overflowShare: {
    name: "kubeadapt_overflow_flow_ratio",
    type: "gauge",
    help: "Share (0 to 1) of the last interval's flow records that went through the overflow ring buffer instead of the flow map",
    labels: [],
    group: "internal"
  },
  ipPairsBatchSize: {
    name: "kubeadapt_ip_pairs_batch_size",
    type: "gauge",
    help: "Number of IP pairs (source IP, destination IP, protocol) in the last collection batch",
    labels: [],
    group: "internal"
  },
  collectionDuration: {
    name: "kubeadapt_ebpf_collection_duration_seconds",
    type: "histogram",
    help: "Map collection cycle duration in seconds",
    labels: [],
    group: "internal",
    buckets: [5e-4, 1e-3, 25e-4, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
  },
  collectorErrors: {
    name: "kubeadapt_collector_errors_total",
    type: "counter",
    help: "Collection errors by type (drain, attach, detach, ringbuf_full, map_update, ...)",
    labels: ["type"],
    group: "internal"
  },
  droppedBytes: {
    name: "kubeadapt_connection_traffic_dropped_bytes_total",
    type: "counter",
    help: "Egress bytes the programs counted that are in no exported series, by reason (pair_ledger_full: a new IP pair while the pair ledger held EBPF_MAX_PAIRS entries; ringbuf_full: the flow map and the overflow ring buffer were both full)",
    labels: ["reason"],
    group: "internal"
  },
  droppedPackets: {
    name: "kubeadapt_connection_traffic_dropped_packets_total",
    type: "counter",
    help: "Egress packets the programs counted that are in no exported series, by reason (pair_ledger_full, ringbuf_full)",
    labels: ["reason"],
    group: "internal"
  },
  connectionTrackingInfo: {
    name: "kubeadapt_connection_tracking_info",
    type: "gauge",
    help: "Connection tracking configuration info (always 1; the labels carry the settings)",
    labels: ["enabled", "netns_filter_mode", "max_flows"],
    group: "internal"
  },
  ignoredPackets: {
    name: "kubeadapt_bpf_ignored_packets_total",
    type: "counter",
    help: "Packets seen by the TC programs but not counted as TCP/UDP traffic, by reason",
    labels: ["reason"],
    group: "internal"
  },
  kubernetesObjects: {
    name: "kubeadapt_kubernetes_objects",
    type: "gauge",
    help: "Pods, Nodes and Services the cost attribution knows from the Kubernetes API (EBPF_KUBERNETES=on)",
    labels: ["resource"],
    group: "internal",
    requires: "kubernetes"
  },
  kubernetesWatchErrors: {
    name: "kubeadapt_kubernetes_watch_errors_total",
    type: "counter",
    help: "Failed lists and watches of the Kubernetes API (each is retried; attribution goes on from what is known)",
    labels: ["resource"],
    group: "internal",
    requires: "kubernetes"
  },
  attachedInterfaces: {
    name: "kubeadapt_attached_interfaces",
    type: "gauge",
    help: "Interfaces the TC programs are currently attached to",
    labels: [],
    group: "internal"
  }
};
var METRIC_LIST = Object.values(METRICS);

// agent/dist/bpf/records.js
var FLOW_KEY_SIZE = 40;
var OVERFLOW_RECORD_SIZE = 64;
function copyPairKey(flow, at, out, to) {
  flow.copy(out, to, at, at + 4);
  flow.copy(out, to + 4, at + 8, at + FLOW_KEY_SIZE);
}
var PROTOCOL_NAMES = { 6: "tcp", 17: "udp" };

// agent/dist/collector/pair-table.js
var PAIR_KEY_SIZE = 36;
var MAX_LABEL_TEXT = 128;
function grow(a, capacity) {
  const b = new a.constructor(capacity);
  b.set(a);
  return b;
}
function protocolOf(key2, at) {
  const protocol = PROTOCOL_NAMES[key2[at + 1]];
  if (!protocol)
    throw new Error(`pair with protocol ${key2[at + 1]}: the BPF object and agent disagree`);
  return protocol;
}
function pairLabels2(key2, at = 0) {
  const protocol = protocolOf(key2, at);
  const fmt = key2[at] === 6 ? formatIPv6 : formatIPv4;
  return { src_ip: fmt(key2, at + 4), dst_ip: fmt(key2, at + 20), protocol };
}
var KEY_WORDS = PAIR_KEY_SIZE / 4;
function wordsOf(bytes) {
  return bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) : void 0;
}
var oneKey = new Int32Array(KEY_WORDS);
var oneKeyBytes = new Uint8Array(oneKey.buffer);
var PairIndex = class _PairIndex {
  table;
  slots = new Int32Array(1024).fill(-1);
  mask = 1023;
  size = 0;
  constructor(table) {
    this.table = table;
  }
  /** The key at words[w..w+9). */
  static hash(words, w) {
    let h = 2166136261;
    for (let i = 0; i < KEY_WORDS; i++) {
      h = Math.imul(h ^ words[w + i], 2654435761);
      h ^= h >>> 15;
    }
    return h >>> 0;
  }
  hashRow(row) {
    return _PairIndex.hash(this.table.keyWords, row * KEY_WORDS);
  }
  find(raw, at) {
    const words = at % 4 === 0 ? wordsOf(raw) : void 0;
    if (words)
      return this.findWords(words, at >> 2);
    for (let i = 0; i < PAIR_KEY_SIZE; i++)
      oneKeyBytes[i] = raw[at + i];
    return this.findWords(oneKey, 0);
  }
  /** The row of the key at words[w..w+9), or -1. */
  findWords(words, w) {
    const keys = this.table.keyWords;
    for (let i = _PairIndex.hash(words, w) & this.mask; ; i = i + 1 & this.mask) {
      const row = this.slots[i];
      if (row < 0)
        return -1;
      const k = row * KEY_WORDS;
      let j = 0;
      while (j < KEY_WORDS && keys[k + j] === words[w + j])
        j++;
      if (j === KEY_WORDS)
        return row;
    }
  }
  /** The row's key is already in the table's keys. */
  insert(row) {
    if ((this.size + 1) * 2 > this.slots.length)
      this.rehash(this.slots.length * 2);
    this.place(row);
    this.size++;
  }
  place(row) {
    let i = this.hashRow(row) & this.mask;
    while (this.slots[i] >= 0)
      i = i + 1 & this.mask;
    this.slots[i] = row;
  }
  /** Backward-shift deletion: no tombstones, probe chains stay short. */
  delete(row) {
    let i = this.hashRow(row) & this.mask;
    while (this.slots[i] !== row)
      i = i + 1 & this.mask;
    for (let j = i + 1 & this.mask; this.slots[j] >= 0; j = j + 1 & this.mask) {
      const home = this.hashRow(this.slots[j]) & this.mask;
      if (i <= j ? i < home && home <= j : i < home || home <= j)
        continue;
      this.slots[i] = this.slots[j];
      i = j;
    }
    this.slots[i] = -1;
    this.size--;
  }
  rehash(capacity) {
    const old = this.slots;
    this.slots = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    for (const row of old)
      if (row >= 0)
        this.place(row);
  }
};
function put(out, s, n) {
  for (let i = 0; i < s.length; i++)
    out[n++] = s.charCodeAt(i);
  return n;
}
function putIPv4(out, key2, at, n) {
  for (let i = 0; i < 4; i++) {
    const v = key2[at + i];
    if (i)
      out[n++] = 46;
    if (v >= 100)
      out[n++] = 48 + (v / 100 | 0);
    if (v >= 10)
      out[n++] = 48 + (v / 10 | 0) % 10;
    out[n++] = 48 + v % 10;
  }
  return n;
}
function putLabels(out, key2, at, n) {
  const protocol = protocolOf(key2, at);
  const v6 = key2[at] === 6;
  n = put(out, '{src_ip="', n);
  n = v6 ? put(out, formatIPv6(key2, at + 4), n) : putIPv4(out, key2, at + 4, n);
  n = put(out, '",dst_ip="', n);
  n = v6 ? put(out, formatIPv6(key2, at + 20), n) : putIPv4(out, key2, at + 20, n);
  n = put(out, '",protocol="', n);
  n = put(out, protocol, n);
  return put(out, '"}', n);
}
var scratch = Buffer.alloc(MAX_LABEL_TEXT);
function labelText(key2, at) {
  return scratch.toString("latin1", 0, putLabels(scratch, key2, at, 0));
}
var PairTable = class {
  index = new PairIndex(this);
  freeRows = [];
  /**
   * Scrapes stream the table in chunks while collections go on. A pair removed
   * meanwhile keeps its row (dead, found again if it comes back) until the last
   * reader ends, so no scrape can see one pair at two rows.
   */
  readers = 0;
  deadRows = [];
  capacity = 0;
  /** Rows in use are below it; a freed row has no label until it is reused. */
  end = 0;
  keys = Buffer.alloc(0);
  /** The same memory as 32-bit words (PairIndex hashes and compares them). */
  keyWords = new Int32Array(0);
  bytes = new Float64Array(0);
  packets = new Float64Array(0);
  /** The last ledger transaction applied (flow_control epochs stay far below 2^53). */
  epoch = new Float64Array(0);
  lastActiveMs = new Float64Array(0);
  /** Distinct connections in the last finished collection interval. */
  connections = new Uint32Array(0);
  /** The interval in progress: 1 where a transaction applied traffic, and the slot's connections. */
  seen = new Uint8Array(0);
  pending = new Uint32Array(0);
  /** 1 where a row holds a pair. */
  alive = new Uint8Array(0);
  /** Label text of the IPv6 rows (IPv4 text is written from the key). */
  v6Labels = /* @__PURE__ */ new Map();
  /** Whether the active-connections series are exported (EBPF_CONNECTION_TRACKING). */
  trackConnections = true;
  get size() {
    return this.index.size;
  }
  column(name) {
    return this[name];
  }
  /** Every pair gone (a ledger reopened); capacity and readers stay. */
  clear() {
    for (let row = 0; row < this.end; row++)
      this.remove(row);
  }
  /** The row of each of `n` pair_keys (`stride` bytes apart), -1 where there is none; adds nothing. */
  findRows(raw, n, stride) {
    const rows = new Int32Array(n);
    const words = stride % 4 === 0 ? wordsOf(raw) : void 0;
    if (!words) {
      for (let i = 0; i < n; i++)
        rows[i] = this.find(raw, i * stride);
      return rows;
    }
    for (let i = 0, w = 0; i < n; i++, w += stride >> 2) {
      const row = this.index.findWords(words, w);
      rows[i] = row >= 0 && this.live(row) ? row : -1;
    }
    return rows;
  }
  /** Room for `more` rows beyond the end, made in one step. */
  reserveRows(more) {
    if (this.end + more > this.capacity)
      this.reserve(Math.max(this.end + more, this.capacity * 2));
  }
  /** The row of the pair_key at raw[at..], or -1. */
  find(raw, at = 0) {
    const row = this.index.find(raw, at);
    return row >= 0 && this.live(row) ? row : -1;
  }
  live(row) {
    return this.alive[row] === 1;
  }
  writeLabels(row, out, at) {
    const v6 = this.v6Labels.get(row);
    return v6 === void 0 ? putLabels(out, this.keys, row * PAIR_KEY_SIZE, at) : put(out, v6, at);
  }
  /** A new row for the pair_key at raw[at..], zeroed; the caller checked find() first. */
  add(raw, at = 0) {
    protocolOf(raw, at);
    const v6 = raw[at] === 6 ? labelText(raw, at) : void 0;
    const dead = this.index.find(raw, at);
    const row = dead >= 0 ? dead : this.freeRows.pop() ?? this.end++;
    if (row >= this.capacity)
      this.reserve(Math.max(1024, this.capacity * 2));
    const keys = this.keys;
    const to = row * PAIR_KEY_SIZE;
    for (let i = 0; i < PAIR_KEY_SIZE; i++)
      keys[to + i] = raw[at + i];
    this.bytes[row] = this.packets[row] = this.epoch[row] = this.lastActiveMs[row] = 0;
    this.connections[row] = this.pending[row] = this.seen[row] = 0;
    this.alive[row] = 1;
    if (v6 !== void 0)
      this.v6Labels.set(row, v6);
    if (dead < 0)
      this.index.insert(row);
    return row;
  }
  remove(row) {
    if (!this.live(row))
      return;
    this.alive[row] = 0;
    this.v6Labels.delete(row);
    if (this.readers > 0)
      this.deadRows.push(row);
    else
      this.free(row);
  }
  free(row) {
    this.index.delete(row);
    this.freeRows.push(row);
  }
  beginRead() {
    this.readers++;
  }
  endRead() {
    if (--this.readers > 0)
      return;
    for (const row of this.deadRows)
      if (!this.live(row))
        this.free(row);
    this.deadRows = [];
  }
  keyBytes(row) {
    return this.keys.subarray(row * PAIR_KEY_SIZE, (row + 1) * PAIR_KEY_SIZE);
  }
  labelsOf(row) {
    return pairLabels2(this.keys, row * PAIR_KEY_SIZE);
  }
  reserve(capacity) {
    const keys = Buffer.from(new ArrayBuffer(capacity * PAIR_KEY_SIZE));
    this.keys.copy(keys);
    this.keys = keys;
    this.keyWords = wordsOf(keys);
    this.bytes = grow(this.bytes, capacity);
    this.packets = grow(this.packets, capacity);
    this.epoch = grow(this.epoch, capacity);
    this.lastActiveMs = grow(this.lastActiveMs, capacity);
    this.connections = grow(this.connections, capacity);
    this.seen = grow(this.seen, capacity);
    this.pending = grow(this.pending, capacity);
    this.alive = grow(this.alive, capacity);
    this.capacity = capacity;
  }
};

// agent/dist/metrics/pair-series.js
var PairSeries = class {
  table;
  column;
  name;
  help;
  type;
  /** `\n<name>`, copied whole into each line. */
  lineStart;
  constructor(def, table, column) {
    this.table = table;
    this.column = column;
    if (def.type === "histogram")
      throw new Error(`${def.name}: a pair series is a counter or a gauge`);
    this.name = def.name;
    this.help = def.help;
    this.type = def.type;
    this.lineStart = Buffer.from(`
${def.name}`, "latin1");
  }
  shown() {
    return this.column !== "connections" || this.table.trackConnections;
  }
  /** The live rows as {value, labels}, for tests and tools (the exposition does not use it). */
  values() {
    const t = this.table;
    const col = t.column(this.column);
    const out = [];
    if (this.shown()) {
      for (let row = 0; row < t.end; row++)
        if (t.live(row))
          out.push({ value: col[row], labels: t.labelsOf(row) });
    }
    return out;
  }
  /** Upper bound of the bytes renderRows() writes for the whole table. */
  maxBytes() {
    return this.shown() ? this.table.end * this.maxLineBytes() : 0;
  }
  maxLineBytes() {
    return this.name.length + MAX_LABEL_TEXT + 26;
  }
  beginRead() {
    this.table.beginRead();
  }
  endRead() {
    this.table.endRead();
  }
  /**
   * `\n<name>{labels} <value>` per live row from `from`, until the writer holds
   * `until` bytes; returns the next row (table end: done). The table may have
   * changed since the previous call: rows are read afresh.
   */
  renderRows(w, from, until) {
    const t = this.table;
    if (!this.shown())
      return t.end;
    const col = t.column(this.column);
    const line = this.maxLineBytes();
    let row = from;
    for (; row < t.end && w.length < until; row++) {
      if (!t.live(row))
        continue;
      w.reserve(line);
      w.bytes(this.lineStart);
      w.length = t.writeLabels(row, w.buffer, w.length);
      w.byte(32);
      w.number(col[row]);
    }
    return row;
  }
  end() {
    return this.table.end;
  }
};

// agent/dist/cost/classes.js
var COST_CLASSES = ["same_node", "same_zone", "cross_zone", "cross_region", "internet", "unknown"];
function classifyPlaced(src, dst) {
  if (!src || !dst)
    return "unknown";
  if (src.node === dst.node)
    return "same_node";
  if (src.region && dst.region && src.region !== dst.region)
    return "cross_region";
  if (!src.zone || !dst.zone)
    return "unknown";
  if (src.zone === dst.zone)
    return "same_zone";
  return "cross_zone";
}

// agent/dist/cost/workload-table.js
function escape(v) {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
function sideLabelText(role, side) {
  return `${role}_namespace="${escape(side.namespace)}",${role}_workload="${escape(side.workload)}",${role}_kind="${escape(side.kind)}"`;
}
function workloadLabelText(src, dst, cls) {
  return `{${src},${dst},cost_class="${cls}"}`;
}
var WorkloadTable = class {
  index = /* @__PURE__ */ new Map();
  freeRows = [];
  readers = 0;
  deadRows = [];
  /** `{…}` per row; undefined: free. */
  labels = [];
  /** The label text as UTF-8 bytes, copied whole into each scrape (a char-by-char copy of ~190-byte labels was most of a render). */
  labelBytes = [];
  bytes = [];
  packets = [];
  lastActiveMs = [];
  get size() {
    return this.index.size;
  }
  get end() {
    return this.labels.length;
  }
  live(row) {
    return this.labels[row] !== void 0;
  }
  add(src, dst, cls, bytes, packets, nowMs) {
    this.addText(workloadLabelText(sideLabelText("src", src), sideLabelText("dst", dst), cls), bytes, packets, nowMs);
  }
  /** Adds to the row of a label text (`{a="x",…}`, escaped, in the metric's label order). */
  addText(text, bytes, packets, nowMs) {
    let row = this.index.get(text);
    if (row === void 0) {
      row = this.freeRows.pop() ?? this.labels.length;
      this.labels[row] = text;
      this.labelBytes[row] = Buffer.from(text, "utf8");
      this.bytes[row] = 0;
      this.packets[row] = 0;
      this.index.set(text, row);
    }
    this.bytes[row] += bytes;
    this.packets[row] += packets;
    this.lastActiveMs[row] = nowMs;
  }
  /** Drops rows idle longer than ttlMs; returns how many. */
  expire(nowMs, ttlMs) {
    let n = 0;
    for (let row = 0; row < this.labels.length; row++) {
      const l = this.labels[row];
      if (l === void 0 || nowMs - this.lastActiveMs[row] <= ttlMs)
        continue;
      this.index.delete(l);
      this.labels[row] = void 0;
      this.labelBytes[row] = void 0;
      if (this.readers > 0)
        this.deadRows.push(row);
      else
        this.freeRows.push(row);
      n++;
    }
    return n;
  }
  /** A scrape in progress keeps removed rows from being reused until it ends. */
  beginRead() {
    this.readers++;
  }
  endRead() {
    if (--this.readers > 0)
      return;
    this.freeRows.push(...this.deadRows);
    this.deadRows = [];
  }
  labelsOf(row) {
    const out = {};
    for (const m of this.labels[row].matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g))
      out[m[1]] = m[2].replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
    return out;
  }
  /** Sum per cost class (tests, the start-up log). */
  byClass() {
    const out = Object.fromEntries(COST_CLASSES.map((c) => [c, { bytes: 0, packets: 0 }]));
    for (let row = 0; row < this.labels.length; row++) {
      if (!this.live(row))
        continue;
      const c = this.labelsOf(row).cost_class;
      out[c].bytes += this.bytes[row];
      out[c].packets += this.packets[row];
    }
    return out;
  }
};

// agent/dist/metrics/workload-series.js
var WorkloadSeries = class {
  table;
  column;
  name;
  help;
  type;
  /** `\n<name>`, copied whole into each line. */
  lineStart;
  constructor(def, table, column) {
    this.table = table;
    this.column = column;
    if (def.type !== "counter")
      throw new Error(`${def.name}: a workload series is a counter`);
    this.name = def.name;
    this.help = def.help;
    this.type = def.type;
    this.lineStart = Buffer.from(`
${def.name}`, "latin1");
  }
  /** The live rows as {value, labels}, for tests and tools (the exposition does not use it). */
  values() {
    const t = this.table;
    const out = [];
    for (let row = 0; row < t.end; row++)
      if (t.live(row))
        out.push({ value: t[this.column][row], labels: t.labelsOf(row) });
    return out;
  }
  maxBytes() {
    let n = 0;
    const t = this.table;
    for (let row = 0; row < t.end; row++)
      n += (t.labels[row]?.length ?? 0) * 3 + this.name.length + 26;
    return n;
  }
  beginRead() {
    this.table.beginRead();
  }
  endRead() {
    this.table.endRead();
  }
  renderRows(w, from, until) {
    const t = this.table;
    const col = t[this.column];
    let row = from;
    for (; row < t.end && w.length < until; row++) {
      const l = t.labelBytes[row];
      if (l === void 0)
        continue;
      w.reserve(this.name.length + l.length + 26);
      w.bytes(this.lineStart);
      w.bytes(l);
      w.byte(32);
      w.number(col[row]);
    }
    return row;
  }
  end() {
    return this.table.end;
  }
};

// agent/dist/metrics/registry.js
var PAIR_COLUMNS = { trafficBytes: "bytes", trafficPackets: "packets", activeConnections: "connections" };
var WORKLOAD_COLUMNS = { workloadBytes: "bytes", workloadPackets: "packets" };
function build(def, registry) {
  const common = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
  switch (def.type) {
    case "counter":
      return new Counter(common);
    case "gauge":
      return new Gauge(common);
    case "histogram":
      return new Histogram({ ...common, buckets: [...def.buckets ?? []] });
  }
}
function createMetrics(pairs, opts = {}) {
  const registry = new Registry();
  const pairFamilies = [];
  const workloads = new WorkloadTable();
  const groupedPairs = new WorkloadTable();
  const out = { registry, pairs, pairFamilies, workloads, groupedPairs };
  for (const [key2, def] of Object.entries(METRICS)) {
    const column = PAIR_COLUMNS[key2];
    const workloadColumn = WORKLOAD_COLUMNS[key2];
    if (column) {
      const series = new PairSeries(def, pairs, column);
      if (opts.pairMetrics ?? true) {
        pairFamilies.push(opts.groupedPairs && column !== "connections" ? new WorkloadSeries(def, groupedPairs, column) : series);
      }
      out[key2] = series;
    } else if (workloadColumn) {
      const series = new WorkloadSeries(def, workloads, workloadColumn);
      if (opts.workloadMetrics)
        pairFamilies.push(series);
      out[key2] = series;
    } else {
      out[key2] = build(def, registry);
    }
  }
  return out;
}

// agent/dist/metrics/text-writer.js
var TextWriter = class {
  buf;
  length = 0;
  constructor(capacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }
  /** Empty again, keeping the buffer: the metrics server reuses one across scrapes. */
  reset() {
    this.length = 0;
  }
  reserve(n) {
    if (this.length + n <= this.buf.length)
      return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  /** Any text (help strings, label values): UTF-8. */
  string(s) {
    this.reserve(s.length * 3);
    this.length += this.buf.write(s, this.length, "utf8");
  }
  /** Text known to be ASCII (addresses, metric names), copied in place; the caller reserved room. */
  ascii(s) {
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < s.length; i++)
      buf[at++] = s.charCodeAt(i);
    this.length = at;
  }
  /**
   * Text known to be ASCII, in one call to Buffer.write: past ~20 characters
   * that beats ascii()'s loop (a pair's ~55-byte label: 3x, bench/ cost).
   * The caller reserved room (write() stops short rather than grow the buffer).
   */
  latin1(s) {
    this.length += this.buf.write(s, this.length, "latin1");
  }
  /** Bytes already encoded (a series' label text kept as bytes); the caller reserved room. */
  bytes(b) {
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  byte(b) {
    this.buf[this.length++] = b;
  }
  /**
   * A sample value as prom-client writes it (`${value}`): integers up to 2^53
   * digit by digit (the high part first: float division by 10 is inexact
   * above 2^49), anything else through its string. The caller reserved 24 bytes.
   */
  number(v) {
    if (!(Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER)) {
      this.ascii(Number.isNaN(v) ? "Nan" : Number.isFinite(v) ? `${v}` : v < 0 ? "-Inf" : "+Inf");
      return;
    }
    if (v < 1e8) {
      this.digits(v, 0);
      return;
    }
    let hi = Math.floor(v / 1e8);
    let lo = v - hi * 1e8;
    if (lo < 0) {
      hi--;
      lo += 1e8;
    }
    this.digits(hi, 0);
    this.digits(lo, 8);
  }
  /** v < 1e8 in decimal, left-padded with zeros to `width` digits. */
  digits(v, width) {
    let n = 1;
    for (let p = 10; p <= v; p *= 10)
      n++;
    if (n < width)
      n = width;
    const buf = this.buf;
    let at = this.length + n;
    this.length = at;
    for (let i = 0; i < n; i++) {
      const q = v / 10 | 0;
      buf[--at] = 48 + v - q * 10;
      v = q;
    }
  }
  /** The buffer itself, for writers that fill room reserve() made and set `length` after. Valid until the next reserve(). */
  get buffer() {
    return this.buf;
  }
  result() {
    return this.buf.subarray(0, this.length);
  }
};

// agent/dist/metrics/exposition.js
var CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
function escapeHelp(s) {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
function familyHeader(f) {
  return `# HELP ${f.name} ${escapeHelp(f.help)}
# TYPE ${f.name} ${f.type}`;
}
async function streamMetrics(source, w, write, chunkBytes) {
  const { registry, pairFamilies } = source;
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) {
    throw new Error(`the metrics registry renders ${registry.contentType}, not the Prometheus text format the pair families are written in`);
  }
  w.reset();
  if (chunkBytes === Infinity) {
    let estimate = 64 * 1024;
    for (const f of pairFamilies)
      estimate += f.maxBytes();
    w.reserve(estimate);
  }
  const flush = async () => {
    await write(w.result());
    w.reset();
  };
  for (const f of pairFamilies)
    f.beginRead();
  try {
    for (const [i, f] of pairFamilies.entries()) {
      w.string(`${i ? "\n\n" : ""}${familyHeader(f)}`);
      for (let row = 0; row < f.end(); ) {
        row = f.renderRows(w, row, chunkBytes);
        if (w.length >= chunkBytes)
          await flush();
      }
    }
  } finally {
    for (const f of pairFamilies)
      f.endRead();
  }
  const own = registry.getMetricsAsArray().length ? await registry.metrics() : "";
  if (pairFamilies.length)
    w.string(own ? "\n\n" : "\n");
  w.string(own);
  await flush();
}

// agent/dist/metrics/server.js
var { createServer } = process.getBuiltinModule("node:http");
var CHUNK_BYTES = 1024 * 1024;
var HTTP_LIMITS = {
  /** The request line and headers must arrive within this (slowloris). */
  headersTimeoutMs: 1e4,
  /** The whole request must arrive within this (a GET has no body: the same bound, kept explicit). */
  requestTimeoutMs: 15e3,
  /** How often Node looks for requests past those two timeouts (its default is 30 s). */
  connectionsCheckingIntervalMs: 1e3,
  /** Request line + headers; beyond: 431. A scrape's are ~300 bytes, a bearer token ~1 KiB. */
  maxHeaderBytes: 16 * 1024,
  /** An idle kept-alive connection is closed after this (Node's default, stated). */
  keepAliveTimeoutMs: 5e3,
  /** Requests on one kept-alive connection; then it is closed. */
  maxRequestsPerSocket: 1e3,
  /** Open connections at most; the kernel's accept queue holds the rest until one closes. */
  maxConnections: 512,
  /** A response that makes no progress for this long (a client that stopped reading) is cut. */
  idleSocketTimeoutMs: 3e4,
  /** A scrape that has not finished after this is cut, however slowly it is read. */
  scrapeDeadlineMs: 6e4,
  /** /metrics renders at once, each holding a 1 MiB chunk and its socket's buffers. */
  maxConcurrentScrapes: 2,
  /** Scrapes waiting for a render slot; beyond: 503 with Retry-After. */
  maxQueuedScrapes: 32
};
var MetricsServer = class {
  metrics;
  health;
  onError;
  options;
  server;
  certificates;
  /** One chunk buffer for every scrape that does not overlap another. */
  spare;
  rendering = 0;
  queue = [];
  limits;
  /** Counted for the abuse tests and docs/security.md's figures. */
  stats = { scrapes: 0, refusedBusy: 0, unauthenticated: 0, forbidden: 0, reviewFailures: 0, cut: 0 };
  constructor(metrics, health, onError, options = {}) {
    this.metrics = metrics;
    this.health = health;
    this.onError = onError;
    this.options = options;
    this.limits = { ...HTTP_LIMITS, ...options.limits };
  }
  get certificateReloads() {
    return this.certificates?.reloads ?? 0;
  }
  async start(port, address) {
    const l = this.limits;
    const httpOptions = {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      connectionsCheckingInterval: l.connectionsCheckingIntervalMs,
      maxHeaderSize: l.maxHeaderBytes,
      keepAliveTimeout: l.keepAliveTimeoutMs
    };
    const handler = (req, res) => this.handle(req, res);
    let server;
    const tls = this.options.tls;
    if (tls) {
      const { createServer: createHttpsServer } = process.getBuiltinModule("node:https");
      const { CertificateReloader } = await import("./tls-BH6IQO2C.js");
      this.certificates = new CertificateReloader(tls.certFile, tls.keyFile, (pair) => server.setSecureContext(pair), (err) => this.onError(err));
      server = createHttpsServer({ ...httpOptions, ...this.certificates.pair, minVersion: "TLSv1.2" }, handler);
      this.certificates.start(tls.reloadMs ?? 1e4);
    } else {
      server = createServer(httpOptions, handler);
    }
    server.maxConnections = l.maxConnections;
    server.maxRequestsPerSocket = l.maxRequestsPerSocket;
    server.setTimeout(l.idleSocketTimeoutMs);
    server.on("clientError", (err, socket) => {
      const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
      if (socket.writable && !socket.destroyed)
        socket.end(`HTTP/1.1 ${status}\r
connection: close\r
\r
`);
      socket.destroySoon();
    });
    try {
      const bound = await listen(server, port, address);
      this.server = server;
      return bound;
    } catch (err) {
      this.certificates?.stop();
      throw err;
    }
  }
  handle(req, res) {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      void this.authorizeThenServe(req, res);
    } else if (path === "/health/live") {
      const ok = this.health.live();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok\n" : "not live\n");
    } else if (path === "/health/ready") {
      const ok = this.health.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ready\n" : "not ready\n");
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics, /health/live, /health/ready\n");
    }
  }
  /** Authorization comes first, so a client the API server refuses never holds a render slot. */
  async authorizeThenServe(req, res) {
    const authorizer = this.options.authorizer;
    if (authorizer) {
      try {
        const d = await authorizer.decide(req.headers.authorization);
        if (d.kind === "unauthenticated") {
          this.stats.unauthenticated++;
          res.writeHead(401, { "content-type": "text/plain", "www-authenticate": 'Bearer realm="ebpf-agent"' }).end(`unauthorized: ${d.reason}
`);
          return;
        }
        if (d.kind === "forbidden") {
          this.stats.forbidden++;
          res.writeHead(403, { "content-type": "text/plain" }).end(`forbidden: ${d.user} may not get /metrics
`);
          return;
        }
      } catch (err) {
        this.stats.reviewFailures++;
        if (!(err instanceof ReviewUnavailable))
          this.onError(err);
        res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" }).end(`authorization unavailable: ${err.message}
`);
        return;
      }
    }
    if (res.destroyed)
      return;
    if (this.rendering >= this.limits.maxConcurrentScrapes) {
      if (this.queue.length >= this.limits.maxQueuedScrapes) {
        this.stats.refusedBusy++;
        res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" }).end("busy: too many scrapes at once\n");
        return;
      }
      await new Promise((resolve) => this.queue.push(resolve));
    } else {
      this.rendering++;
    }
    try {
      if (!res.destroyed)
        await this.serveMetrics(req.method === "HEAD", res);
    } finally {
      const next = this.queue.shift();
      if (next)
        next();
      else
        this.rendering--;
    }
  }
  /**
   * Streamed in 1 MiB chunks, each written before the next is rendered: at
   * 100k pairs the text is ~30 MiB, which a whole-body buffer kept resident
   * (bench/ footprint). Chunked transfer encoding; a failure after the first
   * chunk cuts the connection so the scrape fails rather than looks short.
   */
  async serveMetrics(head, res) {
    this.stats.scrapes++;
    if (head) {
      res.writeHead(200, { "content-type": CONTENT_TYPE }).end();
      return;
    }
    const deadline = setTimeout(() => {
      this.stats.cut++;
      res.destroy();
    }, this.limits.scrapeDeadlineMs);
    const w = this.spare ?? new TextWriter(CHUNK_BYTES + 64 * 1024);
    this.spare = void 0;
    try {
      await streamMetrics(this.metrics, w, (chunk) => {
        if (res.destroyed)
          return Promise.reject(new Error("scrape client gone"));
        if (!res.headersSent)
          res.writeHead(200, { "content-type": CONTENT_TYPE });
        return new Promise((resolve, reject) => {
          const onClose = () => reject(new Error("scrape client gone"));
          res.once("close", onClose);
          res.write(chunk, (err) => {
            res.off("close", onClose);
            if (err)
              reject(err);
            else
              setImmediate(resolve);
          });
        });
      }, CHUNK_BYTES);
      res.end();
    } catch (err) {
      if (res.headersSent || res.destroyed) {
        res.destroy();
      } else {
        this.onError(err);
        res.writeHead(500).end("metrics rendering failed\n");
      }
    } finally {
      clearTimeout(deadline);
      this.spare = w;
    }
  }
  async stop() {
    this.certificates?.stop();
    const server = this.server;
    this.server = void 0;
    if (server)
      await close(server);
  }
};

// agent/dist/bpf/stats.js
var AGENT_STATS = [
  "ignored_non_ip",
  "ignored_other_l4",
  "ignored_truncated",
  "ignored_ext_limit",
  "overflow_records",
  "ringbuf_full_packets",
  "ringbuf_full_bytes",
  "map_update_failed",
  "skipped_forwarded",
  "skipped_host",
  "skipped_encap"
];
function namedStats(values) {
  const out = {};
  AGENT_STATS.forEach((name, i) => out[name] = values[i] ?? 0);
  return out;
}

// agent/dist/collector/ledger.js
var PAIR_TOTALS_SIZE = 24;
var PAIR_RECORD_SIZE = 56;
var RECORD_BYTES = PAIR_KEY_SIZE;
var RECORD_PACKETS = PAIR_KEY_SIZE + 8;
var RECORD_CONNECTIONS = PAIR_KEY_SIZE + 16;
var TXN_NONE = 0;
var TXN_SLOT = 1;
var TXN_RING = 2;
var SLOT_MAPS = ["connection_flows", "connection_flows_1"];
var U32 = 2 ** 32;
var KEY_WORDS2 = PAIR_KEY_SIZE / 4;
var RECORD_WORDS = PAIR_RECORD_SIZE / 4;
var BYTES_WORD = RECORD_BYTES / 4;
var PACKETS_WORD = RECORD_PACKETS / 4;
var TOTALS_WORDS = PAIR_TOTALS_SIZE / 4;
function alignedWords(b) {
  if (b.byteOffset % 4 === 0)
    return [b.buffer, b.byteOffset, b.length >> 2];
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return [copy.buffer, 0, b.length >> 2];
}
var LOSS_FULL_KEY = Buffer.alloc(PAIR_KEY_SIZE);
LOSS_FULL_KEY[4] = 1;
function writeU64(buf, at, value) {
  buf.writeUInt32LE(value % U32, at);
  buf.writeUInt32LE(Math.floor(value / U32), at + 4);
}
function readU64(buf, at) {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * U32;
}
function foldOverflow(buf) {
  const n = Math.floor(buf.length / OVERFLOW_RECORD_SIZE);
  const out = Buffer.alloc(n * PAIR_RECORD_SIZE);
  const index = /* @__PURE__ */ new Map();
  const bytes = [], packets = [];
  for (let at = 0; at + OVERFLOW_RECORD_SIZE <= buf.length; at += OVERFLOW_RECORD_SIZE) {
    if (!PROTOCOL_NAMES[buf[at + 1]])
      throw new Error(`flow record with protocol ${buf[at + 1]}: the BPF object and agent disagree`);
    copyPairKey(buf, at, out, index.size * PAIR_RECORD_SIZE);
    const key2 = out.toString("latin1", index.size * PAIR_RECORD_SIZE, index.size * PAIR_RECORD_SIZE + PAIR_KEY_SIZE);
    let i = index.get(key2);
    if (i === void 0) {
      i = index.size;
      index.set(key2, i);
      bytes.push(0), packets.push(0);
    }
    bytes[i] += readU64(buf, at + FLOW_KEY_SIZE);
    packets[i] += readU64(buf, at + FLOW_KEY_SIZE + 8);
  }
  for (let i = 0; i < index.size; i++) {
    const at = i * PAIR_RECORD_SIZE;
    writeU64(out, at + RECORD_BYTES, bytes[i]);
    writeU64(out, at + RECORD_PACKETS, packets[i]);
  }
  return out.subarray(0, index.size * PAIR_RECORD_SIZE);
}
var Ledger = class {
  opts;
  table = new PairTable();
  now;
  maps;
  /** Resolves Service addresses to backends (EBPF_SERVICE_RESOLUTION=conntrack). */
  resolver;
  /** pair_totals' max_entries: the traffic pairs plus the reserved loss entry. */
  maxPairs = 0;
  queue = Promise.resolve();
  /** Entries in pair_totals: the table's pairs, foreign entries and the loss entry once written. */
  stored = 0;
  foreign = 0;
  /** The loss entry as pinned: durable totals, the last transaction that added to it. */
  loss = { bytes: 0, packets: 0 };
  lossEpoch = 0;
  lossStored = false;
  /** Loss that could not be written yet (no room even for the loss entry: a map filled by an older agent). */
  unwrittenLoss = { bytes: 0, packets: 0 };
  /** Connections (their ports) the ring transactions applied since the last slot transaction, per row. */
  ringConnections = /* @__PURE__ */ new Map();
  /** The pair_totals batch update's keys and values, reused: MiBs a drain at 100k pairs. */
  keysOut = Buffer.from(new ArrayBuffer(0));
  valuesOut = Buffer.from(new ArrayBuffer(0));
  constructor(opts) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.table.trackConnections = opts.trackConnections;
  }
  /** What /metrics renders: the pairs, read only. */
  get view() {
    return this.table;
  }
  /** Pairs exported. */
  get pairs() {
    return this.table.size;
  }
  /** pair_totals entries in use, of `capacity`. */
  get used() {
    return this.stored;
  }
  get capacity() {
    return this.maxPairs;
  }
  /** Bytes and packets never exported because the ledger was full, durable (continues across restarts). */
  get lost() {
    return { ...this.loss };
  }
  /**
   * Takes the maps (pair_totals with `maxPairs` entries) and reads the pinned
   * totals (what earlier processes exported) into the table. Reopening (a
   * reload) starts over from the pins.
   */
  async open(maps, maxPairs, resolver) {
    if (!Number.isInteger(maxPairs) || maxPairs < 2)
      throw new Error(`ledger: maxPairs ${maxPairs}: at least 2 (one entry is the loss entry)`);
    this.maps = maps;
    this.resolver = resolver;
    this.maxPairs = maxPairs;
    this.table.clear();
    this.ringConnections = /* @__PURE__ */ new Map();
    this.stored = this.foreign = 0;
    this.loss.bytes = this.loss.packets = this.lossEpoch = 0;
    this.lossStored = false;
    this.unwrittenLoss.bytes = this.unwrittenLoss.packets = 0;
    const { keys, values, count } = await maps.readMap("pair_totals");
    const t = this.table;
    const now = this.now();
    this.stored = count;
    t.reserveRows(count);
    let loaded = 0;
    for (let i = 0; i < count; i++) {
      const k = i * PAIR_KEY_SIZE;
      const v = i * PAIR_TOTALS_SIZE;
      if (keys.compare(LOSS_FULL_KEY, 0, PAIR_KEY_SIZE, k, k + PAIR_KEY_SIZE) === 0) {
        this.loss.bytes = readU64(values, v);
        this.loss.packets = readU64(values, v + 8);
        this.lossEpoch = readU64(values, v + 16);
        this.lossStored = true;
        continue;
      }
      if (PROTOCOL_NAMES[keys[k + 1]] === void 0 || keys[k] !== 4 && keys[k] !== 6) {
        this.foreign++;
        continue;
      }
      const row = t.add(keys, k);
      t.bytes[row] = readU64(values, v);
      t.packets[row] = readU64(values, v + 8);
      t.epoch[row] = readU64(values, v + 16);
      t.lastActiveMs[row] = now;
      loaded++;
    }
    return { pairs: loaded, foreign: this.foreign };
  }
  get m() {
    if (!this.maps)
      throw new Error("ledger: used before open()");
    return this.maps;
  }
  /** Transactions never interleave: each waits for the one before. */
  serial(fn) {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => void 0);
    return run;
  }
  /** Finishes a transaction left by a dead process, if any. */
  recover() {
    return this.serial(async () => {
      const ctl = this.m.control();
      return ctl.txnKind === TXN_NONE ? void 0 : this.finish(ctl, false);
    });
  }
  /**
   * Applies a slot: flips it, waits out the writers, folds the idle slot into
   * the ledger. It ends a collection interval: the connection counts of the
   * interval become the exported ones. A transaction a dead process left is
   * finished first (and returned first).
   */
  applySlot() {
    return this.serial(async () => {
      const maps = this.m;
      const done = [];
      let ctl = maps.control();
      if (ctl.txnKind !== TXN_NONE)
        done.push(await this.finish(ctl, false));
      ctl = maps.control();
      const next = { activeSlot: ctl.activeSlot ^ 1, txnKind: TXN_SLOT, txnEpoch: ctl.txnEpoch + 1n, txnRingEnd: 0n };
      maps.setControl(next);
      await maps.waitForPrograms();
      const r = await this.finish(next, true);
      r.activePairs = this.endInterval();
      done.push(r);
      return done;
    });
  }
  /** Applies the ring: folds the overflow records committed so far into the ledger. */
  applyRing() {
    return this.serial(async () => {
      const maps = this.m;
      const done = [];
      let ctl = maps.control();
      if (ctl.txnKind !== TXN_NONE)
        done.push(await this.finish(ctl, false));
      ctl = maps.control();
      const peek = maps.ringPeek();
      if (peek.end === peek.start)
        return done;
      const next = { activeSlot: ctl.activeSlot, txnKind: TXN_RING, txnEpoch: ctl.txnEpoch + 1n, txnRingEnd: peek.end };
      maps.setControl(next);
      done.push(await this.finish(next, true));
      return done;
    });
  }
  async finish(ctl, current) {
    const maps = this.m;
    let records;
    let drainedFlows = 0;
    let overflow = Buffer.alloc(0);
    let idleKeys = Buffer.alloc(0);
    let deferredKeys = Buffer.alloc(0);
    let service;
    const idle = SLOT_MAPS[ctl.activeSlot ^ 1];
    const slot = ctl.txnKind === TXN_SLOT;
    const resolve = { epoch: ctl.txnEpoch, resolver: this.resolver };
    if (slot) {
      const read = await maps.readPairs(idle, resolve);
      drainedFlows = read.count;
      idleKeys = read.keys;
      deferredKeys = read.deferredKeys;
      records = read.pairs;
      service = read.service;
    } else {
      const resolved = await maps.resolveRecords(maps.ringPeek(ctl.txnRingEnd).records, resolve);
      overflow = resolved.records;
      service = resolved.service;
      records = foldOverflow(overflow);
    }
    const r = await this.apply(records, Number(ctl.txnEpoch), slot);
    if (r.written > 0 && process.env.EBPF_FAILPOINT === "ledger-after-apply")
      process.kill(process.pid, "SIGKILL");
    let release2;
    if (slot)
      release2 = await maps.releaseSlot(idle, idleKeys, deferredKeys, process.env.EBPF_TEST_SLOT_RELEASE === "replace" ? "replace" : "auto");
    else
      maps.ringAdvance(ctl.txnRingEnd);
    maps.setControl({ ...ctl, txnKind: TXN_NONE });
    this.noteActivity(r.rows, records, overflow, slot && current);
    return {
      kind: slot ? "slot" : "ring",
      records,
      rows: r.rows,
      drainedFlows,
      slotReplaced: release2?.replaced,
      slotReplaceError: release2?.replaceError,
      overflowRecords: overflow.length / OVERFLOW_RECORD_SIZE,
      lostPairs: r.lostPairs,
      lost: r.lost,
      expired: r.expired,
      service
    };
  }
  /**
   * Adds each pair's delta once per epoch: expires idle pairs if room is
   * needed (always on a slot), admits what fits, writes pair_totals, then the table.
   */
  async apply(records, epoch, slot) {
    const t = this.table;
    const n = Math.floor(records.length / PAIR_RECORD_SIZE);
    const rows = t.findRows(records, n, PAIR_RECORD_SIZE);
    const fresh = [];
    for (let i = 0; i < n; i++)
      if (rows[i] < 0)
        fresh.push(i);
    let expired = 0;
    if (slot || fresh.length > this.room())
      expired = await this.expire(rows);
    const room = this.room();
    let admitted = fresh;
    const lost = { bytes: 0, packets: 0 };
    if (fresh.length > room) {
      const bytesOf = (i) => readU64(records, i * PAIR_RECORD_SIZE + RECORD_BYTES);
      const ranked = [...fresh].sort((a, b) => bytesOf(b) - bytesOf(a) || a - b);
      admitted = ranked.slice(0, room).sort((a, b) => a - b);
      for (const i of ranked.slice(room)) {
        lost.bytes += bytesOf(i);
        lost.packets += readU64(records, i * PAIR_RECORD_SIZE + RECORD_PACKETS);
      }
    }
    const lostPairs = fresh.length - admitted.length;
    const isAdmitted = new Uint8Array(n);
    for (const i of admitted)
      isAdmitted[i] = 1;
    const cap = n + 1;
    if (this.keysOut.length < cap * PAIR_KEY_SIZE) {
      this.keysOut = Buffer.from(new ArrayBuffer(cap * PAIR_KEY_SIZE));
      this.valuesOut = Buffer.from(new ArrayBuffer(cap * PAIR_TOTALS_SIZE));
    }
    const keys = this.keysOut;
    const values = this.valuesOut;
    const rec = new Uint32Array(...alignedWords(records));
    const keyWords = new Uint32Array(keys.buffer, keys.byteOffset, keys.length >> 2);
    const valueWords = new Uint32Array(values.buffer, values.byteOffset, values.length >> 2);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const r = i * RECORD_WORDS;
      const row = rows[i];
      let bytes = rec[r + BYTES_WORD] + rec[r + BYTES_WORD + 1] * U32;
      let packets = rec[r + PACKETS_WORD] + rec[r + PACKETS_WORD + 1] * U32;
      if (row >= 0) {
        if (t.epoch[row] === epoch)
          continue;
        bytes += t.bytes[row];
        packets += t.packets[row];
      } else if (!isAdmitted[i]) {
        continue;
      }
      for (let j = 0, k = m * KEY_WORDS2; j < KEY_WORDS2; j++)
        keyWords[k + j] = rec[r + j];
      const v = m * TOTALS_WORDS;
      valueWords[v] = bytes % U32;
      valueWords[v + 1] = bytes / U32;
      valueWords[v + 2] = packets % U32;
      valueWords[v + 3] = packets / U32;
      valueWords[v + 4] = epoch % U32;
      valueWords[v + 5] = epoch / U32;
      m++;
    }
    const addLoss = this.lossEpoch !== epoch && lost.packets + this.unwrittenLoss.packets > 0;
    const lossFits = this.lossStored || this.stored + admitted.length < this.maxPairs;
    const newLoss = { bytes: this.loss.bytes + lost.bytes + this.unwrittenLoss.bytes, packets: this.loss.packets + lost.packets + this.unwrittenLoss.packets };
    if (addLoss && lossFits) {
      LOSS_FULL_KEY.copy(keys, m * PAIR_KEY_SIZE);
      const v = m * PAIR_TOTALS_SIZE;
      writeU64(values, v, newLoss.bytes);
      writeU64(values, v + 8, newLoss.packets);
      writeU64(values, v + 16, epoch);
      m++;
    }
    if (m)
      await this.m.updateMap("pair_totals", keys.subarray(0, m * PAIR_KEY_SIZE), values.subarray(0, m * PAIR_TOTALS_SIZE));
    t.reserveRows(admitted.length);
    for (let i = 0, w = 0; i < n; i++) {
      const row = rows[i];
      if (row >= 0 ? t.epoch[row] === epoch : !isAdmitted[i]) {
        rows[i] = -1;
        continue;
      }
      const v = w++ * TOTALS_WORDS;
      const r = row >= 0 ? row : t.add(records, i * PAIR_RECORD_SIZE);
      t.bytes[r] = valueWords[v] + valueWords[v + 1] * U32;
      t.packets[r] = valueWords[v + 2] + valueWords[v + 3] * U32;
      t.epoch[r] = epoch;
      rows[i] = r;
    }
    this.stored += admitted.length;
    if (addLoss) {
      if (lossFits) {
        if (!this.lossStored)
          this.stored++;
        this.lossStored = true;
        this.loss.bytes = newLoss.bytes;
        this.loss.packets = newLoss.packets;
        this.lossEpoch = epoch;
        this.unwrittenLoss.bytes = this.unwrittenLoss.packets = 0;
      } else {
        this.unwrittenLoss.bytes += lost.bytes;
        this.unwrittenLoss.packets += lost.packets;
      }
    }
    return { rows, written: m, lostPairs, lost, expired };
  }
  /** New pairs that fit: one entry stays free for the loss entry until it is written. */
  room() {
    return Math.max(0, this.maxPairs - this.stored - (this.lossStored ? 0 : 1));
  }
  /**
   * Deletes the pairs idle longer than the TTL from pair_totals, then from the
   * table; rows in `keep` (the transaction being applied has traffic for them)
   * stay. Returns how many went.
   */
  async expire(keep = new Int32Array(0)) {
    const t = this.table;
    const now = this.now();
    const expired = [];
    for (let row = 0; row < t.end; row++) {
      if (now - t.lastActiveMs[row] > this.opts.pairTtlMs && t.live(row))
        expired.push(row);
    }
    if (!expired.length)
      return 0;
    const kept = new Uint8Array(t.end);
    for (const row of keep)
      if (row >= 0)
        kept[row] = 1;
    let due = 0;
    for (const row of expired)
      if (!kept[row])
        expired[due++] = row;
    expired.length = due;
    if (!expired.length)
      return 0;
    const keys = Buffer.allocUnsafe(expired.length * PAIR_KEY_SIZE);
    expired.forEach((row, i) => t.keys.copy(keys, i * PAIR_KEY_SIZE, row * PAIR_KEY_SIZE, (row + 1) * PAIR_KEY_SIZE));
    await this.m.deleteKeys("pair_totals", keys);
    for (const row of expired) {
      t.remove(row);
      this.ringConnections.delete(row);
    }
    this.stored -= expired.length;
    return expired.length;
  }
  /** The rows a transaction applied were active now; a current slot's connections are this interval's. */
  noteActivity(rows, records, overflow, slotConnections) {
    const t = this.table;
    const now = this.now();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (row < 0)
        continue;
      t.lastActiveMs[row] = now;
      t.seen[row] = 1;
      if (slotConnections)
        t.pending[row] = records.readUInt32LE(i * PAIR_RECORD_SIZE + RECORD_CONNECTIONS);
    }
    if (!overflow.length)
      return;
    const key2 = Buffer.alloc(PAIR_KEY_SIZE);
    for (let at = 0; at + OVERFLOW_RECORD_SIZE <= overflow.length; at += OVERFLOW_RECORD_SIZE) {
      copyPairKey(overflow, at, key2, 0);
      const row = t.find(key2);
      if (row < 0)
        continue;
      let conns = this.ringConnections.get(row);
      if (!conns)
        this.ringConnections.set(row, conns = /* @__PURE__ */ new Set());
      conns.add(overflow.readUInt32LE(at + 4));
    }
  }
  /** The interval's connections become the exported ones; returns the pairs active in it. */
  endInterval() {
    const t = this.table;
    for (const [row, conns] of this.ringConnections)
      if (t.live(row))
        t.pending[row] += conns.size;
    let active = 0;
    for (let row = 0; row < t.end; row++) {
      if (!t.live(row))
        continue;
      t.connections[row] = t.pending[row];
      if (t.seen[row])
        active++;
      t.seen[row] = 0;
      t.pending[row] = 0;
    }
    this.ringConnections = /* @__PURE__ */ new Map();
    return active;
  }
  /** Settles once every transaction queued so far has (the BPF object can be closed then). */
  idle() {
    return this.queue.then(() => void 0);
  }
};

// agent/dist/collector/collector.js
var UNRESOLVED_REASONS = ["entry_gone", "events_lost", "conntrack_unavailable"];
var IGNORED_REASONS = {
  ignored_non_ip: "non_ip",
  ignored_other_l4: "other_l4",
  ignored_truncated: "truncated",
  ignored_ext_limit: "ipv6_ext_limit"
};
var COLLECTOR_ERROR_TYPES = ["drain", "attach", "ringbuf_full", "ringbuf_consume", "map_update"];
var DROP_REASONS = ["pair_ledger_full", "ringbuf_full"];
function release(b) {
  const ab = b.buffer;
  if (b.byteOffset === 0 && b.byteLength === ab.byteLength && ab.transfer)
    ab.transfer(0);
}
var Collector = class {
  bpf;
  ledger;
  metrics;
  log;
  opts;
  timer;
  overflowTimer;
  running;
  lastStats = /* @__PURE__ */ new Map();
  /** The ledger's durable loss as last exported: the counters move by what it grew. */
  exportedLoss = { bytes: 0, packets: 0 };
  ringRecords = 0;
  lastFullWarning = 0;
  conntrackFailing = false;
  collections = 0;
  constructor(bpf, ledger, metrics, log, opts) {
    this.bpf = bpf;
    this.ledger = ledger;
    this.metrics = metrics;
    this.log = log;
    this.opts = opts;
    for (const reason of Object.values(IGNORED_REASONS))
      metrics.ignoredPackets.inc({ reason }, 0);
    for (const type of COLLECTOR_ERROR_TYPES)
      metrics.collectorErrors.inc({ type }, 0);
    for (const reason of DROP_REASONS) {
      metrics.droppedBytes.inc({ reason }, 0);
      metrics.droppedPackets.inc({ reason }, 0);
    }
    if (opts.resolver)
      for (const reason of UNRESOLVED_REASONS)
        metrics.unresolvedServiceFlows.inc({ reason }, 0);
  }
  /** Counters continue from the pinned ledger (pair_totals of `maxPairs` entries); a transaction a dead process left is finished. */
  async restore(maxPairs) {
    const loaded = await this.ledger.open(this.bpf, maxPairs, this.opts.resolver);
    this.opts.onLoaded?.();
    const recovered = await this.ledger.recover();
    if (recovered)
      this.onTxn(recovered);
    this.exportLedger();
    return loaded;
  }
  start() {
    const tick = () => {
      this.timer = setTimeout(async () => {
        await this.collect();
        if (this.timer)
          tick();
      }, this.opts.intervalMs);
    };
    tick();
    const poll = this.opts.overflowPollMs ?? Math.min(250, this.opts.intervalMs);
    this.overflowTimer = setInterval(() => void this.foldOverflow(), poll);
  }
  /**
   * Waits for the transactions in progress (a ring fold from the overflow
   * timer too: its map writes hold the BPF object's fds, and close() refuses
   * a busy object); no new one starts after this.
   */
  async stop() {
    if (this.timer)
      clearTimeout(this.timer);
    if (this.overflowTimer)
      clearInterval(this.overflowTimer);
    this.timer = void 0;
    this.overflowTimer = void 0;
    await this.running;
    await this.ledger.idle();
  }
  async foldOverflow() {
    this.opts.resolver?.poll();
    try {
      for (const r of await this.ledger.applyRing())
        this.onTxn(r);
      this.exportLedger();
    } catch (err) {
      this.metrics.collectorErrors.inc({ type: "ringbuf_consume" });
      this.log.warn("folding the overflow ring buffer failed", { err });
    }
  }
  onTxn(r) {
    if (r.service)
      this.onService(r.service);
    this.opts.onApplied?.(r);
    this.ringRecords += r.overflowRecords;
    if (r.lostPairs === 0)
      return;
    const now = Date.now();
    if (now - this.lastFullWarning < 6e4)
      return;
    this.lastFullWarning = now;
    this.log.warn("the pair ledger is full: new pairs are not exported, their traffic is counted as dropped (raise EBPF_MAX_PAIRS or lower EBPF_PAIR_TTL)", {
      maxPairs: this.ledger.capacity,
      lostPairs: r.lostPairs,
      lostBytes: r.lost.bytes,
      lostPackets: r.lost.packets
    });
  }
  /** The ledger's state as metrics: loss (durable, so it moves only after the write) and fill level. */
  exportLedger() {
    const lost = this.ledger.lost;
    const reason = "pair_ledger_full";
    if (lost.bytes > this.exportedLoss.bytes)
      this.metrics.droppedBytes.inc({ reason }, lost.bytes - this.exportedLoss.bytes);
    if (lost.packets > this.exportedLoss.packets)
      this.metrics.droppedPackets.inc({ reason }, lost.packets - this.exportedLoss.packets);
    this.exportedLoss.bytes = lost.bytes;
    this.exportedLoss.packets = lost.packets;
    this.metrics.mapUtilization.set({ map: "pair_totals" }, this.ledger.used / this.ledger.capacity * 100);
  }
  /** A replayed resolution was counted by the agent that made it. */
  onService(s) {
    if (s.replayed)
      return;
    const m = this.metrics.unresolvedServiceFlows;
    if (s.gone)
      m.inc({ reason: "entry_gone" }, s.gone);
    if (s.eventsLost)
      m.inc({ reason: "events_lost" }, s.eventsLost);
    if (s.unavailable)
      m.inc({ reason: "conntrack_unavailable" }, s.unavailable);
    if (s.unresolvedSamples.length && this.log.enabled("debug")) {
      this.log.debug("Service connections left under the Service address", { gone: s.gone, eventsLost: s.eventsLost, unavailable: s.unavailable, connections: s.unresolvedSamples });
    }
    const failing = s.dumpErrno !== 0;
    if (failing && !this.conntrackFailing) {
      this.log.error("conntrack dump failed: Service traffic stays under the Service address", { errno: s.dumpErrno });
    } else if (!failing && this.conntrackFailing)
      this.log.info("conntrack dump works again");
    this.conntrackFailing = failing;
  }
  /** One cycle; concurrent callers share the cycle in progress. */
  collect() {
    if (!this.running) {
      this.running = this.cycle().finally(() => this.running = void 0);
    }
    return this.running;
  }
  async cycle() {
    const end = this.metrics.collectionDuration.startTimer();
    try {
      await this.foldOverflow();
      let drained = 0;
      let active = 0;
      for (const r of await this.ledger.applySlot()) {
        this.onTxn(r);
        if (r.kind !== "slot")
          continue;
        if (r.slotReplaceError)
          this.log.warn("could not give the drained slot a fresh map; deleted its entries instead", { err: r.slotReplaceError });
        this.log.debug("slot released", { flows: r.drainedFlows, by: r.slotReplaced ? "a fresh map" : "deletes" });
        if (r.activePairs !== void 0) {
          drained = r.drainedFlows;
          active = r.activePairs;
        }
        if (this.opts.dumpMaps && this.log.enabled("debug"))
          this.dumpPairs(r);
        release(r.records);
      }
      this.exportLedger();
      this.metrics.overflowShare.set(this.ringRecords + drained ? this.ringRecords / (this.ringRecords + drained) : 0);
      this.metrics.ipPairsBatchSize.set(active);
      this.metrics.mapUtilization.set({ map: "connection_flows" }, drained / this.opts.maxFlows * 100);
      this.ringRecords = 0;
      this.exportKernelStats();
      this.collections++;
    } catch (err) {
      this.metrics.collectorErrors.inc({ type: "drain" });
      this.log.error("collection failed", { err });
    } finally {
      end();
    }
  }
  dumpPairs(r) {
    for (let i = 0; i < r.rows.length; i++) {
      const at = i * PAIR_RECORD_SIZE;
      const l = pairLabels2(r.records, at);
      this.log.debug(r.rows[i] < 0 ? "pair drained, not applied (done before or ledger full)" : "pair drained", {
        pair: `${l.src_ip}|${l.dst_ip}|${l.protocol}`,
        bytes: readU64(r.records, at + RECORD_BYTES),
        packets: readU64(r.records, at + RECORD_PACKETS),
        connections: r.records.readUInt32LE(at + RECORD_CONNECTIONS)
      });
    }
  }
  /** Kernel counters are cumulative (and survive restarts when pinned). */
  exportKernelStats() {
    const stats = namedStats(this.bpf.stats());
    for (const name of AGENT_STATS) {
      const delta = stats[name] - (this.lastStats.get(name) ?? 0);
      this.lastStats.set(name, stats[name]);
      if (delta <= 0)
        continue;
      const reason = IGNORED_REASONS[name];
      if (reason)
        this.metrics.ignoredPackets.inc({ reason }, delta);
      else if (name === "overflow_records")
        this.metrics.overflowFlows.inc(delta);
      else if (name === "ringbuf_full_packets") {
        this.metrics.collectorErrors.inc({ type: "ringbuf_full" }, delta);
        this.metrics.droppedPackets.inc({ reason: "ringbuf_full" }, delta);
      } else if (name === "ringbuf_full_bytes")
        this.metrics.droppedBytes.inc({ reason: "ringbuf_full" }, delta);
      else if (name === "map_update_failed")
        this.metrics.collectorErrors.inc({ type: "map_update" }, delta);
    }
  }
};

// agent/dist/interfaces/discovery.js
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
var KEEP_FIRST_INTERVAL_MS = 1e3;
var hookKey = (ifindex, direction) => `${ifindex}/${direction}`;
var InterfaceDiscovery = class {
  addon;
  attacher;
  log;
  events;
  linkPinDir;
  uplinks;
  attached = /* @__PURE__ */ new Map();
  monitor;
  pending;
  orderCheck;
  /** The last role logged per ifindex: a role is logged when first seen and when it changes. */
  roles = /* @__PURE__ */ new Map();
  constructor(addon, attacher, log, events, linkPinDir, uplinks = "auto") {
    this.addon = addon;
    this.attacher = attacher;
    this.log = log;
    this.events = events;
    this.linkPinDir = linkPinDir;
    this.uplinks = uplinks;
  }
  start() {
    this.monitor = new this.addon.LinkMonitor(() => this.scheduleSync());
    this.sync();
    this.orderCheck = setInterval(() => this.keepFirst(), KEEP_FIRST_INTERVAL_MS);
    this.orderCheck.unref();
  }
  /**
   * A CNI that attaches to a hook after us runs before ours and, with a
   * verdict for every packet, hides the pod's traffic from us: put ours back
   * at the head (docs/coexistence.md).
   */
  keepFirst() {
    for (const [key2, a] of this.attached) {
      try {
        const moved = this.attacher.reassertHead(a);
        if (!moved)
          continue;
        this.attached.set(key2, moved.attachment);
        this.reordered(moved.attachment);
      } catch (err) {
        if (err.code === "ENODEV")
          continue;
        this.attached.delete(key2);
        this.log.warn("moving ours back to the head failed", { interface: a.name, ifindex: a.ifindex, direction: a.direction, err });
        this.scheduleSync();
      }
    }
  }
  /**
   * Bursts of link events (a pod start makes several) become one relist, on
   * the next turn of the event loop: a delay here is time a new pod's first
   * packets go uncounted (tests/e2e/churn measured the attach latency).
   */
  scheduleSync() {
    if (this.pending)
      return;
    this.pending = setImmediate(() => {
      this.pending = void 0;
      this.sync();
    });
  }
  sync() {
    const links = this.addon.listLinks();
    const present = new Map(links.map((l) => [l.ifindex, l]));
    const wanted = /* @__PURE__ */ new Map();
    for (const d of decideRoles(links, this.addon.listRoutes(), this.uplinks)) {
      this.logRole(d);
      for (const plan of d.hooks)
        wanted.set(hookKey(d.ifindex, plan.direction), { link: present.get(d.ifindex), plan });
    }
    for (const ifindex of this.roles.keys())
      if (!present.has(ifindex))
        this.roles.delete(ifindex);
    for (const [key2, a] of this.attached) {
      const w = wanted.get(key2);
      if (w && w.link.name === a.name && w.plan.program === a.program)
        continue;
      this.attached.delete(key2);
      try {
        this.attacher.detach(a, !present.has(a.ifindex));
      } catch (err) {
        this.log.debug("detach after link change failed", { interface: a.name, err });
      }
      this.log.info("hook released", { interface: a.name, ifindex: a.ifindex, direction: a.direction });
    }
    for (const [key2, { link, plan }] of wanted) {
      if (this.attached.has(key2))
        continue;
      try {
        const a = this.attacher.attach(link.ifindex, link.name, plan.direction, plan.program);
        this.attached.set(key2, a);
        this.log.info("attached", { interface: link.name, ifindex: link.ifindex, program: plan.program, direction: plan.direction, mode: a.mode, runsBefore: a.runsBefore });
        if (a.wasBehind)
          this.reordered(a);
      } catch (err) {
        if (err.code === "ENODEV" || !this.addon.listLinks().some((l) => l.ifindex === link.ifindex))
          continue;
        this.events.onAttachError(link, err);
      }
    }
    this.sweepLinkPins(present);
    this.attacher.qdiscs?.forgetAllBut(new Set(present.keys()));
    this.events.onChange(new Set([...this.attached.values()].map((a) => a.ifindex)).size);
  }
  /**
   * Every interface's role and why, once when it is first seen and again when
   * it changes (routes through a veth appeared): a wrong guess shows in the log.
   */
  logRole(d) {
    const key2 = `${d.name}|${d.role}|${d.why}`;
    if (this.roles.get(d.ifindex) === key2)
      return;
    const changed = this.roles.has(d.ifindex);
    this.roles.set(d.ifindex, key2);
    this.log.info(changed ? "interface role changed" : "interface role", {
      interface: d.name,
      ifindex: d.ifindex,
      role: d.role,
      hooks: d.hooks.map((h) => h.direction),
      why: d.why
    });
  }
  /** A pinned tcx link outlives its device; drop pins nothing of ours uses. */
  sweepLinkPins(present) {
    const dir = this.linkPinDir;
    if (!dir || !existsSync(dir))
      return;
    for (const name of readdirSync(dir)) {
      const [ifindex, direction] = name.split("-");
      if (this.attached.has(`${ifindex}/${direction}`))
        continue;
      const live = this.addon.tcxPinnedLinkIfindex(join(dir, name));
      if (live === null || live === 0 || !present.has(live)) {
        rmSync(join(dir, name), { force: true });
        this.log.debug("removed a stale link pin", { pin: name });
      }
    }
  }
  reordered(a) {
    this.log.warn("moved ours back to the head of the hook", { interface: a.name, ifindex: a.ifindex, direction: a.direction, wasBehind: a.wasBehind, runsBefore: a.runsBefore });
    this.events.onReorder?.(a);
  }
  /**
   * Stops following links. keep: leave every program working (a restart or
   * rolling update follows); otherwise take every program off again.
   */
  stop(keep = false) {
    if (this.orderCheck)
      clearInterval(this.orderCheck);
    this.orderCheck = void 0;
    if (this.pending)
      clearImmediate(this.pending);
    this.pending = void 0;
    this.monitor?.close();
    this.monitor = void 0;
    const present = new Set(this.addon.listLinks().map((l) => l.ifindex));
    for (const a of this.attached.values()) {
      try {
        if (keep)
          this.attacher.release(a);
        else
          this.attacher.detach(a, !present.has(a.ifindex));
      } catch (err) {
        this.log.warn("detach failed", { interface: a.name, err });
      }
    }
    this.attached.clear();
  }
};

// agent/dist/interfaces/cgroup.js
import { existsSync as existsSync2, readFileSync, statSync } from "node:fs";
import { join as join2 } from "node:path";
function cgroup2Mounts(mountinfo = readFileSync("/proc/self/mountinfo", "utf8")) {
  const out = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right || right.split(" ")[0] !== "cgroup2")
      continue;
    const f = left.split(" ");
    if (f[3] && f[4])
      out.push({ root: f[3], mountPoint: f[4] });
  }
  return out;
}
function resolvePodCgroup(setting, mounts = cgroup2Mounts()) {
  const candidates = setting === "auto" ? mounts.flatMap((m) => ["kubepods.slice", "kubepods"].map((n) => join2(m.mountPoint, n))) : [setting];
  const path = candidates.find((p) => existsSync2(p) && statSync(p).isDirectory());
  return path ? { path } : void 0;
}

// agent/dist/interfaces/qdiscs.js
var key = (ifindex) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(ifindex);
  return b;
};
var ONE = Buffer.from([1, 0, 0, 0]);
var QdiscRegistry = class {
  bpf;
  created = /* @__PURE__ */ new Set();
  constructor(bpf) {
    this.bpf = bpf;
  }
  async load() {
    const { keys, count } = await this.bpf.readMap("tc_qdiscs");
    for (let i = 0; i < count; i++)
      this.created.add(keys.readUInt32LE(i * 4));
    return this;
  }
  has(ifindex) {
    return this.created.has(ifindex);
  }
  add(ifindex) {
    this.bpf.updateEntry("tc_qdiscs", key(ifindex), ONE);
    this.created.add(ifindex);
  }
  delete(ifindex) {
    if (!this.created.delete(ifindex))
      return;
    this.bpf.deleteEntry("tc_qdiscs", key(ifindex));
  }
  /** Entries of interfaces that are gone: their ifindex may come back on someone else's device. */
  forgetAllBut(present) {
    for (const ifindex of [...this.created])
      if (!present.has(ifindex))
        this.delete(ifindex);
  }
  all() {
    return [...this.created];
  }
};

// agent/dist/kubernetes/daemonset.js
function daemonSetFromEnv(env) {
  const namespace = env.EBPF_POD_NAMESPACE;
  const name = env.EBPF_DAEMONSET_NAME;
  return namespace && name ? { namespace, name } : void 0;
}
var statusOf = (err) => err instanceof ApiError ? err.statusCode : void 0;
var DaemonSetWatch = class {
  ref;
  log;
  fate = "unknown";
  api;
  abort;
  retry;
  failures = 0;
  stopped = false;
  constructor(ref, log, api) {
    this.ref = ref;
    this.log = log;
    this.api = api;
  }
  async client() {
    if (!this.api) {
      const found = await loadApiClient(process.env);
      if ("reason" in found)
        throw new Error(found.reason);
      this.api = found.client;
    }
    return this.api;
  }
  async start() {
    await this.client();
    this.open();
  }
  open() {
    if (this.stopped)
      return;
    const { namespace, name } = this.ref;
    this.abort = this.api.watch(`/apis/apps/v1/namespaces/${namespace}/daemonsets`, { fieldSelector: `metadata.name=${name}` }, (phase, o) => {
      const obj = o;
      this.failures = 0;
      const next = phase === "DELETED" ? "gone" : obj?.metadata?.deletionTimestamp ? "deleting" : "present";
      if (next !== this.fate && next !== "present")
        this.log.info("our DaemonSet is going away: SIGTERM will remove programs and pinned state", { daemonSet: `${namespace}/${name}`, fate: next });
      this.fate = next;
    }, (err) => this.reopen(err));
  }
  /** A watch ends every few minutes (server timeout) or on an error: open it again, backing off on errors. */
  reopen(err) {
    if (this.stopped)
      return;
    if (err && err.name !== "AbortError") {
      this.failures += 1;
      if (this.failures === 1 || this.failures % 10 === 0) {
        this.log.warn("watching our DaemonSet failed; retrying", { daemonSet: `${this.ref.namespace}/${this.ref.name}`, status: statusOf(err), err });
      }
    }
    const delay = err ? retryDelayMs(this.failures) : 0;
    this.retry = setTimeout(() => this.open(), delay);
  }
  stop() {
    this.stopped = true;
    if (this.retry)
      clearTimeout(this.retry);
    this.abort?.abort();
  }
  /**
   * true: uninstall (remove state); false: hand over to the next agent. The
   * watch answers when it has seen the deletion; otherwise one GET decides: 404
   * gone, 401 our ServiceAccount was deleted (its tokens stop authenticating; a
   * rolling update never deletes it), anything else keeps (the safe side).
   */
  async gone() {
    if (this.fate === "gone" || this.fate === "deleting")
      return true;
    const { namespace, name } = this.ref;
    try {
      const ds = await (await this.client()).request("GET", `/apis/apps/v1/namespaces/${namespace}/daemonsets/${name}`, void 0, 5e3);
      return Boolean(ds.metadata?.deletionTimestamp);
    } catch (err) {
      const status = statusOf(err);
      if (status === 404)
        return true;
      if (status === 401) {
        this.log.info("our ServiceAccount no longer authenticates: uninstall", { daemonSet: `${namespace}/${name}` });
        return true;
      }
      this.log.warn("could not read our DaemonSet; keeping programs and pinned state", { daemonSet: `${namespace}/${name}`, status, err });
      return false;
    }
  }
};

// agent/dist/preflight/startup.js
async function logPreflight(config, log) {
  try {
    const results = await runChecks(config, { loadAttach: false });
    for (const r of results) {
      const fields = { check: r.name, status: r.status, detail: r.detail, ...r.lines ? { lines: r.lines } : {}, ...r.fix ? { fix: r.fix } : {} };
      if (r.status === "fail")
        log.error("preflight", fields);
      else if (r.status === "warn")
        log.warn("preflight", fields);
      else
        log.info("preflight", fields);
    }
  } catch (err) {
    log.warn("preflight checks could not run", { err });
  }
}

// agent/dist/cost/attribution.js
var UNKNOWN = { namespace: "", workload: "", kind: "Unknown" };
var EXTERNAL = { namespace: "", workload: "", kind: "External" };
var Attribution = class {
  cluster;
  destinations;
  table;
  opts;
  now;
  last = { slot: 0, ring: 0 };
  constructor(cluster, destinations, table, opts, now = Date.now) {
    this.cluster = cluster;
    this.destinations = destinations;
    this.table = table;
    this.opts = opts;
    this.now = now;
    const t = now();
    this.last = { slot: t, ring: t };
  }
  placement(node) {
    const n = this.cluster.node(node);
    return { node, zone: n?.zone ?? "", region: n?.region ?? "" };
  }
  resolve(ip, bytes, fromMs, toMs) {
    const ep = this.cluster.resolve(ip, fromMs, toMs);
    if (ep) {
      const side = { namespace: ep.namespace, workload: ep.workload, kind: ep.kind };
      if (ep.kind === "Service")
        return { side, unplaceable: true };
      return { side, placement: ep.node ? this.placement(ep.node) : void 0 };
    }
    const external = this.destinations.classify(bytes);
    if (external.class === "unknown")
      return { side: UNKNOWN };
    return { side: external.group ? { namespace: "", workload: external.group, kind: "CIDRGroup" } : EXTERNAL, external };
  }
  classOf(src, dst) {
    if (dst.external)
      return dst.external.class;
    if (src.external)
      return src.external.class;
    if (dst.unplaceable || src.unplaceable)
      return "unknown";
    const from = src.placement ?? (this.opts.localNode && src.side === UNKNOWN ? this.placement(this.opts.localNode) : void 0);
    return classifyPlaced(from, dst.placement);
  }
  /**
   * What one transaction applied: `records` in readPairs' layout, `rows[i] < 0`
   * where record i was applied by an earlier attempt (already attributed).
   */
  apply(records, rows, kind) {
    const to = this.now();
    const from = this.last[kind];
    this.last[kind] = to;
    const cache = /* @__PURE__ */ new Map();
    const side = (family, at) => {
      const ip = family === 6 ? formatIPv6(records, at) : formatIPv4(records, at);
      let r = cache.get(ip);
      if (!r) {
        r = this.resolve(ip, records.subarray(at, at + (family === 6 ? 16 : 4)), from, to);
        cache.set(ip, r);
      }
      return r;
    };
    const n = Math.floor(records.length / PAIR_RECORD_SIZE);
    for (let i = 0; i < n; i++) {
      if (rows[i] < 0)
        continue;
      const at = i * PAIR_RECORD_SIZE;
      const family = records[at];
      const src = side(family, at + 4);
      const dst = side(family, at + 20);
      const bytes = readU64(records, at + RECORD_BYTES);
      const packets = readU64(records, at + RECORD_PACKETS);
      if (bytes === 0 && packets === 0)
        continue;
      src.srcText ??= sideLabelText("src", src.side);
      dst.dstText ??= sideLabelText("dst", dst.side);
      this.table.addText(workloadLabelText(src.srcText, dst.dstText, this.classOf(src, dst)), bytes, packets, to);
    }
    if (kind === "slot")
      this.table.expire(to, this.opts.ttlMs);
  }
};

// agent/dist/cost/destinations.js
import { readFileSync as readFileSync2 } from "node:fs";
var DESTINATION_LISTS = {
  "in-zone": "same_zone",
  "in-region": "cross_zone",
  "cross-region": "cross_region",
  internet: "internet"
};
var GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
var Destinations = class _Destinations {
  table = new CidrTable();
  groups;
  constructor(file = {}, where = "destinations") {
    const d = file.destinations ?? {};
    if (typeof d !== "object" || Array.isArray(d))
      throw new Error(`${where}: "destinations" must be an object`);
    const known = /* @__PURE__ */ new Set([...Object.keys(DESTINATION_LISTS), "groups"]);
    for (const key2 of Object.keys(d)) {
      if (!known.has(key2))
        throw new Error(`${where}: unknown key destinations.${key2}: expected ${[...known].join(", ")}`);
    }
    const names = [];
    for (const [i, g] of (d.groups ?? []).entries()) {
      const at = `${where}: destinations.groups[${i}]`;
      if (!g || typeof g.name !== "string" || !GROUP_NAME.test(g.name))
        throw new Error(`${at}.name ${JSON.stringify(g?.name)}: expected letters, digits, '_', '.', '-' (up to 63)`);
      if (!(g.class in DESTINATION_LISTS))
        throw new Error(`${at}.class ${JSON.stringify(g.class)}: expected one of ${Object.keys(DESTINATION_LISTS).join(", ")}`);
      if (!Array.isArray(g.cidrs) || !g.cidrs.length)
        throw new Error(`${at}.cidrs: expected a non-empty list of CIDR blocks`);
      if (names.includes(g.name))
        throw new Error(`${at}.name ${JSON.stringify(g.name)} appears twice`);
      names.push(g.name);
      for (const c of g.cidrs)
        this.table.add(this.cidr(c, `${at}.cidrs`), { class: DESTINATION_LISTS[g.class], group: g.name });
    }
    this.groups = names;
    for (const list of Object.keys(DESTINATION_LISTS)) {
      const cidrs = d[list] ?? [];
      if (!Array.isArray(cidrs))
        throw new Error(`${where}: destinations.${list} must be a list of CIDR blocks`);
      for (const c of cidrs)
        this.table.add(this.cidr(c, `${where}: destinations.${list}`), { class: DESTINATION_LISTS[list] });
    }
  }
  cidr(text, at) {
    if (typeof text !== "string")
      throw new Error(`${at}: ${JSON.stringify(text)} is not a CIDR block`);
    try {
      return parseCidr(text);
    } catch (err) {
      throw new Error(`${at}: ${err.message}`);
    }
  }
  /** The class (and group) of an address outside the cluster. */
  classify(addr) {
    return this.table.lookup(addr) ?? (isPrivate(addr) ? UNLISTED_PRIVATE : UNLISTED_PUBLIC);
  }
  /** The group an address is in, for collapsing the raw family's destinations. */
  groupOf(addr) {
    return this.table.lookup(addr)?.group;
  }
  static parse(text, where) {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (jsonErr) {
      throw new Error(`${where}: not JSON (${jsonErr.message}); write the file as JSON (the chart does)`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
      throw new Error(`${where}: expected an object with a "destinations" key`);
    return new _Destinations(parsed, where);
  }
  static load(path) {
    let text;
    try {
      text = readFileSync2(path, "utf8");
    } catch (err) {
      throw new Error(`EBPF_DESTINATIONS_FILE=${path}: ${err.message}`);
    }
    return _Destinations.parse(text, `EBPF_DESTINATIONS_FILE=${path}`);
  }
};
var UNLISTED_PRIVATE = { class: "unknown" };
var UNLISTED_PUBLIC = { class: "internet" };

// agent/dist/cost/grouped-pairs.js
var GroupedPairs = class {
  destinations;
  table;
  ttlMs;
  now;
  constructor(destinations, table, ttlMs, now = Date.now) {
    this.destinations = destinations;
    this.table = table;
    this.ttlMs = ttlMs;
    this.now = now;
  }
  labelText(key2, at) {
    const v6 = key2[at] === 6;
    const fmt = v6 ? formatIPv6 : formatIPv4;
    const dst = this.destinations.groupOf(key2.subarray(at + 20, at + 20 + (v6 ? 16 : 4))) ?? fmt(key2, at + 20);
    return `{src_ip="${fmt(key2, at + 4)}",dst_ip="${dst}",protocol="${PROTOCOL_NAMES[key2[at + 1]]}"}`;
  }
  /** The totals the ledger holds at start (the pinned ones). */
  seed(pairs) {
    const now = this.now();
    const bytes = pairs.column("bytes");
    const packets = pairs.column("packets");
    for (let row = 0; row < pairs.end; row++) {
      if (!pairs.live(row))
        continue;
      const l = pairs.labelsOf(row);
      const dst = this.destinations.groupOf(addressBytes(l.dst_ip) ?? []) ?? l.dst_ip;
      this.table.addText(`{src_ip="${l.src_ip}",dst_ip="${dst}",protocol="${l.protocol}"}`, bytes[row], packets[row], now);
    }
  }
  apply(records, rows, kind) {
    const now = this.now();
    const n = Math.floor(records.length / PAIR_RECORD_SIZE);
    for (let i = 0; i < n; i++) {
      if (rows[i] < 0)
        continue;
      const at = i * PAIR_RECORD_SIZE;
      this.table.addText(this.labelText(records, at), readU64(records, at + RECORD_BYTES), readU64(records, at + RECORD_PACKETS), now);
    }
    if (kind === "slot")
      this.table.expire(now, this.ttlMs);
  }
};

// agent/dist/lifecycle.js
var PROGRAMS = ["tc_pod_egress", "tc_host_egress"];
var LOAD_RETRY_MS = [5e3, 1e4, 3e4, 6e4];
var Agent = class {
  config;
  log;
  objectPath;
  /** The one owner of the exported per-pair totals; /metrics renders its view. */
  ledger;
  metrics;
  enrichment;
  attribution;
  grouped;
  destinations;
  server;
  /** Loaded only when enabled: node:inspector and node:v8 cost RSS an idle agent does not need. */
  profiling;
  addon;
  bpf;
  collector;
  resolver;
  discovery;
  createdPinDir = false;
  retry;
  loading;
  stopped = false;
  /** auto mode in a pod: knows our DaemonSet's fate before SIGTERM (issue 17). */
  daemonSetWatch;
  port = 0;
  constructor(config, log, objectPath = DEFAULT_OBJECT_PATH) {
    this.config = config;
    this.log = log;
    this.objectPath = objectPath;
    this.ledger = new Ledger({ pairTtlMs: config.pairTtl, trackConnections: config.connectionTracking });
    this.metrics = createMetrics(this.ledger.view, { pairMetrics: config.pairMetrics, workloadMetrics: config.kubernetes, groupedPairs: config.pairDestinationGroups });
    const optional = config.destinationsFile === SETTINGS.destinationsFile.default && !existsSync3(config.destinationsFile);
    this.destinations = optional ? new Destinations() : Destinations.load(config.destinationsFile);
    if (config.pairDestinationGroups)
      this.grouped = new GroupedPairs(this.destinations, this.metrics.groupedPairs, config.pairTtl);
    const c = config;
    this.metrics.connectionTrackingInfo.set({ enabled: String(c.connectionTracking), netns_filter_mode: c.netnsFilterMode, max_flows: String(c.maxFlows) }, 1);
  }
  ready() {
    return !this.stopped && this.discovery !== void 0 && (this.collector?.collections ?? 0) > 0;
  }
  async start() {
    const c = this.config;
    const kubernetesAuth = c.metricsAuth === "kubernetes";
    let authorizer;
    if (kubernetesAuth) {
      const { KubernetesAuthorizer, kubernetesReviewApi } = await import("./auth-HAQMN6W2.js");
      authorizer = new KubernetesAuthorizer(await kubernetesReviewApi());
    }
    this.server = new MetricsServer(this.metrics, { live: () => !this.stopped, ready: () => this.ready() }, (err) => this.log.error("serving /metrics failed", { err }), kubernetesAuth ? { tls: { certFile: c.metricsTlsCertFile, keyFile: c.metricsTlsKeyFile }, authorizer } : {});
    this.port = await this.server.start(c.metricsPort, c.metricsAddress);
    this.log.info("serving metrics", {
      address: c.metricsAddress,
      port: this.port,
      ...kubernetesAuth ? { scheme: "https", auth: "TokenReview + SubjectAccessReview (get /metrics)", certFile: c.metricsTlsCertFile } : { scheme: "http", auth: "none" }
    });
    if (this.config.enableProfiling) {
      const { ProfilingServer, profilingAddress } = await import("./profiling-VWIHL56T.js");
      const address = profilingAddress(this.config.metricsAddress);
      this.profiling = new ProfilingServer();
      const port = await this.profiling.start(this.config.profilingPort, address);
      this.log.info("serving profiles", { address, port, paths: ["/debug/cpu-profile?seconds=10", "/debug/heap-snapshot"] });
    }
    await logPreflight(this.config, this.log);
    const ds = this.config.onShutdown === "auto" ? daemonSetFromEnv(process.env) : void 0;
    if (ds) {
      this.daemonSetWatch = new DaemonSetWatch(ds, this.log);
      this.daemonSetWatch.start().catch((err) => this.log.warn("cannot watch our DaemonSet; SIGTERM will ask once", { err }));
    }
    if (this.config.kubernetes)
      await this.startEnrichment();
    this.addon = loadAddon();
    this.tryLoad(0);
  }
  /** Informers for the workload family; without API credentials it stays off and says why. */
  async startEnrichment() {
    const { KubernetesEnrichment } = await import("./informers-CWBBPGAS.js");
    const { loadApiClient: loadApiClient2 } = await import("./api-FUOQBZO5.js");
    const found = await loadApiClient2(process.env);
    if ("reason" in found) {
      this.log.warn("EBPF_KUBERNETES=on but no Kubernetes API to watch: workload attribution is off", { reason: found.reason });
      return;
    }
    let flush;
    const enrichment = new KubernetesEnrichment(found.client, this.log, {
      // Former owners are kept for a few intervals: the drain that follows a release still finds them.
      historyMs: Math.max(6e4, this.config.collectionInterval * 4),
      // An address a pod gave up may go to a new pod soon: drain now (once per burst of releases).
      onRelease: () => {
        if (flush)
          return;
        flush = setTimeout(() => {
          flush = void 0;
          void this.collector?.collect();
        }, 0);
      },
      onCount: (n) => {
        for (const [resource, count] of Object.entries(n))
          this.metrics.kubernetesObjects.set({ resource }, count);
      },
      onWatchError: (resource) => this.metrics.kubernetesWatchErrors.inc({ resource })
    });
    for (const resource of ["pods", "nodes", "services"]) {
      this.metrics.kubernetesObjects.set({ resource }, 0);
      this.metrics.kubernetesWatchErrors.inc({ resource }, 0);
    }
    const localNode = process.env.EBPF_NODE_NAME || void 0;
    this.attribution = new Attribution(enrichment.cluster, this.destinations, this.metrics.workloads, { localNode, ttlMs: this.config.workloadTtl });
    enrichment.start();
    this.enrichment = enrichment;
    this.log.info("Kubernetes enrichment started", { credentials: found.source, node: localNode ?? "(EBPF_NODE_NAME unset)", destinationGroups: this.destinations.groups });
  }
  tryLoad(attempt) {
    if (this.stopped)
      return;
    this.loading = this.load().catch((err) => {
      const delay = LOAD_RETRY_MS[Math.min(attempt, LOAD_RETRY_MS.length - 1)];
      this.log.error("loading the BPF programs failed; retrying", { err, retryInMs: delay });
      this.retry = setTimeout(() => this.tryLoad(attempt + 1), delay);
    });
  }
  preparePinDir() {
    const pin = this.config.pinPath;
    if (!existsSync3(pin)) {
      const parent = dirname(pin);
      if (!existsSync3(parent) || statfsSync(parent).type !== BPF_FS_MAGIC) {
        throw new Error(`EBPF_BPF_PIN_PATH=${pin}: its parent ${parent} is not a mounted bpf filesystem (mount -t bpf bpf ${parent})`);
      }
      mkdirSync(pin);
      this.createdPinDir = true;
    } else if (statfsSync(pin).type !== BPF_FS_MAGIC) {
      throw new Error(`EBPF_BPF_PIN_PATH=${pin} is not on a bpf filesystem`);
    }
  }
  async load() {
    const addon = this.addon;
    this.metrics.loadAttempts.inc();
    let bpf;
    let maxPairs;
    let maxFlows;
    try {
      this.preparePinDir();
      const cgroup = this.config.netnsFilterMode === "default" ? resolvePodCgroup(this.config.podCgroup) : void 0;
      if (this.config.netnsFilterMode === "default") {
        if (cgroup)
          this.log.info("hostNetwork pods are told apart by their cgroup", { podCgroup: cgroup.path });
        else
          this.log.warn("no pods cgroup found (EBPF_POD_CGROUP): traffic of hostNetwork pods is not counted", { podCgroup: this.config.podCgroup });
      }
      const pinnedSize = (map, setting, message) => {
        const wanted = this.config[setting];
        const pinned = addon.pinnedMapMaxEntries(join3(this.config.pinPath, map)) ?? wanted;
        if (pinned !== wanted)
          this.log.warn(`${message}; remove the pins (cleanup) to resize`, { [setting]: wanted, pinned });
        return pinned;
      };
      maxPairs = pinnedSize("pair_totals", "maxPairs", "EBPF_MAX_PAIRS differs from the pinned pair ledger: keeping its size so the counters continue");
      maxFlows = pinnedSize("connection_flows", "maxFlows", "EBPF_MAX_FLOWS differs from the pinned flow maps: keeping their size so no count is lost");
      bpf = new addon.BpfObject({
        objectPath: this.objectPath,
        maxFlows,
        maxPairs,
        ringbufBytes: 1 << 20,
        pinPath: this.config.pinPath,
        countHostSystemTraffic: this.config.netnsFilterMode === "disabled",
        podCgroupPath: cgroup?.path
      });
    } catch (err) {
      for (const program of PROGRAMS)
        this.metrics.loadStatus.set({ program }, 0);
      throw err;
    }
    const info = bpf.info();
    this.bpf = bpf;
    this.metrics.loadDuration.set(info.loadSeconds);
    for (const p of info.programs)
      this.metrics.loadStatus.set({ program: p.name }, 1);
    const mode = resolveAttachMode(this.config.attachMode);
    this.log.info("BPF programs loaded", { loadSeconds: info.loadSeconds, coarseClock: info.coarseClock, attachMode: mode, pinPath: this.config.pinPath });
    this.resolver = this.openResolver(addon);
    this.collector = new Collector(bpf, this.ledger, this.metrics, this.log, {
      resolver: this.resolver,
      intervalMs: this.config.collectionInterval,
      maxFlows,
      dumpMaps: this.config.dumpBpfMaps,
      onApplied: (r) => {
        this.grouped?.apply(r.records, r.rows, r.kind);
        this.attribution?.apply(r.records, r.rows, r.kind);
      },
      // The grouped pair family continues from the pinned totals, as the raw one does.
      onLoaded: () => this.grouped?.seed(this.metrics.pairs)
    });
    const restored = await this.collector.restore(maxPairs);
    if (restored.pairs || restored.foreign)
      this.log.info("counters continue from the pinned ledger", { ...restored, maxPairs });
    const linkPins = join3(this.config.pinPath, "links");
    mkdirSync(linkPins, { recursive: true });
    const qdiscs = await new QdiscRegistry(bpf).load();
    const discovery = new InterfaceDiscovery(addon, new Attacher(addon, bpf, mode, linkPins, qdiscs), this.log, {
      onAttachError: (link, err) => {
        this.metrics.collectorErrors.inc({ type: "attach" });
        this.log.error("attaching failed", { interface: link.name, ifindex: link.ifindex, err });
      },
      onChange: (n) => this.metrics.attachedInterfaces.set(n),
      // Packets the program ahead of ours ended were not counted: say so.
      onReorder: () => this.metrics.collectorErrors.inc({ type: "attach_order" })
    }, linkPins, this.config.uplinkInterfaces);
    discovery.start();
    this.discovery = discovery;
    this.collector.start();
    void this.collector.collect();
  }
  /**
   * Conntrack's view of Service translations (EBPF_SERVICE_RESOLUTION). Ended
   * connections are kept two intervals (at least a minute), so the drain after
   * their end still finds their backend. Without it (no NETLINK_NETFILTER, no
   * CAP_NET_ADMIN) the agent counts on and Service traffic keeps its Service address.
   */
  openResolver(addon) {
    if (this.config.serviceResolution !== "conntrack") {
      this.log.info("service resolution off: traffic to a Service is exported under the Service address");
      return void 0;
    }
    const retainMs = Math.max(6e4, 2 * this.config.collectionInterval);
    try {
      const resolver = new addon.ConntrackResolver({ retainMs });
      this.log.info("service resolution: conntrack (traffic to a Service is exported under its backend)", { retainMs });
      return resolver;
    } catch (err) {
      this.log.error("service resolution unavailable: traffic to a Service is exported under the Service address", { err });
      return void 0;
    }
  }
  /** Whether this shutdown hands over to a next agent (keep) or uninstalls (cleanup). */
  async keepOnShutdown() {
    const mode = this.config.onShutdown;
    if (mode !== "auto")
      return mode === "keep";
    if (!this.daemonSetWatch)
      return false;
    return !await this.daemonSetWatch.gone();
  }
  /**
   * keep: the programs stay attached and the maps pinned, so the next agent
   * (rolling update, restart) counts on without a gap. cleanup: final drain,
   * every hook we attached removed, pins and the pin directory removed.
   */
  async stop() {
    if (this.stopped)
      return;
    this.stopped = true;
    if (this.retry)
      clearTimeout(this.retry);
    await this.loading;
    const keep = this.bpf ? await this.keepOnShutdown() : false;
    this.daemonSetWatch?.stop();
    await this.collector?.stop();
    this.discovery?.stop(keep);
    if (!keep) {
      await this.collector?.collect();
    }
    this.resolver?.close();
    this.bpf?.close({ unpin: !keep });
    if (!keep && this.bpf) {
      try {
        rmSync2(join3(this.config.pinPath, "links"), { recursive: true, force: true });
        if (this.createdPinDir || existsSync3(this.config.pinPath))
          rmSync2(this.config.pinPath, { recursive: true, force: true });
      } catch (err) {
        this.log.warn("removing the pin directory failed", { pinPath: this.config.pinPath, err });
      }
    }
    this.enrichment?.stop();
    await this.profiling?.stop();
    await this.server?.stop();
    this.log.info("stopped", { kept: keep });
  }
};

// agent/dist/main.js
var EXIT_USAGE = 2;
async function main(argv) {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(helpText() + "\n");
    return 0;
  }
  const command = argv[0] && !argv[0].startsWith("-") ? argv[0] : "run";
  const flags = command === argv[0] ? argv.slice(1) : argv;
  let config;
  try {
    config = loadConfig(command === "check" ? flags.filter((f, i, a) => f !== "--output" && a[i - 1] !== "--output") : flags, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ebpf-agent: ${err.message}
`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const log = createLogger(config.logLevel, config.logFormat);
  switch (command) {
    case "run":
      break;
    case "check": {
      const { runCheck } = await import("./command-HZFKLHBV.js");
      return runCheck(config, flags, log);
    }
    case "cleanup": {
      const { cleanup } = await import("./cleanup-K6GRRXCU.js");
      return cleanup(config, log);
    }
    default:
      process.stderr.write(`ebpf-agent: unknown command ${JSON.stringify(command)}: expected run, check or cleanup (see --help)
`);
      return EXIT_USAGE;
  }
  const agent = new Agent(config, log);
  let signals = 0;
  const done = new Promise((resolve) => {
    const onSignal = (signal) => {
      signals++;
      if (signals > 1) {
        log.warn("second signal: exiting now", { signal });
        process.exit(1);
      }
      log.info("shutting down", { signal });
      agent.stop().then(() => resolve(0), (err) => {
        log.error("shutdown failed", { err });
        resolve(1);
      });
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  try {
    await agent.start();
  } catch (err) {
    log.error("start failed", { err });
    await agent.stop().catch(() => void 0);
    return 1;
  }
  return done;
}
main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  process.stderr.write(`ebpf-agent: ${err instanceof Error ? err.stack : String(err)}
`);
  process.exit(1);
});
