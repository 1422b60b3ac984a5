// Measures the chart's capability list against the real agent: run it under
// capsh with exactly the capabilities the chart grants (as a container with
// drop ALL + add gets them) and it must load, attach and count; take any one
// away and the kernel must refuse the load. A list that grants too much or too
// little fails here. Runs in its own node/pod network namespaces and bpffs.
import test from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_CAPABILITIES } from '../../cdk8s/src/security.js';
import { REPO } from './lib/helm.js';

const NODE_NS = `chartcap-node-${process.pid}`;
const POD_NS = `chartcap-pod-${process.pid}`;
const HOST_IP = '10.201.0.1';
const POD_IP = '10.201.0.2';
const CAPSH = '/usr/sbin/capsh';
const BUILT = ['agent/dist/main.js', 'bpf/build/flows.bpf.o'].map((f) => join(REPO, f));

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

/** Capabilities this process may hand on (its bounding set), as capsh names them. */
function boundingSet(): string[] {
  const line = sh(CAPSH, ['--print']).split('\n').find((l) => l.startsWith('Bounding set ='));
  return (line ?? '').slice('Bounding set ='.length).split(',').filter(Boolean);
}

const capName = (k8sName: string): string => `cap_${k8sName.toLowerCase()}`;

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
}

/**
 * Starts `node agent/dist/main.js <command>` in the node namespace with only
 * `keep` in its capability sets.
 */
function startAgent(keep: readonly string[], port: number, command = 'run', env = ''): Run {
  const drop = boundingSet().filter((c) => !keep.includes(c)).join(',');
  // ip netns exec gives a private mount namespace with a fresh /sys: mount bpffs there, then drop privileges.
  const inner = `mount -t bpf bpf /sys/fs/bpf && cd ${REPO} && exec env EBPF_BPF_PIN_PATH=/sys/fs/bpf/chartcap `
    + `EBPF_METRICS_ADDRESS=127.0.0.1 EBPF_METRICS_PORT=${port} EBPF_LOG_FORMAT=console EBPF_COLLECTION_INTERVAL=1s ${env} `
    + `${CAPSH} --drop=${drop} -- -c 'exec node agent/dist/main.js ${command}'`;
  const child = spawn('ip', ['netns', 'exec', NODE_NS, 'sh', '-c', inner], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return { child, output: () => out };
}

async function stop(run: Run): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  const exited = new Promise((r) => run.child.once('exit', r));
  run.child.kill('SIGTERM');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function scrape(port: number, path: string): { status: number; body: string } {
  try {
    const out = sh('ip', ['netns', 'exec', NODE_NS, 'curl', '-s', '-m', '2', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${path}`]);
    const i = out.lastIndexOf('\n');
    return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
  } catch {
    return { status: 0, body: '' };
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const metric = (body: string, re: RegExp): string | undefined => body.split('\n').find((l) => re.test(l));

test.before(() => {
  if (process.getuid?.() !== 0) throw new Error('the capability measurement loads BPF programs: run the tests as root');
  for (const f of [CAPSH, ...BUILT]) if (!existsSync(f)) throw new Error(`${f} is missing: scripts/setup.sh installs libcap2-bin and builds the agent`);
  for (const ns of [NODE_NS, POD_NS]) sh('ip', ['netns', 'add', ns]);
  sh('ip', ['netns', 'exec', NODE_NS, 'ip', 'link', 'set', 'lo', 'up']);
  // The host end of a pod veth, as a CNI would make it.
  sh('ip', ['netns', 'exec', NODE_NS, 'ip', 'link', 'add', 'chartcap0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', POD_NS]);
  sh('ip', ['netns', 'exec', NODE_NS, 'ip', 'addr', 'add', `${HOST_IP}/24`, 'dev', 'chartcap0']);
  sh('ip', ['netns', 'exec', NODE_NS, 'ip', 'link', 'set', 'chartcap0', 'up']);
  sh('ip', ['netns', 'exec', POD_NS, 'ip', 'addr', 'add', `${POD_IP}/24`, 'dev', 'eth0']);
  sh('ip', ['netns', 'exec', POD_NS, 'ip', 'link', 'set', 'eth0', 'up']);
});

test.after.always(() => {
  for (const ns of [NODE_NS, POD_NS]) {
    try { sh('ip', ['netns', 'del', ns]); } catch { /* not created */ }
  }
});

const granted = AGENT_CAPABILITIES.map((c) => capName(c.name));

test.serial('with exactly the chart\'s capabilities the agent loads, attaches and counts a pod\'s packets', async (t) => {
  const available = boundingSet();
  const keep = granted.filter((c) => available.includes(c));
  const missing = granted.filter((c) => !available.includes(c));
  if (missing.length) t.log(`NOTE: ${missing.join(', ')} not in this machine's bounding set: measured without (kernel ${kernel})`);
  // Every drained slot released by a fresh map (created, pinned, put into
  // flow_slots): the path a busy node takes, with the same capabilities.
  const run = startAgent(keep, 19181, 'run', 'EBPF_TEST_SLOT_RELEASE=replace EBPF_LOG_LEVEL=debug');
  t.teardown(() => stop(run));
  await until('/health/ready = 200', 15_000, () => (scrape(19181, '/health/ready').status === 200 ? true : undefined))
    .catch((e: Error) => { throw new Error(`${e.message}\n${run.output()}`); });
  t.is(metric(scrape(19181, '/metrics').body, /^kubeadapt_attached_interfaces /), 'kubeadapt_attached_interfaces 1');
  sh('ip', ['netns', 'exec', POD_NS, 'bash', '-c', `for i in 1 2 3; do echo hi > /dev/udp/${HOST_IP}/9999; done`]);
  const line = await until('the 3 UDP packets in /metrics', 10_000, () =>
    metric(scrape(19181, '/metrics').body, new RegExp(`^kubeadapt_connection_traffic_packets_total\\{src_ip="${POD_IP}",dst_ip="${HOST_IP}",protocol="udp"\\} 3$`)));
  t.truthy(line);
  // More packets after a slot was replaced land in the new map and count on.
  await until('a slot released by a fresh map', 10_000, () => (/slot released .*a fresh map/.test(run.output()) ? true : undefined));
  sh('ip', ['netns', 'exec', POD_NS, 'bash', '-c', `for i in 1 2 3; do echo hi > /dev/udp/${HOST_IP}/9999; done`]);
  await until('the 6 UDP packets in /metrics', 10_000, () =>
    metric(scrape(19181, '/metrics').body, new RegExp(`^kubeadapt_connection_traffic_packets_total\\{src_ip="${POD_IP}",dst_ip="${HOST_IP}",protocol="udp"\\} 6$`)));
  t.notRegex(run.output(), /could not give the drained slot a fresh map/);
});

test.serial('the preflight init container (main.js check) passes with exactly the chart\'s capabilities', async (t) => {
  const run = startAgent(granted.filter((c) => boundingSet().includes(c)), 19183, 'check');
  t.teardown(() => stop(run));
  const code = await new Promise<number | null>((resolve) => {
    if (run.child.exitCode !== null) resolve(run.child.exitCode);
    else run.child.once('exit', (c) => resolve(c));
  });
  t.is(code, 0, run.output());
  t.regex(run.output(), /^PASS load_attach: /m);
  t.regex(run.output(), /^preflight: ok$/m);
});

const kernel = sh('uname', ['-r']).trim();
const olderThan = (version: string): boolean => {
  const [a = 0, b = 0] = kernel.split(/[.-]/).map(Number);
  const [x = 0, y = 0] = version.split('.').map(Number);
  return a < x || (a === x && b < y);
};
const AVAILABLE = existsSync(CAPSH) ? boundingSet() : [];

for (const cap of AGENT_CAPABILITIES) {
  const name = capName(cap.name);
  const needed = cap.notNeededFromKernel === undefined || olderThan(cap.notNeededFromKernel);
  if (!AVAILABLE.includes(name)) {
    // The run above already went without it; whether it is needed cannot be shown here.
    test.skip(`CAP_${cap.name}: NOT MEASURED, this machine's bounding set lacks ${name} (kernel ${kernel})`, () => {});
    continue;
  }
  const title = needed
    ? `without CAP_${cap.name} the kernel refuses the agent: it is needed (${cap.operations})`
    : `without CAP_${cap.name} the agent still works on kernel ${kernel} (needed only before ${cap.notNeededFromKernel})`;
  test.serial(title, async (t) => {
    const run = startAgent(granted.filter((c) => c !== name && AVAILABLE.includes(c)), 19182);
    t.teardown(() => stop(run));
    if (!needed) {
      await until('/health/ready = 200', 15_000, () => (scrape(19182, '/health/ready').status === 200 ? true : undefined))
        .catch((e: Error) => { throw new Error(`${e.message}\n${run.output()}`); });
      t.pass();
      return;
    }
    const failure = await until('a failed BPF load in the log', 15_000, () =>
      /loading the BPF programs failed.*\((EPERM|EACCES)\)/.exec(run.output())?.[1])
      .catch((e: Error) => { throw new Error(`${e.message}\n${run.output()}`); });
    t.regex(failure, /^(EPERM|EACCES)$/);
    t.is(scrape(19182, '/health/ready').status, 503);
    t.log(`without ${name}: ${failure}`);
  });
}
