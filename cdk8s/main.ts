// The chart, as a cdk8s app: one HelmChart (one template file) per resource,
// each with the condition under which Helm renders it. `npm run synth` runs
// this through `cdk8s synth` (see cdk8s.yaml) into dist/charts/ebpf-agent/.
import { App, YamlOutputType } from 'cdk8s';
import { AgentDaemonSet } from './src/constructs/daemonset.js';
import { DashboardConfigMap } from './src/constructs/dashboard-configmap.js';
import { AgentMonitor } from './src/constructs/monitors.js';
import { AgentNetworkPolicy } from './src/constructs/network-policy.js';
import { AgentPrometheusRule } from './src/constructs/prometheus-rule.js';
import { AgentAuthDelegatorBinding, MetricsReaderBinding, MetricsReaderClusterRole } from './src/constructs/metrics-auth-rbac.js';
import { config, KUBERNETES_AUTH, V } from './src/constructs/refs.js';
import { AgentRoleBinding } from './src/constructs/role-binding.js';
import { AgentRole } from './src/constructs/role.js';
import { AgentService } from './src/constructs/service.js';
import { AgentClusterRole, AgentClusterRoleBinding } from './src/constructs/cluster-role.js';
import { DestinationsConfigMap } from './src/constructs/destinations-configmap.js';
import { AgentServiceAccount } from './src/constructs/service-account.js';
import { HelmChart } from './src/helm/chart.js';
import { postSynth } from './src/postsynth.js';

const app = new App({ outputFileExtension: '.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
const on = (...conditions: string[]): string => `and ${V.enabled.$ref} ${conditions.join(' ')}`;

new AgentServiceAccount(new HelmChart(app, { templateName: 'serviceaccount', condition: on(V.serviceAccount.create.$ref) }), 'agent');
new AgentRole(new HelmChart(app, { templateName: 'role', condition: on(V.rbac.create.$ref) }), 'agent');
new AgentRoleBinding(new HelmChart(app, { templateName: 'rolebinding', condition: on(V.rbac.create.$ref) }), 'agent');
const costRbac = on(V.rbac.create.$ref, config('kubernetes').$ref);
new AgentClusterRole(new HelmChart(app, { templateName: 'clusterrole', condition: costRbac }), 'agent');
new AgentClusterRoleBinding(new HelmChart(app, { templateName: 'clusterrolebinding', condition: costRbac }), 'agent');
const metricsAuthRbac = on(V.rbac.create.$ref, KUBERNETES_AUTH);
new AgentAuthDelegatorBinding(new HelmChart(app, { templateName: 'auth-delegator-clusterrolebinding', condition: metricsAuthRbac }), 'agent');
new MetricsReaderClusterRole(new HelmChart(app, { templateName: 'metrics-reader-clusterrole', condition: metricsAuthRbac }), 'agent');
new MetricsReaderBinding(new HelmChart(app, { templateName: 'metrics-reader-clusterrolebinding', condition: on(V.rbac.create.$ref, KUBERNETES_AUTH, V.metricsAuth.readers.$ref) }), 'agent');
new DestinationsConfigMap(new HelmChart(app, { templateName: 'cost-destinations-configmap', condition: on(V.costDestinations.$ref) }), 'agent');
new AgentDaemonSet(new HelmChart(app, { templateName: 'daemonset', condition: V.enabled.$ref }), 'agent');
new AgentService(new HelmChart(app, { templateName: 'service', condition: on(V.service.enabled.$ref) }), 'agent');
new AgentMonitor(new HelmChart(app, {
  templateName: 'servicemonitor', condition: on(V.serviceMonitor.enabled.$ref, V.service.enabled.$ref),
}), 'agent', { kind: 'ServiceMonitor', values: V.serviceMonitor });
new AgentMonitor(new HelmChart(app, { templateName: 'podmonitor', condition: on(V.podMonitor.enabled.$ref) }), 'agent',
  { kind: 'PodMonitor', values: V.podMonitor });
new AgentNetworkPolicy(new HelmChart(app, { templateName: 'networkpolicy', condition: on(V.networkPolicy.enabled.$ref) }), 'agent');
new DashboardConfigMap(new HelmChart(app, { templateName: 'dashboard-configmap', condition: on(V.grafanaDashboard.enabled.$ref) }), 'agent');
new AgentPrometheusRule(new HelmChart(app, { templateName: 'prometheusrule', condition: on(V.prometheusRule.enabled.$ref) }), 'agent');

app.synth();
postSynth(app.outdir);
