// What the cost attribution reads (EBPF_KUBERNETES=on): Pods (address ->
// workload), Nodes (zone, region, addresses, pod CIDRs) and Services (cluster
// IPs), cluster-wide, because a destination can be any pod. Read-only and
// nothing more: no Secrets, no ReplicaSets (owners are resolved from the pod's
// own owner reference and labels, see agent/src/kubernetes/owners.ts).
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr } from '../helm/sentinels.js';
import { FULLNAME, include, NAMESPACE } from './refs.js';

/** The rules, exported so the e2e tests grant the agent exactly these on a real API server. */
export const COST_RULES = [{ apiGroups: [''], resources: ['pods', 'nodes', 'services'], verbs: ['get', 'list', 'watch'] }] as const;

const rules = (): k8s.PolicyRule[] => COST_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] }));

export class AgentClusterRole extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const obj = new k8s.KubeClusterRole(this, 'clusterrole', { metadata: { name: expr(FULLNAME) }, rules: rules() });
    chart.set(obj, { 'metadata.labels': block(include('labels')) });
  }
}

export class AgentClusterRoleBinding extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const obj = new k8s.KubeClusterRoleBinding(this, 'clusterrolebinding', {
      metadata: { name: expr(FULLNAME) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: expr(FULLNAME) },
      subjects: [{ kind: 'ServiceAccount', name: expr(include('serviceAccountName')), namespace: expr(NAMESPACE) }],
    });
    chart.set(obj, { 'metadata.labels': block(include('labels')) });
  }
}
