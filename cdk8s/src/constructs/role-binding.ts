// Binds the Role of role.ts to the agent's ServiceAccount.
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr } from '../helm/sentinels.js';
import { FULLNAME, include, NAMESPACE } from './refs.js';

export class AgentRoleBinding extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const obj = new k8s.KubeRoleBinding(this, 'rolebinding', {
      metadata: { name: expr(FULLNAME), namespace: expr(NAMESPACE) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: expr(FULLNAME) },
      subjects: [{ kind: 'ServiceAccount', name: expr(include('serviceAccountName')), namespace: expr(NAMESPACE) }],
    });
    chart.set(obj, { 'metadata.labels': block(include('labels')) });
  }
}
