// Every setting given garbage, through the real entry point inside a network
// namespace of its own: exit 2, one line naming the setting, the value and what
// is accepted, and nothing left on the node (no pin directory, no qdisc, no
// program attached). The table is built from SETTINGS, so a new setting is
// covered the day it is added.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadConfig, quote } from '../../agent/src/config/load.js';
import { SETTINGS, type Setting, type SettingKey } from '../../agent/src/config/settings.js';
import { AGENT_MAIN } from '../e2e/helpers/agent-process.js';
import { run } from '../e2e/helpers/exec.js';

const KEYS = Object.keys(SETTINGS) as SettingKey[];
const ID = `sec${process.pid}`;
const NODE_NS = `${ID}-node`;
const POD_NS = `${ID}-pod`;
const PIN = `/sys/fs/bpf/${ID}`;
/** What a traversal in the pin path would reach if it were followed. */
const ESCAPED_PIN = `/sys/fs/${ID}-escaped`;

/** Garbage for any setting: not one of these is a value any setting accepts. */
const GENERIC: readonly string[] = [
  '', ' ', '\t', '\n', 'NaN', 'Infinity', '-1', '0x10', '1e3', '99999999999999999999999', 'null', '[]',
  '../../../etc/passwd', `/sys/fs/bpf/../fs/${ID}-escaped`, `${PIN}/./x`, '//',
  '９０９０', 'ｔｒｕｅ', '\u202eofni', '😀', 'A'.repeat(100_000),
];

/** Fullwidth look-alikes of ASCII letters and digits (U+FF01..U+FF5E). */
const fullwidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

/** Garbage made from the setting's own default: whitespace, sign, traversal, look-alikes, size. */
function derived(def: string): string[] {
  return [` ${def}`, `${def} `, `${def}\n`, `\t${def}`, `-${def}`, `${def}/..`, `${def}/../..`, fullwidth(def), def.repeat(Math.ceil(100_000 / def.length))];
}

function garbageFor(key: SettingKey): string[] {
  const s = SETTINGS[key] as Setting<unknown>;
  return [...new Set([...GENERIC, ...derived(s.format(s.default))])];
}

function runAgent(env: Record<string, string>, args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/run/netns/${NODE_NS}`, process.execPath, AGENT_MAIN, ...args], {
      env: { PATH: process.env.PATH, EBPF_BPF_PIN_PATH: PIN, EBPF_ON_SHUTDOWN: 'cleanup', EBPF_METRICS_ADDRESS: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs fn over items, `width` at a time (each is a Node start-up; the machine is shared). */
async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

/**
 * Programs on veth0's hooks, asked of the kernel from inside the namespace with
 * the agent's own addon (Debian's bpftool predates tcx and would list nothing).
 */
const HOOKS_SCRIPT = `
import { loadAddon } from ${JSON.stringify(new URL('../../agent/dist/addon.js', import.meta.url).href)};
const a = loadAddon();
const link = a.listLinks().find((l) => l.name === 'veth0');
const out = [];
for (const d of ['ingress', 'egress']) {
  for (const id of a.listTcxPrograms(link.ifindex, d)) out.push('tcx ' + d + ' ' + a.programName(id));
  for (const f of a.listTcFilters(link.ifindex, d)) out.push('tc ' + d + ' ' + JSON.stringify(f));
}
process.stdout.write(JSON.stringify(out));`;

/** What the agent could have left in the node namespace and on bpffs. */
async function traces(): Promise<string[]> {
  const found: string[] = [];
  for (const path of [PIN, ESCAPED_PIN]) if (existsSync(path)) found.push(`${path} exists`);
  const qdiscs = await run('ip', ['netns', 'exec', NODE_NS, 'tc', 'qdisc', 'show', 'dev', 'veth0']);
  if (qdiscs.stdout.includes('clsact')) found.push(`qdisc: ${qdiscs.stdout.trim()}`);
  const hooks = await run('nsenter', [`--net=/run/netns/${NODE_NS}`, process.execPath, '--input-type=module', '-e', HOOKS_SCRIPT]);
  for (const h of JSON.parse(hooks.stdout) as string[]) found.push(`program: ${h}`);
  return found;
}

test.before(async () => {
  await run('ip', ['netns', 'add', NODE_NS]);
  await run('ip', ['netns', 'add', POD_NS]);
  // A pod's veth: what the agent attaches to when it is allowed to start.
  await run('ip', ['-n', NODE_NS, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', POD_NS]);
  await run('ip', ['-n', NODE_NS, 'addr', 'add', '10.250.0.1/30', 'dev', 'veth0']);
  await run('ip', ['-n', NODE_NS, 'link', 'set', 'veth0', 'up']);
  await run('ip', ['-n', NODE_NS, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', POD_NS, 'addr', 'add', '10.250.0.2/30', 'dev', 'eth0']);
  await run('ip', ['-n', POD_NS, 'link', 'set', 'eth0', 'up']);
});

test.after.always(async () => {
  await run('ip', ['netns', 'del', POD_NS], { allowFail: true });
  await run('ip', ['netns', 'del', NODE_NS], { allowFail: true });
  await run('rm', ['-rf', PIN, ESCAPED_PIN], { allowFail: true });
});

test.serial('the trace check sees what a valid start leaves (control)', async (t) => {
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'nsenter', `--net=/run/netns/${NODE_NS}`, process.execPath, AGENT_MAIN], {
    env: { PATH: process.env.PATH, EBPF_BPF_PIN_PATH: PIN, EBPF_ON_SHUTDOWN: 'cleanup', EBPF_METRICS_ADDRESS: '127.0.0.1', EBPF_COLLECTION_INTERVAL: '1s', EBPF_NETNS_FILTER_MODE: 'disabled' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    let seen: string[] = [];
    const complete = (l: string[]) => l.some((s) => s.startsWith(`${PIN} exists`)) && l.some((s) => s.startsWith('program: tcx') || s.startsWith('qdisc'));
    for (let i = 0; i < 100 && !complete(seen); i++) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await traces();
    }
    t.true(seen.some((s) => s.startsWith(`${PIN} exists`)), `pin directory not seen: ${seen.join('; ')}\n${out}`);
    t.true(seen.some((s) => /^(qdisc|program: )/.test(s)), `attachment not seen: ${seen.join('; ')}\n${out}`);
  } finally {
    child.kill('SIGTERM');
    t.is(await exited, 0, out);
  }
  t.deepEqual(await traces(), [], 'cleanup on SIGTERM leaves nothing, so the garbage runs start clean');
});

for (const key of KEYS) {
  const s = SETTINGS[key] as Setting<unknown>;
  test.serial(`${s.env}: every garbage value exits 2 with one line and leaves nothing`, async (t) => {
    const values = garbageFor(key);
    // In-process first (fast, and takes the NUL byte an environment cannot carry).
    for (const value of [...values, `${s.format(s.default)}\0`]) {
      t.throws(() => loadConfig([], { [s.env]: value }), { message: `invalid ${s.env}=${quote(value)}: expected ${s.accepted}${value === '' ? ' (unset it for the default)' : ''}` });
      t.throws(() => loadConfig([`${s.flag}=${value}`], {}), { message: new RegExp(`^invalid ${s.flag}=`) });
    }
    // Through the binary: one of each kind (a Node start-up each, on a shared machine).
    const d = s.format(s.default);
    const kinds = [...new Set(['', ' ', `${d} `, `${d}\n`, `-${d}`, `${d}/..`, fullwidth(d), '\u202eofni', 'A'.repeat(100_000), d.repeat(Math.ceil(100_000 / d.length)), `/sys/fs/bpf/../fs/${ID}-escaped`, '0x10', 'NaN'])];
    const results = await pool(kinds, 4, (value) => runAgent({ [s.env]: value }));
    results.forEach((r, i) => {
      const value = kinds[i]!;
      const line = `ebpf-agent: invalid ${s.env}=${quote(value)}: expected ${s.accepted}${value === '' ? ' (unset it for the default)' : ''}\n`;
      t.is(r.status, 2, `${s.env}=${quote(value)}: ${r.stderr}`);
      t.is(r.stdout, '');
      t.is(r.stderr, line);
    });
    // The flag form through the binary too, for the empty value and a traversal.
    for (const value of ['', `${s.format(s.default)}/..`]) {
      const r = await runAgent({}, [`${s.flag}=${value}`]);
      t.is(r.status, 2);
      t.is(r.stderr, `ebpf-agent: invalid ${s.flag}=${quote(value)}: expected ${s.accepted}${value === '' ? ' (unset it for the default)' : ''}\n`);
    }
    t.deepEqual(await traces(), []);
  });
}

test('the error line escapes what could disguise or split it and cuts long values', (t) => {
  t.is(quote('9090'), '"9090"');
  t.is(quote('a\nb'), '"a\\nb"');
  t.is(quote('\u202eofni'), '"\\u202eofni"');
  t.is(quote('９'), '"\\uff19"');
  t.is(quote('A'.repeat(100_000)), `"${'A'.repeat(64)}"... (100000 characters)`);
});

test('valid edge values still parse', (t) => {
  const c = loadConfig([], {
    EBPF_METRICS_PORT: '1', EBPF_PROFILING_PORT: '65535', EBPF_MAX_FLOWS: '16777216', EBPF_METRICS_ADDRESS: '::',
    EBPF_BPF_PIN_PATH: '/sys/fs/bpf/kubeadapt-2.x_y/', EBPF_POD_CGROUP: '/sys/fs/cgroup/kubepods.slice', EBPF_PAIR_TTL: '24h', EBPF_COLLECTION_INTERVAL: '100ms',
  });
  t.is(c.metricsPort, 1);
  t.is(c.profilingPort, 65535);
  t.is(c.maxFlows, 16_777_216);
  t.is(c.metricsAddress, '::');
  t.is(c.pinPath, '/sys/fs/bpf/kubeadapt-2.x_y');
  t.is(c.podCgroup, '/sys/fs/cgroup/kubepods.slice');
  t.is(c.pairTtl, 86_400_000);
  t.is(c.collectionInterval, 100);
  t.is(loadConfig([], { EBPF_METRICS_ADDRESS: 'fd00::1' }).metricsAddress, 'fd00::1');
});

test('profiling on the metrics port is refused before anything binds', (t) => {
  t.throws(() => loadConfig([], { EBPF_ENABLE_PROFILING: 'true', EBPF_PROFILING_PORT: '9090' }), {
    message: 'invalid EBPF_PROFILING_PORT=9090: expected a port other than EBPF_METRICS_PORT (9090) when profiling is enabled',
  });
  t.is(loadConfig([], { EBPF_PROFILING_PORT: '9090' }).profilingPort, 9090, 'harmless while profiling is off');
});
