// The agent's own ServiceAccount; its token is mounted because the agent reads
// its DaemonSet (see role.ts).
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr, withValue } from '../helm/sentinels.js';
import { include, NAMESPACE, V } from './refs.js';

export class AgentServiceAccount extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const sa = new k8s.KubeServiceAccount(this, 'serviceaccount', {
      metadata: { name: expr(include('serviceAccountName')), namespace: expr(NAMESPACE) },
      automountServiceAccountToken: true,
    });
    chart.set(sa, {
      'metadata.labels': block(include('labels')),
      'metadata.annotations': withValue(V.serviceAccount.annotations.$ref),
    });
  }
}
