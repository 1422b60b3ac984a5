// Limits who may reach the metrics port. Ingress only: the agent's own egress
// (the API server, for its DaemonSet) stays open.
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr, num } from '../helm/sentinels.js';
import { config, FULLNAME, include, NAMESPACE, V } from './refs.js';

export class AgentNetworkPolicy extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const obj = new k8s.KubeNetworkPolicy(this, 'networkpolicy', {
      metadata: { name: expr(FULLNAME), namespace: expr(NAMESPACE) },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        // An empty `from` list admits every source, which is the default.
        ingress: [{
          ports: [{ port: k8s.IntOrString.fromNumber(num(config('metricsPort').$ref)), protocol: 'TCP' }],
        }],
      },
    });
    chart.set(obj, {
      'metadata.labels': block(include('labels')),
      'spec.podSelector.matchLabels': block(include('selectorLabels')),
      'spec.ingress.0.from': block(`toYaml ${V.networkPolicy.from.$ref}`),
    });
  }
}
