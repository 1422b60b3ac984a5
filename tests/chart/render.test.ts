// helm template with the defaults, every ci/ scenario and the published chart's
// own values: every object must be valid for Kubernetes 1.24 and a current
// release (strict: unknown fields are errors), and must say what the values say.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SETTINGS, type Setting } from '../../agent/src/config/settings.js';
import { buildDashboard } from '../../cdk8s/src/observability/dashboard.js';
import { buildAlertRules } from '../../cdk8s/src/observability/rules.js';
import { AGENT_CAPABILITIES, PRIVILEGED_EXTRA_CAPABILITY } from '../../cdk8s/src/security.js';
import { CONFIG_ENV } from '../../cdk8s/src/values/values.js';
import { isCrdObject, validateCrdObject } from './lib/crd-schema.js';
import { CHART_DIR, find, helm, KUBE_VERSIONS, render, templateArgs, type K8sObject } from './lib/helm.js';
import { k8sValidator } from './lib/k8s-schema.js';

const CI = join(CHART_DIR, 'ci');
const PUBLISHED = join(import.meta.dirname, 'fixtures/published-values.yaml');
const scenarios: Array<{ name: string; files: string[] }> = [
  { name: 'defaults', files: [] },
  ...readdirSync(CI).sort().map((f) => ({ name: `ci/${f}`, files: [join(CI, f)] })),
  { name: 'published chart defaults', files: [PUBLISHED] },
];
const SELECTOR = { 'app.kubernetes.io/name': 'ebpf-agent', 'app.kubernetes.io/instance': 'kubeadapt-ebpf-agent' };
const CAPS = AGENT_CAPABILITIES.map((c) => c.name);

const agentOf = (ds: K8sObject) => ds.spec.template.spec.containers[0];
const envOf = (c: any): Record<string, unknown> => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

for (const kube of KUBE_VERSIONS) {
  for (const s of scenarios) {
    test(`Kubernetes ${kube} accepts every object rendered from ${s.name}`, async (t) => {
      const objects = await render({ valuesFiles: s.files, kubeVersion: kube });
      if (s.name === 'ci/disabled-values.yaml') {
        t.deepEqual(objects, [], 'enabled=false must render nothing');
        return;
      }
      t.true(objects.some((o) => o.kind === 'DaemonSet'));
      const validator = k8sValidator(kube);
      const errors = objects.flatMap((o) => (isCrdObject(o) ? validateCrdObject(o) : validator.validate(o)));
      t.deepEqual(errors, []);
    });
  }
}

test('the strict schema check fails on unknown fields and on fields newer than the Kubernetes version', async (t) => {
  const ds = find(await render(), 'DaemonSet');
  const misspelt = structuredClone(ds) as any;
  misspelt.spec.template.spec.hostPid = true;
  t.deepEqual(k8sValidator('1.34.4').validate(misspelt), [
    'DaemonSet/kubeadapt-ebpf-agent/spec/template/spec must NOT have additional properties (hostPid)',
  ]);
  const newer = structuredClone(ds) as any;
  newer.spec.template.spec.hostUsers = true; // PodSpec.hostUsers arrived in 1.25
  t.deepEqual(k8sValidator('1.34.4').validate(newer), []);
  t.deepEqual(k8sValidator('1.24.17').validate(newer), [
    'DaemonSet/kubeadapt-ebpf-agent/spec/template/spec must NOT have additional properties (hostUsers)',
  ]);
  const portAsText = structuredClone(ds) as any;
  portAsText.spec.template.spec.containers[0].ports[0].containerPort = '9090';
  t.deepEqual(k8sValidator('1.24.17').validate(portAsText), [
    'DaemonSet/kubeadapt-ebpf-agent/spec/template/spec/containers/0/ports/0/containerPort must be integer',
  ]);
});

test('defaults: the names, labels and port the published README and scrape configs rely on', async (t) => {
  const objects = await render();
  t.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), [
    'ServiceAccount/kubeadapt-ebpf-agent', 'Role/kubeadapt-ebpf-agent', 'RoleBinding/kubeadapt-ebpf-agent',
    'Service/kubeadapt-ebpf-agent', 'DaemonSet/kubeadapt-ebpf-agent',
  ]);
  t.true(objects.every((o) => o.metadata.namespace === 'kubeadapt'));
  const ds = find(objects, 'DaemonSet');
  t.deepEqual(ds.spec.selector.matchLabels, SELECTOR);
  t.like(ds.spec.template.metadata.labels, SELECTOR);
  const pod = ds.spec.template.spec;
  t.is(pod.hostPID, undefined, 'no code uses the node\'s PID namespace');
  t.like(pod, { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', priorityClassName: 'system-node-critical',
    terminationGracePeriodSeconds: 30, serviceAccountName: 'kubeadapt-ebpf-agent' });
  t.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  t.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
  const agent = agentOf(ds);
  t.is(agent.image, 'ghcr.io/kubeadapt/ebpf-agent:0.1.0');
  t.deepEqual(agent.ports, [{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }]);
  t.deepEqual(agent.livenessProbe.httpGet, { path: '/health/live', port: 'metrics' });
  t.deepEqual(agent.readinessProbe.httpGet, { path: '/health/ready', port: 'metrics' });
  t.deepEqual(ds.spec.template.metadata.annotations, {
    'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics',
  });
  const svc = find(objects, 'Service');
  t.deepEqual(svc.spec, {
    type: 'ClusterIP', clusterIP: 'None', selector: SELECTOR,
    ports: [{ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }],
  });
});

test('defaults: least privilege: capabilities only, read-only root, RuntimeDefault seccomp, bpffs, /tmp and the cgroup tree read-only only', async (t) => {
  const ds = find(await render(), 'DaemonSet');
  const pod = ds.spec.template.spec;
  const expected = {
    privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsUser: 0,
    capabilities: { drop: ['ALL'], add: CAPS }, seccompProfile: { type: 'RuntimeDefault' },
  };
  t.deepEqual(CAPS, ['BPF', 'NET_ADMIN', 'PERFMON', 'SYS_RESOURCE']);
  t.deepEqual(agentOf(ds).securityContext, expected);
  t.deepEqual(pod.initContainers[0].securityContext, expected);
  t.deepEqual(pod.volumes, [
    { name: 'bpffs', hostPath: { path: '/sys/fs/bpf', type: 'DirectoryOrCreate' } },
    { name: 'tmp', emptyDir: {} },
    { name: 'cgroup', hostPath: { path: '/sys/fs/cgroup', type: 'Directory' } },
  ]);
  t.deepEqual(agentOf(ds).volumeMounts, [
    { name: 'bpffs', mountPath: '/sys/fs/bpf', mountPropagation: 'HostToContainer' },
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'cgroup', mountPath: '/host/sys/fs/cgroup', readOnly: true },
  ]);
  t.like(pod.initContainers[0], { name: 'preflight', image: agentOf(ds).image, args: ['check'] });
});

test('privileged opt-in adds SYS_ADMIN and allows escalation (the API rejects privileged without it)', async (t) => {
  const ds = find(await render({ valuesFiles: [join(CI, 'privileged-values.yaml')] }), 'DaemonSet');
  t.like(agentOf(ds).securityContext, { privileged: true, allowPrivilegeEscalation: true });
  t.deepEqual(agentOf(ds).securityContext.capabilities, { drop: ['ALL'], add: [...CAPS, PRIVILEGED_EXTRA_CAPABILITY] });
});

test('env: one variable per agent setting, with defaults the agent itself accepts, then identity for uninstall detection', async (t) => {
  const ds = find(await render(), 'DaemonSet');
  const env = agentOf(ds).env as Array<{ name: string; value?: string }>;
  t.deepEqual(env.map((e) => e.name), [
    ...CONFIG_ENV.map((c) => c.env), 'EBPF_POD_NAME', 'EBPF_POD_NAMESPACE', 'EBPF_NODE_NAME', 'EBPF_DAEMONSET_NAME',
  ]);
  t.like(envOf(agentOf(ds)), {
    EBPF_METRICS_PORT: '9090', EBPF_COLLECTION_INTERVAL: '25s', EBPF_LOG_LEVEL: 'info', EBPF_LOG_FORMAT: 'json',
    EBPF_NETNS_FILTER_MODE: 'default', EBPF_CONNECTION_TRACKING: 'true', EBPF_BPF_PIN_PATH: '/sys/fs/bpf/kubeadapt',
    EBPF_MAX_FLOWS: '65536', EBPF_ENABLE_PROFILING: 'false', EBPF_PROFILING_PORT: '6060', EBPF_DUMP_BPF_MAPS: 'false',
    EBPF_DAEMONSET_NAME: 'kubeadapt-ebpf-agent',
    EBPF_POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
    EBPF_POD_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } },
  });
  const byEnv = new Map(Object.values(SETTINGS as Record<string, Setting<unknown>>).map((s) => [s.env, s]));
  for (const e of env.filter((x) => byEnv.has(x.name))) {
    const s = byEnv.get(e.name)!;
    t.not(s.parse(e.value!), undefined, `${e.name}=${e.value} is not accepted by the agent (${s.accepted})`);
    t.is(e.value, s.format(s.default), `${e.name} default differs from the agent's`);
  }
  t.deepEqual(ds.spec.template.spec.initContainers[0].env, env, 'preflight checks with the same settings');
});

test('published chart values render unchanged: image, pull policy, resources, tolerations, debug keys', async (t) => {
  const published = (await import('yaml')).parse(readFileSync(PUBLISHED, 'utf8'));
  const objects = await render({ valuesFiles: [PUBLISHED] });
  const ds = find(objects, 'DaemonSet');
  const agent = agentOf(ds);
  t.is(ds.metadata.name, 'kubeadapt-ebpf-agent');
  t.is(agent.image, 'public.ecr.aws/w3l5x6r6/kubeadapt/app/kubeadapt-ebpf-agent:v0.1.1');
  t.is(agent.imagePullPolicy, 'Always');
  t.deepEqual(agent.resources, published.resources);
  t.deepEqual(ds.spec.template.spec.tolerations, published.tolerations);
  // `nodeSelector: {}` merges into the default, which keeps the agent on Linux nodes.
  t.deepEqual(ds.spec.template.spec.nodeSelector, { 'kubernetes.io/os': 'linux' });
  t.false('affinity' in ds.spec.template.spec, 'an empty affinity renders no key');
  t.false('topologySpreadConstraints' in ds.spec.template.spec);
  t.like(envOf(agent), { EBPF_ENABLE_PROFILING: 'false', EBPF_PROFILING_PORT: '6060', EBPF_DUMP_BPF_MAPS: 'false' });
  t.is(find(objects, 'Service').metadata.name, 'kubeadapt-ebpf-agent');
});

test('extras: every mature-chart knob lands where it belongs', async (t) => {
  const objects = await render({ valuesFiles: [join(CI, 'extras-values.yaml')] });
  const ds = find(objects, 'DaemonSet');
  const pod = ds.spec.template.spec;
  const agent = agentOf(ds);
  t.is(ds.metadata.name, 'traffic-agent');
  t.is(agent.image, 'registry.example.test/kubeadapt/ebpf-agent:9.9.9');
  t.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
  t.deepEqual(ds.spec.updateStrategy, { type: 'OnDelete' });
  t.is(pod.terminationGracePeriodSeconds, 60);
  t.deepEqual(agent.ports, [
    { name: 'metrics', containerPort: 9100, protocol: 'TCP' },
    { name: 'profiling', containerPort: 6061, protocol: 'TCP' },
  ]);
  t.like(envOf(agent), { EBPF_METRICS_PORT: '9100', EBPF_ENABLE_PROFILING: 'true', EBPF_PROFILING_PORT: '6061',
    EBPF_DUMP_BPF_MAPS: 'true', EBPF_LOG_FORMAT: 'console', EBPF_MAX_FLOWS: '131072', EBPF_DAEMONSET_NAME: 'traffic-agent' });
  t.deepEqual(agent.env.at(-1), { name: 'EXTRA_FLAG', value: '1' });
  t.deepEqual(agent.volumeMounts.at(-1), { name: 'host-btf', mountPath: '/sys/kernel/btf', readOnly: true });
  t.deepEqual(pod.volumes.at(-1), { name: 'host-btf', hostPath: { path: '/sys/kernel/btf', type: 'Directory' } });
  t.deepEqual(ds.spec.template.metadata.annotations, {
    team: 'network', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9100', 'prometheus.io/path': '/metrics',
  });
  t.is(ds.spec.template.metadata.labels.tier, 'node');
  t.deepEqual(ds.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'ebpf-agent', 'app.kubernetes.io/instance': 'kubeadapt-ebpf-agent' });
  // Helm merges maps into the defaults: the Linux-only default stays.
  t.deepEqual(pod.nodeSelector, { 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/worker': '' });
  t.is(pod.tolerations.length, 1);
  t.is(pod.topologySpreadConstraints[0].topologyKey, 'topology.kubernetes.io/zone');
  t.is(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key, 'kubernetes.io/arch');
  const svc = find(objects, 'Service');
  t.false('clusterIP' in svc.spec, 'an empty service.clusterIP lets the API allocate one');
  t.deepEqual(svc.spec.ports, [{ name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' }]);
  t.deepEqual(svc.metadata.annotations, { team: 'network' });
  t.is(svc.metadata.labels?.tier, 'node');
  t.deepEqual(find(objects, 'Role').rules[0].resourceNames, ['traffic-agent']);
});

test('minimal: bring-your-own ServiceAccount, no RBAC, no Service, no preflight, no priority class', async (t) => {
  const objects = await render({ valuesFiles: [join(CI, 'minimal-values.yaml')] });
  t.deepEqual(objects.map((o) => o.kind), ['DaemonSet']);
  const pod = objects[0]!.spec.template.spec;
  t.is(pod.serviceAccountName, 'node-agents');
  t.false('initContainers' in pod);
  t.false('priorityClassName' in pod);
});

test('RBAC: get on this DaemonSet only, bound to the agent ServiceAccount', async (t) => {
  const objects = await render();
  t.deepEqual(find(objects, 'Role').rules, [
    { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['kubeadapt-ebpf-agent'], verbs: ['get', 'list', 'watch'] },
  ]);
  const rb = find(objects, 'RoleBinding');
  t.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeadapt-ebpf-agent' });
  t.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: 'kubeadapt-ebpf-agent', namespace: 'kubeadapt' }]);
  t.is(find(objects, 'ServiceAccount').automountServiceAccountToken, true);
});

test('monitoring: ServiceMonitor, PodMonitor, dashboard and rules carry the generated content and settings', async (t) => {
  const objects = await render({ valuesFiles: [join(CI, 'monitoring-values.yaml')] });
  const sm = find(objects, 'ServiceMonitor');
  t.is(sm.metadata.namespace, 'kubeadapt');
  t.is(sm.metadata.labels!.release, 'prometheus');
  t.deepEqual(sm.spec.selector.matchLabels, SELECTOR);
  t.deepEqual(sm.spec.namespaceSelector, { matchNames: ['kubeadapt'] });
  t.deepEqual(sm.spec.endpoints, [{
    honorLabels: true, interval: '30s', scrapeTimeout: '10s', path: '/metrics', port: 'metrics',
    metricRelabelings: [{ action: 'drop', regex: 'go_.*', sourceLabels: ['__name__'] }],
  }]);
  const pm = find(objects, 'PodMonitor');
  t.is(pm.metadata.namespace, 'monitoring');
  t.deepEqual(pm.spec.podMetricsEndpoints, [{
    honorLabels: false, path: '/metrics', port: 'metrics',
    relabelings: [{ action: 'replace', sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }],
  }]);
  const cm = find(objects, 'ConfigMap');
  t.is(cm.metadata.name, 'kubeadapt-ebpf-agent-dashboard');
  t.is(cm.metadata.namespace, 'monitoring');
  t.is(cm.metadata.labels!.grafana_dashboard, '1');
  t.deepEqual(cm.metadata.annotations, { grafana_folder: 'Network' });
  t.deepEqual(JSON.parse(cm.data['ebpf-agent.json']), buildDashboard());
  t.deepEqual(find(objects, 'PrometheusRule').spec, buildAlertRules());
  const ds = find(objects, 'DaemonSet');
  t.false('annotations' in ds.spec.template.metadata, 'prometheusAnnotations.pod=false leaves the pods unannotated');
  t.deepEqual(find(objects, 'Service').metadata.annotations, {
    'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics',
  });
});

test('metricsAuth kubernetes: TLS Secret mounted where the agent looks, HTTPS probes, review RBAC, monitors with TLS and a bearer token', async (t) => {
  const objects = await render({ valuesFiles: [join(CI, 'metrics-auth-values.yaml')] });
  const ds = find(objects, 'DaemonSet');
  const agent = agentOf(ds);
  t.is(envOf(agent).EBPF_METRICS_AUTH, 'kubernetes');
  const certDir = dirname((SETTINGS.metricsTlsCertFile as Setting<string>).default);
  t.is(certDir, dirname((SETTINGS.metricsTlsKeyFile as Setting<string>).default));
  t.deepEqual(agent.volumeMounts.find((m: any) => m.name === 'metrics-tls'), { name: 'metrics-tls', mountPath: certDir, readOnly: true });
  t.deepEqual(ds.spec.template.spec.volumes.find((v: any) => v.name === 'metrics-tls'), { name: 'metrics-tls', secret: { secretName: 'ebpf-agent-metrics-tls' } });
  t.is(agent.livenessProbe.httpGet.scheme, 'HTTPS');
  t.is(agent.readinessProbe.httpGet.scheme, 'HTTPS');
  t.is(ds.spec.template.metadata.annotations['prometheus.io/scheme'], 'https');
  const crb = objects.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'kubeadapt-ebpf-agent-auth-delegator')!;
  t.deepEqual(crb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' });
  t.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: 'kubeadapt-ebpf-agent', namespace: 'kubeadapt' }]);
  const reader = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'kubeadapt-ebpf-agent-metrics-reader')!;
  t.deepEqual(reader.rules, [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
  // metricsAuth.readers: the scrapers bound to it by the chart.
  const readers = objects.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'kubeadapt-ebpf-agent-metrics-reader')!;
  t.deepEqual(readers.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubeadapt-ebpf-agent-metrics-reader' });
  t.deepEqual(readers.subjects, [{ kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' }]);
  const noReaders = await render({ valuesFiles: [join(CI, 'metrics-auth-values.yaml')], set: ['metricsAuth.readers=null'] });
  t.false(noReaders.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'kubeadapt-ebpf-agent-metrics-reader'), 'no readers, no binding');
  const tlsConfig = {
    ca: { secret: { name: 'ebpf-agent-metrics-tls', key: 'ca.crt' } }, serverName: 'ebpf-agent.kubeadapt.svc', insecureSkipVerify: false,
  };
  t.deepEqual(find(objects, 'ServiceMonitor').spec.endpoints, [{
    port: 'metrics', path: '/metrics', scheme: 'https', honorLabels: false,
    bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token', tlsConfig,
  }]);
  t.deepEqual(find(objects, 'PodMonitor').spec.podMetricsEndpoints, [{
    port: 'metrics', path: '/metrics', scheme: 'https', honorLabels: false,
    authorization: { type: 'Bearer', credentials: { name: 'prometheus-metrics-reader-token', key: 'token' } }, tlsConfig,
  }]);
  const insecure = await render({ valuesFiles: [join(CI, 'metrics-auth-values.yaml')], set: ['metricsAuth.insecureSkipVerify=true', 'metricsAuth.serverName='] });
  t.deepEqual(find(insecure, 'ServiceMonitor').spec.endpoints[0].tlsConfig, { insecureSkipVerify: true });
});

test('metricsAuth none (the default) renders no TLS mount, HTTP probes, no review RBAC and plain monitors', async (t) => {
  const objects = await render({ valuesFiles: [join(CI, 'monitoring-values.yaml')] });
  const agent = agentOf(find(objects, 'DaemonSet'));
  t.false(agent.volumeMounts.some((m: any) => m.name === 'metrics-tls'));
  t.false('scheme' in agent.livenessProbe.httpGet);
  t.false(objects.some((o) => /auth-delegator|metrics-reader/.test(o.metadata.name)));
  for (const ep of [find(objects, 'ServiceMonitor').spec.endpoints[0], find(objects, 'PodMonitor').spec.podMetricsEndpoints[0]]) {
    for (const key of ['scheme', 'tlsConfig', 'bearerTokenFile', 'authorization']) t.false(key in ep, key);
  }
});

test('metricsAuth kubernetes without the TLS Secret, or a PodMonitor without a token Secret, fails naming the value', async (t) => {
  const noSecret = await helm(templateArgs({ set: ['config.metricsAuth=kubernetes'] }));
  t.not(noSecret.code, 0);
  t.true(noSecret.stderr.includes("- at '/metricsAuth/tlsSecretName': minLength: got 0, want 1"), noSecret.stderr);
  const noToken = await helm(templateArgs({ set: ['config.metricsAuth=kubernetes', 'metricsAuth.tlsSecretName=tls', 'podMonitor.enabled=true'] }));
  t.not(noToken.code, 0);
  t.true(noToken.stderr.includes('metricsAuth.podMonitorTokenSecret.name is required for the PodMonitor when config.metricsAuth is kubernetes'), noToken.stderr);
});

test('network policy: only the given peers reach the metrics port', async (t) => {
  const np = find(await render({ valuesFiles: [join(CI, 'network-policy-values.yaml')] }), 'NetworkPolicy');
  t.deepEqual(np.spec, {
    podSelector: { matchLabels: SELECTOR },
    policyTypes: ['Ingress'],
    ingress: [{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ port: 9090, protocol: 'TCP' }],
    }],
  });
});

test('full name: the release name when it contains the chart name, else <release>-ebpf-agent, at most 63 characters', async (t) => {
  const name = async (release: string) =>
    find(await render({ release }), 'DaemonSet').metadata.name;
  t.is(await name('kubeadapt-ebpf-agent'), 'kubeadapt-ebpf-agent');
  t.is(await name('net'), 'net-ebpf-agent');
  const long = 'x'.repeat(53); // helm's longest release name
  t.is(await name(long), `${long}-ebpf-agen`);
});

test('Kubernetes older than 1.24 is refused by the chart\'s kubeVersion', async (t) => {
  const err = await t.throwsAsync(render({ kubeVersion: '1.23.17' }));
  t.regex(err!.message, /chart requires kubeVersion: >=1\.24\.0-0 which is incompatible with Kubernetes v1\.23\.17/);
});
