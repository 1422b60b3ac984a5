// A Logger for benchmarks: drops everything but keeps errors, so a run that
// the collector survived by logging still fails the benchmark.
import type { Logger } from '../agent/src/log.js';

export function quietLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const keep = (msg: string, fields?: Record<string, unknown>) => {
    const err = fields?.err;
    errors.push(`${msg}${err instanceof Error ? `: ${err.message}` : ''}`);
  };
  return { errors, debug: () => {}, info: () => {}, warn: keep, error: keep, enabled: () => false };
}
