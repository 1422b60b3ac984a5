// Prometheus Operator ServiceMonitor and PodMonitor. There are no typed imports
// for these CRDs offline, so they are plain ApiObjects; the tests validate the
// rendered objects against the CRD schemas.
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, bool, expr, withValue } from '../helm/sentinels.js';
import { FULLNAME, include, KUBERNETES_AUTH, labelsWith, NAMESPACE, V } from './refs.js';

/** Prometheus's own ServiceAccount token, which ServiceMonitors may send (bind it to <fullname>-metrics-reader). */
export const PROMETHEUS_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

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
    const auth = V.metricsAuth;
    // config.metricsAuth kubernetes: HTTPS, a bearer token of an identity bound to
    // <fullname>-metrics-reader, and the agent's certificate checked (keyIfs below).
    const token = props.kind === 'ServiceMonitor'
      ? { bearerTokenFile: PROMETHEUS_TOKEN_FILE }
      : {
        authorization: {
          type: 'Bearer',
          credentials: {
            name: expr(`required "metricsAuth.podMonitorTokenSecret.name is required for the PodMonitor when config.metricsAuth is kubernetes" ${auth.podMonitorTokenSecret.name.$ref} | quote`),
            key: expr(`${auth.podMonitorTokenSecret.key.$ref} | quote`),
          },
        },
      };
    const endpoint = {
      port: props.portName ?? 'metrics',
      path: '/metrics',
      scheme: 'https',
      ...token,
      tlsConfig: {
        ca: { secret: { name: expr(`${auth.tlsSecretName.$ref} | quote`), key: expr(`${auth.caKey.$ref} | quote`) } },
        serverName: expr(`${auth.serverName.$ref} | quote`),
        insecureSkipVerify: bool(auth.insecureSkipVerify.$ref),
      },
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
    const ep = ['spec', endpointsKey, 0];
    // Inner conditions first: the outer one wraps the key they point into.
    chart.keyIf(monitor, [...ep, 'tlsConfig', 'ca'], `and ${auth.caKey.$ref} (not ${auth.insecureSkipVerify.$ref})`);
    chart.keyIf(monitor, [...ep, 'tlsConfig', 'serverName'], auth.serverName.$ref);
    for (const key of ['scheme', Object.keys(token)[0]!, 'tlsConfig']) chart.keyIf(monitor, [...ep, key], KUBERNETES_AUTH);
    chart.keyIf(monitor, ['spec', endpointsKey, 0, 'interval'], v.interval.$ref);
    chart.keyIf(monitor, ['spec', endpointsKey, 0, 'scrapeTimeout'], v.scrapeTimeout.$ref);
  }
}
