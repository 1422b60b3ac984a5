// The healthy machine: every check passes, the JSON says the same as the
// text, and the exit status is 0 / 1 / 2 as documented.
import test from 'ava';
import { release } from 'node:os';
import { CHECK_NAMES, runCheck } from './run-check.js';

const kernel = release();
const [major = 0, minor = 0] = kernel.split(/[.-]/).map(Number);
const atLeast = (a: number, b: number) => major > a || (major === a && minor >= b);
// A pin directory that does not exist yet on the machine's bpffs: the agent would create it.
const PIN = `/sys/fs/bpf/kapf-healthy-${process.pid}`;
const env = { EBPF_BPF_PIN_PATH: PIN };

test.before(() => {
  if (process.getuid?.() !== 0) throw new Error('the preflight check loads BPF programs: run the tests as root');
});

test('the healthy machine passes every check, one line each, and exits 0', (t) => {
  const r = runCheck({ env });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.deepEqual(r.lines.map((l) => `${l.status} ${l.name}`), CHECK_NAMES.map((n) => `pass ${n}`));
  t.true(r.lines.every((l) => l.fix === undefined), 'a passing check has no fix line');
  t.is(r.stdout.trimEnd().split('\n').at(-1), 'preflight: ok');
  t.is(r.line('kernel').detail, `${kernel} (5.10+ needed)`);
  t.is(r.line('btf').detail, '/sys/kernel/btf/vmlinux present');
  t.is(r.line('bpffs').detail, `/sys/fs/bpf is a bpf filesystem (pin path ${PIN})`);
  t.is(r.line('cap_bpf').detail, 'CAP_BPF present (create maps, load programs)');
  t.is(r.line('cap_perfmon').detail, 'CAP_PERFMON present (the verifier allows the packet parser\'s pointer arithmetic)');
  t.is(r.line('cap_net_admin').detail, 'CAP_NET_ADMIN present (load TC programs, attach to TC hooks, clsact qdisc, netlink)');
  if (atLeast(5, 11)) t.is(r.line('memlock').detail, 'kernel 5.11+ charges BPF memory to the cgroup, not RLIMIT_MEMLOCK');
  const mode = atLeast(6, 6) ? 'tcx' : 'tc';
  t.is(r.line('attach_mode').detail, mode === 'tcx'
    ? `tcx (tcx links; auto: kernel ${kernel} has tcx (6.6+))`
    : `tc (legacy TC, clsact qdisc + cls_bpf; auto: kernel ${kernel} lacks tcx (6.6+))`);
  t.is(r.line('load_attach').detail, `programs verified, loaded and attached (${mode}) on a veth pair it created and removed`);
  const interfaces = r.line('interfaces');
  t.regex(interfaces.detail, /^(\d+) interface\(s\): \d+ pod veth\(s\), [1-9]\d* uplink\(s\), \d+ other host device\(s\), \d+ ignored \(EBPF_UPLINK_INTERFACES=auto\)$/);
  t.is(interfaces.lines?.length, Number(/^\d+/.exec(interfaces.detail)![0]), 'one line per interface');
  for (const l of interfaces.lines ?? []) t.regex(l, /^\S+ \(ifindex \d+\): (pod veth|uplink|host device|ignored) \[[^\]]+\]: \S/);
  t.true(interfaces.lines!.some((l) => /^lo \(ifindex 1\): ignored \[no hook\]: loopback/.test(l)));
  t.regex(r.line('coexistence').detail, /^\d+ hook\(s\) on \d+ interface\(s\), \d+ of them pod veths; other programs there: /);
});

test('legacy TC mode also loads and attaches (EBPF_ATTACH_MODE=tc)', (t) => {
  const r = runCheck({ env: { ...env, EBPF_ATTACH_MODE: 'tc' } });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.line('attach_mode').detail, 'tc (legacy TC, clsact qdisc + cls_bpf; EBPF_ATTACH_MODE=tc)');
  t.is(r.line('load_attach').detail, 'programs verified, loaded and attached (tc) on a veth pair it created and removed');
  t.regex(r.line('coexistence').detail, /; legacy TC: /);
});

test('--output json parses and says exactly what the text says, passing and failing', (t) => {
  for (const extra of [{}, { EBPF_BPF_PIN_PATH: `/nonexistent-${process.pid}/pins` }]) {
    const text = runCheck({ env: { ...env, ...extra } });
    const json = runCheck({ env: { ...env, ...extra }, args: ['--output', 'json'] });
    t.is(json.code, text.code);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; checks: unknown[] };
    t.is(parsed.ok, text.code === 0);
    // load_attach's veth name carries the pid; everything else is identical.
    const samePid = (v: unknown) => JSON.parse(JSON.stringify(v).replace(/kapf\d+/g, 'kapfN')) as unknown;
    t.deepEqual(samePid(parsed.checks), samePid(text.lines));
  }
});

test('a failing check exits 1 and ends with "preflight: FAILED"', (t) => {
  const r = runCheck({ env: { EBPF_BPF_PIN_PATH: `/nonexistent-${process.pid}/pins` } });
  t.is(r.code, 1);
  t.is(r.stdout.trimEnd().split('\n').at(-1), 'preflight: FAILED');
});

test('bad usage exits 2 with what is accepted, and runs no check', (t) => {
  const xml = runCheck({ args: ['--output', 'xml'] });
  t.is(xml.code, 2);
  t.is(xml.stdout, '');
  t.is(xml.stderr, 'ebpf-agent: invalid --output="xml": expected text or json\n');
  const missing = runCheck({ args: ['--output'] });
  t.is(missing.code, 2);
  t.is(missing.stderr, 'ebpf-agent: --output needs a value: text or json\n');
  const badSetting = runCheck({ env: { EBPF_ATTACH_MODE: 'xdp' } });
  t.is(badSetting.code, 2);
  t.is(badSetting.stderr, 'ebpf-agent: invalid EBPF_ATTACH_MODE="xdp": expected one of auto, tcx, tc\n');
});
