// Headless Service over the agent pods: named like the release (kubeadapt-ebpf-agent)
// so existing scrape configs and ServiceMonitors find every node's endpoint.
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr, num, withValue } from '../helm/sentinels.js';
import { config, FULLNAME, include, labelsWith, NAMESPACE, V } from './refs.js';

export interface AgentServiceProps {
  /**
   * Name of the Service port (ServiceMonitors select it by name).
   * @default "metrics"
   */
  readonly portName?: string;
}

export class AgentService extends Construct {
  public constructor(chart: HelmChart, id: string, props: AgentServiceProps = {}) {
    super(chart, id);
    const portName = props.portName ?? 'metrics';
    const service = new k8s.KubeService(this, 'service', {
      metadata: { name: expr(FULLNAME), namespace: expr(NAMESPACE) },
      spec: {
        type: expr(V.service.type.$ref),
        clusterIp: expr(`${V.service.clusterIP.$ref} | quote`),
        ports: [{
          name: portName, port: num(config('metricsPort').$ref),
          targetPort: k8s.IntOrString.fromString(portName), protocol: 'TCP',
        }],
      },
    });
    chart.set(service, {
      'metadata.labels': block(labelsWith(V.service.labels.$ref)),
      'metadata.annotations': withValue(include('serviceAnnotations'), '.'),
      'spec.selector': block(include('selectorLabels')),
    });
    chart.keyIf(service, ['spec', 'clusterIP'], `and (eq ${V.service.type.$ref} "ClusterIP") ${V.service.clusterIP.$ref}`);
  }
}
