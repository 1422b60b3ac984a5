// bpffs made really absent or really wrong: the bpffs line fails, says what it
// found instead and how to fix it; nothing else fails (the load itself needs
// no pins, so load_attach still passes and proves the rest of the node fine).
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheck } from './run-check.js';

const FIX = 'mount bpffs on the node (mount -t bpf bpf /sys/fs/bpf) and into the pod (the chart\'s hostPath volume), '
  + 'or set EBPF_BPF_PIN_PATH to a directory on a bpf filesystem';

test.before(() => {
  if (process.getuid?.() !== 0) throw new Error('the preflight check mounts and loads BPF programs: run the tests as root');
});

function onlyBpffsFails(t: import('ava').ExecutionContext, r: ReturnType<typeof runCheck>, detail: string): void {
  t.is(r.code, 1, r.stdout + r.stderr);
  t.deepEqual(r.line('bpffs'), { status: 'fail', name: 'bpffs', detail, fix: FIX });
  t.deepEqual(r.lines.filter((l) => l.status !== 'pass').map((l) => l.name), ['bpffs']);
}

test('bpffs not mounted (unmounted in a private mount namespace): the line names the sysfs directory left', (t) => {
  const pin = `/sys/fs/bpf/kapf-${process.pid}`;
  const r = runCheck({ inMountNamespace: 'umount /sys/fs/bpf', env: { EBPF_BPF_PIN_PATH: pin } });
  onlyBpffsFails(t, r, `/sys/fs/bpf is sysfs, not a bpf filesystem (EBPF_BPF_PIN_PATH=${pin})`);
});

test('a pin path on tmpfs: the line names tmpfs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kapf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The tmpfs lives and dies with the private mount namespace.
  const r = runCheck({ inMountNamespace: `mount -t tmpfs kapf ${dir}`, env: { EBPF_BPF_PIN_PATH: `${dir}/pins` } });
  onlyBpffsFails(t, r, `${dir} is tmpfs, not a bpf filesystem (EBPF_BPF_PIN_PATH=${dir}/pins)`);
});

test('a pin path whose parent does not exist (/tmp/x/pins): the line says so', (t) => {
  const parent = join(tmpdir(), `kapf-missing-${process.pid}`);
  const r = runCheck({ env: { EBPF_BPF_PIN_PATH: `${parent}/pins` } });
  onlyBpffsFails(t, r, `${parent} does not exist (EBPF_BPF_PIN_PATH=${parent}/pins: the agent creates only the last directory)`);
});

test('the agent itself refuses the same pin path and says why in its log', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kapf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { spawn } = await import('node:child_process');
  const { MAIN } = await import('./run-check.js');
  // Its own network namespace: the agent attaches nothing there and its port is private.
  const child = spawn('unshare', ['-n', '-m', '--propagation', 'private', 'node', MAIN], {
    env: { ...process.env, EBPF_BPF_PIN_PATH: `${dir}/pins`, EBPF_LOG_FORMAT: 'console', EBPF_METRICS_ADDRESS: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise((r) => child.once('exit', r));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const deadline = Date.now() + 15_000;
  while (!/loading the BPF programs failed/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  await exited;
  t.regex(out, /ERROR preflight check=bpffs status=fail /);
  t.true(out.includes(`its parent ${dir} is not a mounted bpf filesystem`), out);
});

test('in a container the failures also become the termination message that kubectl describe pod shows', (t) => {
  const pin = `/sys/fs/bpf/kapf-${process.pid}`;
  // A private /dev with the file the kubelet would mount; read back before the namespace goes.
  const r = runCheck({
    inMountNamespace: 'umount /sys/fs/bpf && mount -t tmpfs kapfdev /dev && mknod -m 666 /dev/null c 1 3 && touch /dev/termination-log',
    env: { EBPF_BPF_PIN_PATH: pin },
    after: 'echo ---termination-log--- && cat /dev/termination-log',
  });
  t.is(r.code, 1, r.stdout + r.stderr);
  const message = r.stdout.split('---termination-log---\n')[1];
  t.is(message, `FAIL bpffs: /sys/fs/bpf is sysfs, not a bpf filesystem (EBPF_BPF_PIN_PATH=${pin})\n     fix: ${FIX}\n`);
});

test('outside a container no termination message is written', (t) => {
  const r = runCheck({ inMountNamespace: 'umount /sys/fs/bpf', env: { EBPF_BPF_PIN_PATH: '/sys/fs/bpf/x' }, after: 'test ! -e /dev/termination-log && echo ---none---' });
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /---none---/);
});
