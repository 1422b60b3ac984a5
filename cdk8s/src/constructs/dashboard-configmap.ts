// The Grafana dashboard as a ConfigMap the Grafana sidecar picks up by label.
// The JSON ships as a chart file and is read with .Files.Get: Grafana legends use
// {{label}} braces that Helm would otherwise evaluate.
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr, withValue } from '../helm/sentinels.js';
import { FULLNAME, labelsWith, NAMESPACE, V } from './refs.js';

/** Path of the dashboard JSON inside the chart. */
export const DASHBOARD_FILE = 'files/dashboards/ebpf-agent.json';

export class DashboardConfigMap extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const cm = new k8s.KubeConfigMap(this, 'configmap', {
      metadata: {
        name: expr(`printf "%s-dashboard" (${FULLNAME}) | trunc 63 | trimSuffix "-"`),
        namespace: expr(`default ${NAMESPACE} ${V.grafanaDashboard.namespace.$ref}`),
      },
      data: { 'ebpf-agent.json': expr(`.Files.Get "${DASHBOARD_FILE}" | toJson`) },
    });
    chart.set(cm, {
      'metadata.labels': block(labelsWith(V.grafanaDashboard.labels.$ref)),
      'metadata.annotations': withValue(V.grafanaDashboard.annotations.$ref),
    });
  }
}
