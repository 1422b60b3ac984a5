// Mirror of enum agent_stat in bpf/flows.h (a unit test checks the order).
export const AGENT_STATS = [
  'ignored_non_ip',
  'ignored_other_l4',
  'ignored_truncated',
  'ignored_ext_limit',
  'overflow_records',
  'ringbuf_full_packets',
  'ringbuf_full_bytes',
  'map_update_failed',
  'skipped_forwarded',
  'skipped_host',
  'skipped_encap',
] as const;

export type AgentStat = (typeof AGENT_STATS)[number];

export function namedStats(values: number[]): Record<AgentStat, number> {
  const out = {} as Record<AgentStat, number>;
  AGENT_STATS.forEach((name, i) => (out[name] = values[i] ?? 0));
  return out;
}
