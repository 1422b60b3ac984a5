// Runs commands for the e2e harness: every failure says what ran and what it printed.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function run(cmd: string, args: readonly string[], opts: { input?: string; allowFail?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    // A command that exits without reading its stdin is not a failure of ours.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      const r = { stdout, stderr, code: code ?? -1 };
      if (r.code !== 0 && !opts.allowFail) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${stderr.trim() || stdout.trim()}`));
      } else resolve(r);
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Runs a command and parses its stdout as JSON. A failure names the command, its
 * exit code, its stderr and what it printed: a bare "Unexpected end of JSON
 * input" once hid that a different `nft` had run.
 */
export async function runJson<T>(cmd: string, args: readonly string[], opts: Parameters<typeof run>[2] = {}): Promise<T> {
  const r = await run(cmd, args, opts);
  return parseJson(r.stdout, `${cmd} ${args.join(' ')} (exit ${r.code}, stderr ${JSON.stringify(r.stderr.trim())})`) as T;
}

/** JSON.parse that says what printed the text and shows its start when it is not JSON. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const head = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    throw new Error(`${source} printed no JSON (${(err as Error).message}): stdout ${JSON.stringify(head)}`);
  }
}

/** `ip netns exec <ns> cmd ...` */
export function inNetns(netns: string, cmd: string, args: readonly string[], opts: Parameters<typeof run>[2] = {}) {
  return run('ip', ['netns', 'exec', netns, cmd, ...args], opts);
}

/** runJson inside a network namespace. */
export function inNetnsJson<T>(netns: string, cmd: string, args: readonly string[], opts: Parameters<typeof run>[2] = {}): Promise<T> {
  return runJson<T>('ip', ['netns', 'exec', netns, cmd, ...args], opts);
}

/** Starts a long-running process; resolves once its output matches readyLine (at once when null). */
export function startProcess(cmd: string, args: readonly string[], readyLine: RegExp | null, env?: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    // setpriv --pdeathsig: if the test worker dies (a timeout, a crash) before
    // its teardown runs, the kernel ends the process with it (util-linux).
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} not ready after ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      if (readyLine?.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')} exited ${code} before ready: ${out}`));
    });
    if (!readyLine) {
      clearTimeout(timer);
      resolve({ child, output: () => out });
    }
  });
}

/** Ends a process we started: SIGTERM, then SIGKILL after a grace period. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
