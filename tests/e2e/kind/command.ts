// Runs the external tools the kind and real-cluster suites drive (docker, kind, helm,
// kubectl, scripts, nft) with a timeout and an error that carries what was run and what it printed.
import { spawn, spawnSync } from 'node:child_process';

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** @default timeoutMs 120000 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // stdin only when there is input: a quick command that exits before reading must not be an EPIPE.
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (err) => { clearTimeout(timer); reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}`)); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}\n${stdout}\n${stderr}`.trimEnd()));
    });
    if (child.stdin) {
      child.stdin.on('error', () => { /* the child exited without reading: its exit status says what happened */ });
      child.stdin.end(opts.input);
    }
  });
}

/** True when `cmd args` can be started and exits 0 within the timeout. */
export function works(cmd: string, args: readonly string[], timeoutMs = 20_000): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: timeoutMs });
  return r.error === undefined && r.status === 0;
}

/** Polls fn until it returns a value other than undefined; the error names what was awaited. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
