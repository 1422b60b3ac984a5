// Prometheus Operator objects, validated offline with the CRD schemas packaged in
// @kubernetes-models/prometheus-operator (types, patterns, required fields; those
// models do not reject unknown fields).
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { K8sObject } from './helm.js';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  ServiceMonitor, PodMonitor, PrometheusRule,
};

export const isCrdObject = (o: K8sObject): boolean => o.apiVersion === 'monitoring.coreos.com/v1';

/** Error messages; empty when valid. */
export function validateCrdObject(o: K8sObject): string[] {
  const Model = MODELS[o.kind];
  if (!Model) return [`no CRD schema for ${o.apiVersion} ${o.kind}`];
  try {
    new Model(o).validate();
    return [];
  } catch (e) {
    return [`${o.kind}/${o.metadata.name}: ${(e as Error).message}`];
  }
}
