// The chart's values, defined once. values.yaml (with helm-docs comments),
// values.schema.json and every `.Values...` reference in the constructs come
// from this tree. Keys of the published chart keep their names and meaning.
import { INTERFACE_LIST_PATTERN, MAX_PATH_LENGTH, SETTINGS, type Setting, type SettingKey } from '../../../agent/src/config/settings.js';
import { AGENT_CAPABILITIES, BPFFS_PATH, METRICS_TLS_DIR } from '../security.js';
import { bool, group, int, Leaf, list, object, oneOf, root, str, type JsonSchema } from './dsl.js';

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const DURATION = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
// One path segment as the agent accepts it (settings.ts absolutePath): never `.` or `..`.
// Spelled without lookahead: Helm validates the schema with Go's regexp.
const SEGMENT = '([A-Za-z0-9_:@-][A-Za-z0-9._:@-]*|\\.[A-Za-z0-9_:@-][A-Za-z0-9._:@-]*|\\.\\.[A-Za-z0-9._:@-]+)';
const K8S_OBJECT: JsonSchema = { type: 'object' };
const STRING_MAP: JsonSchema = { additionalProperties: { type: 'string' } };

/**
 * How each agent setting is exposed and checked in values. A Record over every
 * SettingKey: a new setting does not compile until the chart says how to take it.
 */
const SETTING_SCHEMA: Record<SettingKey, JsonSchema> = {
  metricsPort: { type: 'integer', minimum: 1, maximum: 65535 },
  // kubernetes: the chart mounts metricsAuth.tlsSecretName, switches probes and
  // monitors to HTTPS and binds the review RBAC (see METRICS_AUTH_RULES).
  metricsAuth: { type: 'string', enum: ['none', 'kubernetes'] },
  // Not chart values: the chart mounts the Secret where the defaults point.
  metricsTlsCertFile: { type: 'string', pattern: `^(/${SEGMENT})+/?$` },
  metricsTlsKeyFile: { type: 'string', pattern: `^(/${SEGMENT})+/?$` },
  metricsAddress: { type: 'string', pattern: `^((${OCTET}\\.){3}${OCTET}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$` },
  collectionInterval: { type: 'string', pattern: DURATION },
  logLevel: { type: 'string', enum: ['debug', 'info', 'warn', 'error'] },
  logFormat: { type: 'string', enum: ['json', 'console'] },
  netnsFilterMode: { type: 'string', enum: ['default', 'disabled'] },
  connectionTracking: { type: 'boolean' },
  serviceResolution: { type: 'string', enum: ['conntrack', 'off'] },
  // Narrower than the agent: the pod mounts only the host's bpffs, so pins must live under it.
  pinPath: { type: 'string', pattern: `^${BPFFS_PATH}(/${SEGMENT})+/?$`, maxLength: MAX_PATH_LENGTH },
  maxFlows: { type: 'integer', minimum: 16, maximum: 16777216 },
  maxPairs: { type: 'integer', minimum: 1024, maximum: 16777216 },
  pairTtl: { type: 'string', pattern: DURATION },
  attachMode: { type: 'string', enum: ['auto', 'tcx', 'tc'] },
  enableProfiling: { type: 'boolean' },
  profilingPort: { type: 'integer', minimum: 1, maximum: 65535 },
  dumpBpfMaps: { type: 'boolean' },
  podCgroup: { type: 'string', pattern: `^(auto|(/${SEGMENT})+/?)$`, maxLength: MAX_PATH_LENGTH },
  onShutdown: { type: 'string', enum: ['auto', 'keep', 'cleanup'] },
  uplinkInterfaces: { type: 'string', pattern: INTERFACE_LIST_PATTERN },
  // Booleans in values (YAML 1.1 reads a bare on/off as one anyway); the agent also takes on/off.
  kubernetes: { type: 'boolean' },
  pairMetrics: { type: 'boolean' },
  workloadTtl: { type: 'string', pattern: DURATION },
  pairDestinationGroups: { type: 'boolean' },
  // Not a chart value: the chart sets it when costDestinations is given.
  destinationsFile: { type: 'string' },
};

function settingLeaf(key: SettingKey): Leaf {
  const s = SETTINGS[key] as Setting<unknown>;
  const schema = SETTING_SCHEMA[key];
  // Durations are written as text (25s), numbers and booleans as themselves.
  const def = schema.type === 'string' ? s.format(s.default) : (s.default as number | boolean);
  const doc = `${s.description} (${s.accepted}). Env ${s.env}`;
  return new Leaf(doc, def, { ...schema, description: `${s.description}: ${s.accepted}` });
}

/** Settings the chart exposes, by their key under config (the last part of chartValue). */
export const CHART_SETTINGS: ReadonlyArray<{ readonly key: string; readonly settingKey: SettingKey; readonly setting: Setting<unknown> }> =
  (Object.keys(SETTINGS) as SettingKey[]).flatMap((k) => {
    const s = SETTINGS[k] as Setting<unknown>;
    if (s.chartValue === undefined) return [];
    if (!/^config\.[A-Za-z]+$/.test(s.chartValue)) throw new Error(`setting ${k}: chart value ${s.chartValue} is not under config.`);
    return [{ key: s.chartValue.slice('config.'.length), settingKey: k, setting: s }];
  });

/** Every env var the chart sets from config.*: value key and variable name, in SETTINGS order. */
export const CONFIG_ENV: ReadonlyArray<{ readonly key: string; readonly env: string }> =
  CHART_SETTINGS.map((c) => ({ key: c.key, env: c.setting.env }));

const configLeaves: { [key: string]: Leaf } = Object.fromEntries(
  CHART_SETTINGS.map((c) => [c.key, settingLeaf(c.settingKey)]),
);

const monitorValues = (what: string) => ({
  enabled: bool(`Create a ${what} (needs the Prometheus Operator CRDs)`, false),
  namespace: str(`Namespace of the ${what}`, '', {}, 'the release namespace'),
  labels: object(`Extra labels on the ${what}, e.g. the label your Prometheus selects on`, {}, STRING_MAP),
  interval: str('Scrape interval; empty uses the Prometheus default', '', { pattern: `^$|${DURATION}` }),
  scrapeTimeout: str('Scrape timeout; empty uses the Prometheus default', '', { pattern: `^$|${DURATION}` }),
  honorLabels: bool('Keep the labels of scraped series when they clash with target labels', false),
  relabelings: list('Relabelings applied before scraping', [], K8S_OBJECT),
  metricRelabelings: list('Relabelings applied to scraped samples before ingestion', [], K8S_OBJECT),
});

export const VALUES = root(group('', {
  enabled: bool('Deploy the agent; false renders nothing', true),
  nameOverride: str('Replaces the chart name in resource names', ''),
  fullnameOverride: str('Replaces the whole resource name (release name + chart name)', ''),
  image: group('Container image of the agent', {
    repository: str('Image repository', 'ghcr.io/kubeadapt/ebpf-agent', { minLength: 1 }),
    tag: str('Image tag', '', {}, 'the chart appVersion'),
    pullPolicy: oneOf('Image pull policy', 'IfNotPresent', ['Always', 'IfNotPresent', 'Never']),
  }),
  imagePullSecrets: list('Secrets for pulling the image from a private registry, e.g. [{name: regcred}]', [], {
    type: 'object', required: ['name'], properties: { name: { type: 'string' } },
  }),
  serviceAccount: group('ServiceAccount of the agent pods', {
    create: bool('Create the ServiceAccount', true),
    annotations: object('Annotations on the ServiceAccount', {}, STRING_MAP),
    name: str('Name of the ServiceAccount; empty uses the full name when create is true, else "default"', ''),
  }),
  rbac: group('Permissions of the agent', {
    create: bool('Create a Role allowing get, list and watch of this DaemonSet, which the agent watches to tell an uninstall (remove pinned state) from a rolling update (keep it); with config.kubernetes "on" also a ClusterRole with get, list and watch on Pods, Nodes and Services (nothing else)', true),
  }),
  costDestinations: object('Destinations file of the cost attribution (config.kubernetes "on"), in Kubecost network-costs\' shape: destinations.in-zone, in-region, cross-region and internet CIDR lists, plus destinations.groups [{name, class, cidrs}] whose addresses are shown as one workload (kind CIDRGroup). Empty: public addresses are internet, private ones not known to the cluster unknown. See docs/cost.md', {}, {
    additionalProperties: false,
    properties: {
      destinations: {
        type: 'object', additionalProperties: false,
        properties: {
          ...Object.fromEntries(['in-zone', 'in-region', 'cross-region', 'internet'].map((k) => [k, { type: 'array', items: { type: 'string', minLength: 1 } }])),
          groups: {
            type: 'array',
            items: {
              type: 'object', additionalProperties: false, required: ['name', 'class', 'cidrs'],
              properties: {
                name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' },
                class: { type: 'string', enum: ['in-zone', 'in-region', 'cross-region', 'internet'] },
                cidrs: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
              },
            },
          },
        },
      },
    },
  }),
  podAnnotations: object('Extra annotations on the agent pods', {}, STRING_MAP),
  podLabels: object('Extra labels on the agent pods', {}, STRING_MAP),
  priorityClassName: str('Priority class of the agent pods, so node pressure evicts workloads before the agent', 'system-node-critical'),
  updateStrategy: object('DaemonSet update strategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } }, {
    properties: { type: { type: 'string', enum: ['RollingUpdate', 'OnDelete'] } },
  }),
  terminationGracePeriodSeconds: int('Seconds the agent gets to drain its last counts and detach after SIGTERM', 30, 0, 3600),
  config: group('Agent settings, passed as EBPF_* environment variables', configLeaves),
  securityContext: group('Security context of the agent (and preflight) container', {
    privileged: bool('Run privileged, for kernels older than 5.8 that have no CAP_BPF; also adds SYS_ADMIN', false),
    capabilities: list('Linux capabilities added to an empty set (all others are dropped); see "Security Requirements"',
      AGENT_CAPABILITIES.map((c) => c.name), { type: 'string', pattern: '^[A-Z_]+$' }),
    runAsUser: int('User ID; root owns bpffs and netlink, so the agent runs as 0 with capabilities instead of privileges', 0, 0, 2147483647),
    readOnlyRootFilesystem: bool('Mount the image read-only; /tmp is an emptyDir', true),
    seccompProfile: object('Seccomp profile of the container', { type: 'RuntimeDefault' }, {
      required: ['type'], properties: { type: { type: 'string', enum: ['RuntimeDefault', 'Localhost', 'Unconfined'] } },
    }),
  }),
  preflight: group('Init container that checks the kernel before the agent starts', {
    enabled: bool('Run `main.js check` (kernel version, BTF, bpffs, capabilities) as an init container so a node that cannot run the agent says why', true),
  }),
  resources: object('Resources of the agent container', {
    requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '384Mi' },
  }),
  tolerations: list('Tolerations; the default tolerates every taint so every node is measured', [{ operator: 'Exists' }], K8S_OBJECT),
  nodeSelector: object('Node selector', { 'kubernetes.io/os': 'linux' }, STRING_MAP),
  affinity: object('Affinity', {}),
  topologySpreadConstraints: list('Topology spread constraints', [], K8S_OBJECT),
  env: list('Extra environment variables of the agent container', [], {
    type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } },
  }),
  extraVolumes: list('Extra volumes of the agent pods', [], { type: 'object', required: ['name'] }),
  extraVolumeMounts: list('Extra volume mounts of the agent container', [], { type: 'object', required: ['name', 'mountPath'] }),
  service: group('Headless Service selecting the agent pods; named like the release so scrape configs find kubeadapt-ebpf-agent', {
    enabled: bool('Create the Service', true),
    type: oneOf('Service type', 'ClusterIP', ['ClusterIP', 'NodePort', 'LoadBalancer']),
    clusterIP: str('Cluster IP; "None" makes it headless (one endpoint per node, as Prometheus needs). Used with type ClusterIP only', 'None'),
    annotations: object('Annotations on the Service', {}, STRING_MAP),
    labels: object('Extra labels on the Service', {}, STRING_MAP),
  }),
  prometheusAnnotations: group('prometheus.io/scrape, port and path annotations for annotation-based scrape jobs', {
    pod: bool('Annotate the pods (kubernetes-pods jobs), as the published chart does', true),
    service: bool('Annotate the Service (kubernetes-service-endpoints jobs); enable one of the two to scrape once', false),
  }),
  metricsAuth: group('Chart side of config.metricsAuth "kubernetes" (HTTPS, TokenReview + SubjectAccessReview on /metrics); unused with "none". See docs/security.md', {
    tlsSecretName: str(`Name of a kubernetes.io/tls Secret (tls.crt, tls.key) in the release namespace, mounted read-only at ${METRICS_TLS_DIR} where the agent reads its key pair (re-read every 10 s, so a renewed Secret is served without a restart). Required when config.metricsAuth is "kubernetes"`, ''),
    caKey: str('Key of the CA certificate in the Secret named tlsSecretName, which ServiceMonitor and PodMonitor verify the agent\'s certificate with (cert-manager writes ca.crt); the Prometheus Operator reads that Secret from the monitor\'s namespace. Empty: no CA is set (Prometheus then uses its system roots)', 'ca.crt'),
    serverName: str('Name Prometheus expects in the agent\'s certificate (one of its DNS SANs); empty: the scraped address, which a per-node IP rarely matches', ''),
    insecureSkipVerify: bool('Monitors skip verifying the agent\'s certificate: the scrape stays encrypted and token-checked, but anyone on the path can impersonate the agent and receive the scraper\'s token. Only for self-signed certificates without a CA to hand out', false),
    readers: list('Subjects bound to the <fullname>-metrics-reader ClusterRole (RBAC subjects, e.g. [{kind: ServiceAccount, name: prometheus-k8s, namespace: monitoring}]): the scrapers allowed to read /metrics. Empty: bind it yourself', [], {
      type: 'object', required: ['kind', 'name'], additionalProperties: false,
      properties: { kind: { enum: ['ServiceAccount', 'User', 'Group'] }, name: { type: 'string', minLength: 1 }, namespace: { type: 'string' }, apiGroup: { type: 'string' } },
    }),
    podMonitorTokenSecret: group('PodMonitors cannot use Prometheus\'s own token file: a Secret in the PodMonitor\'s namespace holding a token of an identity bound to the <fullname>-metrics-reader ClusterRole', {
      name: str('Secret name; required for the PodMonitor when config.metricsAuth is "kubernetes"', ''),
      key: str('Key of the token in the Secret', 'token', { minLength: 1 }),
    }),
  }),
  serviceMonitor: group('Prometheus Operator ServiceMonitor (needs service.enabled)', monitorValues('ServiceMonitor')),
  podMonitor: group('Prometheus Operator PodMonitor', monitorValues('PodMonitor')),
  networkPolicy: group('NetworkPolicy for the metrics port. The agent runs on the host network, and most CNIs (Calico without host endpoints, Cilium without host firewall, kindnet, flannel) do not apply NetworkPolicies to hostNetwork pods: there it restricts nothing. Use a node firewall, or config.metricsAuth "kubernetes" (token-checked HTTPS, see metricsAuth)', {
    enabled: bool('Create the NetworkPolicy', false),
    from: list('Peers allowed to reach the metrics port (NetworkPolicyPeer list); empty allows every source', [], K8S_OBJECT),
  }),
  grafanaDashboard: group('Grafana dashboard as a ConfigMap for the Grafana sidecar', {
    enabled: bool('Create the dashboard ConfigMap', false),
    namespace: str('Namespace of the ConfigMap (where the Grafana sidecar looks)', '', {}, 'the release namespace'),
    labels: object('Labels on the ConfigMap; the Grafana sidecar selects on grafana_dashboard', { grafana_dashboard: '1' }, STRING_MAP),
    annotations: object('Annotations on the ConfigMap, e.g. grafana_folder', {}, STRING_MAP),
  }),
  prometheusRule: group('Prometheus Operator PrometheusRule with the agent alerts', {
    enabled: bool('Create the PrometheusRule', false),
    namespace: str('Namespace of the PrometheusRule', '', {}, 'the release namespace'),
    labels: object('Extra labels on the PrometheusRule, e.g. the label your Prometheus selects rules on', {}, STRING_MAP),
  }),
}));


/**
 * Root-level schema rules beyond each value's own: config.metricsAuth "kubernetes"
 * needs the TLS Secret (the daemonset template also fails naming the value).
 */
export const METRICS_AUTH_RULES: JsonSchema = {
  allOf: [{
    if: { properties: { config: { properties: { metricsAuth: { const: 'kubernetes' } }, required: ['metricsAuth'] } }, required: ['config'] },
    then: {
      properties: { metricsAuth: { properties: { tlsSecretName: { minLength: 1 } }, required: ['tlsSecretName'] } },
      required: ['metricsAuth'],
    },
  }],
};
