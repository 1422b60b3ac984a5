// Reads one value out of the agent's /metrics samples.
import type { Sample } from '../helpers/agent-process.js';

/** The value of the one sample with this name and these labels (extra labels must match too); undefined when absent. */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${name}${JSON.stringify(labels)} matches ${hits.length} samples`);
  return hits[0]?.value;
}

/** Like valueOf, but a missing sample is an error that names it. */
export function mustValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const v = valueOf(samples, name, labels);
  if (v === undefined) throw new Error(`no sample ${name}${JSON.stringify(labels)} in /metrics`);
  return v;
}
