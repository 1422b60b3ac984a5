// The preflight results in the agent's own log, once at start-up, so a node
// that runs without the init container still says what it lacks.
import type { Config } from '../config/settings.js';
import type { Logger } from '../log.js';
import { runChecks } from './checks.js';

export async function logPreflight(config: Config, log: Logger): Promise<void> {
  try {
    // The agent loads and attaches right after this: a rehearsal would only double the verifier's work.
    const results = await runChecks(config, { loadAttach: false });
    for (const r of results) {
      const fields = { check: r.name, status: r.status, detail: r.detail, ...(r.lines ? { lines: r.lines } : {}), ...(r.fix ? { fix: r.fix } : {}) };
      if (r.status === 'fail') log.error('preflight', fields);
      else if (r.status === 'warn') log.warn('preflight', fields);
      else log.info('preflight', fields);
    }
  } catch (err) {
    log.warn('preflight checks could not run', { err });
  }
}
