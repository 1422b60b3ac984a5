// The one permission the agent has: get its own DaemonSet. On SIGTERM the agent
// keeps pinned programs and maps when the DaemonSet still exists (rolling update,
// nothing lost) and removes them when it is gone (uninstall).
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr } from '../helm/sentinels.js';
import { FULLNAME, include, NAMESPACE } from './refs.js';

export class AgentRole extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const obj = new k8s.KubeRole(this, 'role', {
      metadata: { name: expr(FULLNAME), namespace: expr(NAMESPACE) },
      rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [expr(FULLNAME)], verbs: ['get'] }],
    });
    chart.set(obj, { 'metadata.labels': block(include('labels')) });
  }
}
