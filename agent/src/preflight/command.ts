// `check`: runs the preflight checks, prints one line each (or JSON) and
// exits 0 when nothing failed, 1 when a check failed, 2 on bad usage.
import { existsSync, writeFileSync } from 'node:fs';
import type { Config } from '../config/settings.js';
import type { Logger } from '../log.js';
import { runChecks, type CheckResult } from './checks.js';

export async function runCheck(config: Config, flags: string[], _log: Logger): Promise<number> {
  const i = flags.indexOf('--output');
  const output = i >= 0 ? flags[i + 1] : 'text';
  if (i >= 0 && output === undefined) {
    process.stderr.write('ebpf-agent: --output needs a value: text or json\n');
    return 2;
  }
  if (output !== 'text' && output !== 'json') {
    process.stderr.write(`ebpf-agent: invalid --output=${JSON.stringify(output)}: expected text or json\n`);
    return 2;
  }
  const results = await runChecks(config);
  const failed = results.some((r) => r.status === 'fail');
  if (output === 'json') {
    process.stdout.write(JSON.stringify({ ok: !failed, checks: results }, null, 2) + '\n');
  } else {
    for (const r of results) process.stdout.write(formatLine(r) + '\n');
    process.stdout.write(failed ? 'preflight: FAILED\n' : 'preflight: ok\n');
  }
  if (failed) writeTerminationMessage(results);
  return failed ? 1 : 0;
}

/** Where the kubelet reads a container's termination message (its default terminationMessagePath). */
export const TERMINATION_LOG = '/dev/termination-log';
/** The kubelet keeps at most this much of it. */
const TERMINATION_LOG_MAX = 4096;

/**
 * In a pod, the failures go to the termination message too, so `kubectl
 * describe pod` shows why the init container failed without a logs call.
 * Outside a container the file does not exist and nothing is written.
 */
function writeTerminationMessage(results: CheckResult[], path = TERMINATION_LOG): void {
  if (!existsSync(path)) return;
  const text = results.filter((r) => r.status === 'fail').map(formatLine).join('\n') + '\n';
  try {
    writeFileSync(path, Buffer.from(text).subarray(0, TERMINATION_LOG_MAX));
  } catch {
    // A read-only or odd mount must not hide the check's own result.
  }
}

export function formatLine(r: CheckResult): string {
  const head = [`${r.status.toUpperCase().padEnd(4)} ${r.name}: ${r.detail}`, ...(r.lines ?? []).map((l) => `     ${l}`)].join('\n');
  return r.fix ? `${head}\n     fix: ${r.fix}` : head;
}
