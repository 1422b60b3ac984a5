// The chart with the cost attribution on (ci/cost-values.yaml): exactly
// get/list/watch on pods, nodes and services, bound to the agent's account;
// the destinations file mounted where the agent looks by default and readable
// by the agent's own parser; objects valid for Kubernetes 1.34.
import test from 'ava';
import { join } from 'node:path';
import { SETTINGS } from '../../agent/src/config/settings.js';
import { Destinations } from '../../agent/src/cost/destinations.js';
import { CHART_DIR, find, render } from './lib/helm.js';
import { k8sValidator } from './lib/k8s-schema.js';

const VALUES = join(CHART_DIR, 'ci', 'cost-values.yaml');

test('cost on: a ClusterRole with get, list and watch on pods, nodes and services only, bound to the agent', async (t) => {
  const objects = await render({ valuesFiles: [VALUES] });
  t.deepEqual(find(objects, 'ClusterRole').rules, [{ apiGroups: [''], resources: ['pods', 'nodes', 'services'], verbs: ['get', 'list', 'watch'] }]);
  const b = find(objects, 'ClusterRoleBinding');
  t.deepEqual(b.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubeadapt-ebpf-agent' });
  t.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: 'kubeadapt-ebpf-agent', namespace: 'kubeadapt' }]);
  const defaults = await render();
  t.false(defaults.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'), 'off by default: no cluster-wide rights');
  t.false(defaults.some((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-cost-destinations')));
});

test('cost on: the destinations file is mounted at EBPF_DESTINATIONS_FILE\'s default and parses', async (t) => {
  const objects = await render({ valuesFiles: [VALUES] });
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kubeadapt-ebpf-agent-cost-destinations')!;
  t.truthy(cm);
  const file = SETTINGS.destinationsFile.default;
  const key = file.split('/').pop()!;
  const d = Destinations.parse(cm.data[key], 'rendered ConfigMap');
  t.deepEqual(d.groups, ['s3-eu-west-1']);
  t.deepEqual(d.classify([52, 218, 1, 1]), { class: 'cross_zone', group: 's3-eu-west-1' });
  const ds = find(objects, 'DaemonSet');
  const agent = ds.spec.template.spec.containers[0];
  const mount = agent.volumeMounts.find((m: { name: string }) => m.name === 'cost-destinations');
  t.is(`${mount.mountPath}/${key}`, file);
  const volume = ds.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'cost-destinations');
  t.is(volume.configMap.name, cm.metadata.name);
  const env = Object.fromEntries(agent.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
  t.like(env, { EBPF_KUBERNETES: 'true', EBPF_PAIR_METRICS: 'false', EBPF_PAIR_DESTINATION_GROUPS: 'true', EBPF_WORKLOAD_TTL: '15m', EBPF_NODE_NAME: { fieldRef: { fieldPath: 'spec.nodeName' } } });
  const validator = k8sValidator('1.34.4');
  for (const o of objects.filter((x) => !x.apiVersion.startsWith('monitoring.'))) t.deepEqual(validator.validate(o), [], `${o.kind} ${o.metadata.name}`);
});
