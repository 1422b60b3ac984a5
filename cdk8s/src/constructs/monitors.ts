// Prometheus Operator ServiceMonitor and PodMonitor. There are no typed imports
// for these CRDs offline, so they are plain ApiObjects; the tests validate the
// rendered objects against the CRD schemas.
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, bool, expr, withValue } from '../helm/sentinels.js';
import { FULLNAME, include, labelsWith, NAMESPACE, V } from './refs.js';

type MonitorValues = typeof V.serviceMonitor | typeof V.podMonitor;

export interface MonitorProps {
  /** Which values configure it. */
  readonly values: MonitorValues;
  /** ServiceMonitor or PodMonitor. */
  readonly kind: 'ServiceMonitor' | 'PodMonitor';
  /**
   * Port name scraped (the Service port or the container port).
   * @default "metrics"
   */
  readonly portName?: string;
}

export class AgentMonitor extends Construct {
  public constructor(chart: HelmChart, id: string, props: MonitorProps) {
    super(chart, id);
    const v = props.values;
    const endpoint = {
      port: props.portName ?? 'metrics',
      path: '/metrics',
      interval: expr(v.interval.$ref),
      scrapeTimeout: expr(v.scrapeTimeout.$ref),
      honorLabels: bool(v.honorLabels.$ref),
      relabelings: withValue(v.relabelings.$ref),
      metricRelabelings: withValue(v.metricRelabelings.$ref),
    };
    const endpointsKey = props.kind === 'ServiceMonitor' ? 'endpoints' : 'podMetricsEndpoints';
    const monitor = new ApiObject(this, 'monitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: props.kind,
      metadata: {
        name: expr(FULLNAME),
        namespace: expr(`default ${NAMESPACE} ${v.namespace.$ref}`),
      },
      spec: {
        selector: { matchLabels: block(include('selectorLabels')) },
        namespaceSelector: { matchNames: [expr(NAMESPACE)] },
        [endpointsKey]: [endpoint],
      },
    });
    chart.set(monitor, { 'metadata.labels': block(labelsWith(v.labels.$ref)) });
    chart.keyIf(monitor, ['spec', endpointsKey, 0, 'interval'], v.interval.$ref);
    chart.keyIf(monitor, ['spec', endpointsKey, 0, 'scrapeTimeout'], v.scrapeTimeout.$ref);
  }
}
