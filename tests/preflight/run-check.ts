// Runs the real `node agent/dist/main.js check` the way an operator or the
// init container would, optionally with capabilities dropped (capsh) or in a
// private mount namespace, and reads its lines back.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = join(REPO, 'agent/dist/main.js');
export const CAPSH = '/usr/sbin/capsh';

/** Every check, in the order the command prints them. */
export const CHECK_NAMES = [
  'kernel', 'btf', 'bpffs', 'cap_bpf', 'cap_perfmon', 'cap_net_admin', 'memlock', 'attach_mode', 'load_attach', 'interfaces', 'coexistence',
] as const;

export interface CheckLine {
  status: 'pass' | 'warn' | 'fail';
  name: string;
  detail: string;
  fix?: string;
  /** Indented lines under the check's line (interfaces: one per interface). */
  lines?: string[];
}

export interface CheckRun {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: CheckLine[];
  /** The check named `name`; throws with the whole output when it is missing. */
  line(name: string): CheckLine;
}

export interface RunOptions {
  /** Capabilities capsh drops from the bounding set before running the check (e.g. cap_bpf). */
  readonly drop?: readonly string[];
  /** A shell prefix run first in a private mount namespace (unshare -m), e.g. an umount. */
  readonly inMountNamespace?: string;
  /** Run inside this network namespace (ip netns exec, which also gives a private mount namespace). */
  readonly netns?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  /** A shell command run after the check in the same namespaces; the check's exit status is kept. */
  readonly after?: string;
}

/** Parses the text output: `STATUS name: detail`, optional indented lines, an optional indented `fix:` line. */
export function parseText(stdout: string): CheckLine[] {
  const out: CheckLine[] = [];
  for (const l of stdout.split('\n')) {
    const head = /^(PASS|WARN|FAIL) ([a-z_]+): (.*)$/.exec(l);
    if (head) {
      out.push({ status: head[1]!.toLowerCase() as CheckLine['status'], name: head[2]!, detail: head[3]! });
      continue;
    }
    const fix = /^ {5}fix: (.*)$/.exec(l);
    const last = out[out.length - 1];
    if (fix && last) last.fix = fix[1]!;
    else if (l.startsWith('     ') && last) (last.lines ??= []).push(l.slice(5));
  }
  return out;
}

const shq = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

export function runCheck(opts: RunOptions = {}): CheckRun {
  for (const f of [MAIN, join(REPO, 'bpf/build/flows.bpf.o')]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build (scripts/setup.sh does it)`);
  }
  let cmd = ['node', MAIN, 'check', ...(opts.args ?? [])].map(shq).join(' ');
  if (opts.drop?.length) {
    if (!existsSync(CAPSH)) throw new Error(`${CAPSH} is missing: install Debian's libcap2-bin (scripts/setup.sh does)`);
    cmd = `${CAPSH} --drop=${opts.drop.join(',')} -- -c ${shq(`exec ${cmd}`)}`;
  }
  if (opts.after) cmd = `${cmd}; rc=$?; ${opts.after}; exit $rc`;
  if (opts.inMountNamespace) cmd = `${opts.inMountNamespace} && { ${cmd}; }`;
  const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, 'sh', '-c', cmd]
    : opts.inMountNamespace ? ['unshare', '-m', '--propagation', 'private', 'sh', '-c', cmd]
    : ['sh', '-c', cmd];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: REPO, encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, EBPF_LOG_FORMAT: 'console', ...opts.env },
  });
  if (r.error) throw r.error;
  const lines = parseText(r.stdout);
  return {
    code: r.status, stdout: r.stdout, stderr: r.stderr, lines,
    line(name) {
      const found = lines.find((l) => l.name === name);
      if (!found) throw new Error(`no "${name}" line in the check's output:\n${r.stdout}\n${r.stderr}`);
      return found;
    },
  };
}

/** The capabilities this process may hand on, as capsh names them. */
export function boundingSet(): string[] {
  const r = spawnSync(CAPSH, ['--print'], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('Bounding set ='));
  return (line ?? '').slice('Bounding set ='.length).split(',').filter(Boolean);
}
