// The cost destinations file (costDestinations, Kubecost's shape) as JSON in a
// ConfigMap; the DaemonSet mounts it where EBPF_DESTINATIONS_FILE's default points.
import { basename, dirname } from 'node:path';
import { k8s } from 'cdk8s-plus-28';
import { SETTINGS } from '../../../agent/src/config/settings.js';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { block, expr } from '../helm/sentinels.js';
import { FULLNAME, include, NAMESPACE, V } from './refs.js';

/** Where the agent looks by default (EBPF_DESTINATIONS_FILE), so the chart sets no variable for it. */
export const DESTINATIONS_DIR = dirname(SETTINGS.destinationsFile.default);
export const DESTINATIONS_KEY = basename(SETTINGS.destinationsFile.default);
export const DESTINATIONS_NAME = `printf "%s-cost-destinations" (${FULLNAME}) | trunc 63 | trimSuffix "-"`;

export class DestinationsConfigMap extends Construct {
  public constructor(chart: HelmChart, id: string) {
    super(chart, id);
    const cm = new k8s.KubeConfigMap(this, 'configmap', {
      metadata: { name: expr(DESTINATIONS_NAME), namespace: expr(NAMESPACE) },
      data: { [DESTINATIONS_KEY]: expr(`toJson ${V.costDestinations.$ref} | quote`) },
    });
    chart.set(cm, { 'metadata.labels': block(include('labels')) });
  }
}
