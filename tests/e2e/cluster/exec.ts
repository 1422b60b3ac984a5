// Runs the tools the suite drives (scripts, kubectl, helm, nft, bpftool) with a
// timeout; a failure carries the command, its exit code and what it printed.
// stdin is closed at once unless there is input: a quick command that exits
// before reading must not turn into an EPIPE.
import { spawn } from 'node:child_process';

export interface RunResult { readonly stdout: string; readonly stderr: string }

// The worker's PATH is already the system's first (tests/setup/system-path.ts drops
// node_modules/.bin, whose `nft` is @vercel/nft's) and keeps setup's Node 24 ahead:
// the image build's base is the Node on PATH.
const SYSTEM_FIRST = process.env;

/** @default timeoutMs 120000 */
export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? SYSTEM_FIRST, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
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
