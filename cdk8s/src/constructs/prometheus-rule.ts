// The agent's alerts as a Prometheus Operator PrometheusRule. The groups ship as
// a chart file read with .Files.Get: their annotations hold Prometheus templates
// ({{ $labels.instance }}) that Helm must not evaluate.
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr } from '../helm/sentinels.js';
import { FULLNAME, labelsWith, NAMESPACE, V } from './refs.js';

/** Path of the rule groups (a Prometheus rules file) inside the chart. */
export const RULES_FILE = 'files/alert-rules.yaml';

export class AgentPrometheusRule extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const rule = new ApiObject(this, 'rule', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: expr(FULLNAME),
        namespace: expr(`default ${NAMESPACE} ${V.prometheusRule.namespace.$ref}`),
      },
      spec: block(`.Files.Get "${RULES_FILE}"`),
    });
    chart.set(rule, { 'metadata.labels': block(labelsWith(V.prometheusRule.labels.$ref)) });
  }
}
