// The one permission the agent has: read its own DaemonSet. On SIGTERM the agent
// keeps pinned programs and maps when the DaemonSet still exists (rolling update,
// nothing lost) and removes them when it is gone (uninstall). list and watch (of
// that one name, by field selector) let it learn of the deletion while its token
// still works: helm deletes the ServiceAccount in the same uninstall (issue 17).
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
      rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [expr(FULLNAME)], verbs: ['get', 'list', 'watch'] }],
    });
    chart.set(obj, { 'metadata.labels': block(include('labels')) });
  }
}
