// What config.metricsAuth=kubernetes needs from RBAC: the agent may create
// TokenReviews and SubjectAccessReviews (the built-in system:auth-delegator
// ClusterRole, as kube-rbac-proxy uses), and a reader ClusterRole (get on the
// non-resource URL /metrics) bound to the scrapers listed in
// metricsAuth.readers, or by the user to whoever else scrapes.
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr } from '../helm/sentinels.js';
import { FULLNAME, include, NAMESPACE, V } from './refs.js';

export class AgentAuthDelegatorBinding extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const obj = new k8s.KubeClusterRoleBinding(this, 'binding', {
      metadata: { name: expr(`printf "%s-auth-delegator" (${FULLNAME})`) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: expr(include('serviceAccountName')), namespace: expr(NAMESPACE) }],
    });
    chart.set(obj, { 'metadata.labels': block(include('labels')) });
  }
}

export class MetricsReaderClusterRole extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const obj = new k8s.KubeClusterRole(this, 'role', {
      metadata: { name: expr(`printf "%s-metrics-reader" (${FULLNAME})`) },
      rules: [{ nonResourceUrLs: ['/metrics'], verbs: ['get'] }],
    });
    chart.set(obj, { 'metadata.labels': block(include('labels')) });
  }
}

export class MetricsReaderBinding extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const obj = new k8s.KubeClusterRoleBinding(this, 'binding', {
      metadata: { name: expr(`printf "%s-metrics-reader" (${FULLNAME})`) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: expr(`printf "%s-metrics-reader" (${FULLNAME})`) },
    });
    chart.set(obj, { 'metadata.labels': block(include('labels')), subjects: block(`toYaml ${V.metricsAuth.readers.$ref}`) });
  }
}
