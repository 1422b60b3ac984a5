// Short names for the template references the constructs share.
import { CHART_NAME } from '../chart-info.js';
import { VALUES } from '../values/values.js';
import type { Leaf } from '../values/dsl.js';

export const V = VALUES;
export const include = (helper: string): string => `include "${CHART_NAME}.${helper}" .`;
export const FULLNAME = include('fullname');
export const NAMESPACE = '.Release.Namespace';

/** The leaf under config.* (a missing key is a bug in the chart, so it throws). */
export function config(key: string): Leaf {
  const leaf = V.config.$children[key];
  if (!leaf || !('$default' in leaf)) throw new Error(`no chart value config.${key}`);
  return leaf as Leaf;
}

/** Common labels plus a values map of extra labels. */
export const labelsWith = (extraRef: string): string => `include "${CHART_NAME}.labelsWith" (list . ${extraRef})`;

/** Template condition: config.metricsAuth is kubernetes (HTTPS + token reviews). */
export const KUBERNETES_AUTH = `(eq ${V.config.$ref}.metricsAuth "kubernetes")`;
