// Each capability the agent needs, taken away for real with capsh: the
// check's own line fails and names it, and the real load (load_attach) fails
// with the kernel's errno and a fix that names the same capability.
// CAP_SYS_ADMIN goes too: it still implies CAP_BPF and CAP_PERFMON.
import test from 'ava';
import { existsSync } from 'node:fs';
import { CAPSH, boundingSet, runCheck } from './run-check.js';

const PIN = `/sys/fs/bpf/kapf-caps-${process.pid}`;
const AVAILABLE = existsSync(CAPSH) ? boundingSet() : [];

interface Case {
  readonly drop: readonly string[];
  readonly check: string;
  readonly detail: string;
  readonly fix: string;
  /** The start of load_attach's detail: which step the kernel refused. */
  readonly loadDetail: RegExp;
  readonly loadFix: string;
}

const CASES: readonly Case[] = [
  {
    drop: ['cap_bpf', 'cap_sys_admin'], check: 'cap_bpf',
    detail: 'missing CAP_BPF: needed to create maps and load programs (the kernel answers EPERM)',
    fix: 'add BPF to securityContext.capabilities.add (or SYS_ADMIN on kernels older than 5.8)',
    loadDetail: /^loading BPF object \S+flows\.bpf\.o .*\(EPERM\)$/,
    loadFix: 'missing CAP_BPF: add BPF to securityContext.capabilities.add',
  },
  {
    drop: ['cap_perfmon', 'cap_sys_admin'], check: 'cap_perfmon',
    detail: 'missing CAP_PERFMON: the verifier refuses the packet parser\'s variable-offset pointer arithmetic (EACCES)',
    fix: 'add PERFMON to securityContext.capabilities.add (or SYS_ADMIN on kernels older than 5.8)',
    loadDetail: /^loading BPF object \S+flows\.bpf\.o .*\(EACCES\)$/,
    loadFix: 'CAP_PERFMON is missing: the verifier refuses the packet parser\'s pointer arithmetic without it ("pointer arithmetic with it prohibited for !root"); add PERFMON to securityContext.capabilities.add',
  },
  {
    drop: ['cap_net_admin'], check: 'cap_net_admin',
    detail: 'missing CAP_NET_ADMIN: needed to load TC programs and attach them to TC hooks (the kernel answers EPERM)',
    fix: 'add NET_ADMIN to securityContext.capabilities.add',
    loadDetail: /\(EPERM\)$/,
    loadFix: 'missing CAP_NET_ADMIN: add NET_ADMIN to securityContext.capabilities.add',
  },
];

test.before(() => {
  if (process.getuid?.() !== 0) throw new Error('the preflight check loads BPF programs: run the tests as root');
  if (!existsSync(CAPSH)) throw new Error(`${CAPSH} is missing: install Debian's libcap2-bin (scripts/setup.sh does)`);
});

for (const c of CASES) {
  const absent = c.drop.filter((d) => !AVAILABLE.includes(d));
  if (absent.length) {
    test.skip(`SKIPPED: cannot drop ${absent.join(', ')}: this machine's bounding set lacks it already`, () => {});
    continue;
  }
  test(`without ${c.drop.join(' and ')}: ${c.check} and load_attach fail and name it, the rest pass, exit 1`, (t) => {
    const r = runCheck({ drop: c.drop, env: { EBPF_BPF_PIN_PATH: PIN } });
    t.is(r.code, 1, r.stdout + r.stderr);
    t.deepEqual(r.line(c.check), { status: 'fail', name: c.check, detail: c.detail, fix: c.fix });
    const load = r.line('load_attach');
    t.is(load.status, 'fail');
    t.regex(load.detail, c.loadDetail);
    t.is(load.fix, c.loadFix);
    t.deepEqual(r.lines.filter((l) => l.status !== 'pass').map((l) => l.name), [c.check, 'load_attach']);
    t.is(r.stdout.trimEnd().split('\n').at(-1), 'preflight: FAILED');
  });
}

test('CAP_SYS_ADMIN alone stands in for CAP_BPF and CAP_PERFMON, and the line says so', (t) => {
  if (!AVAILABLE.includes('cap_sys_admin')) return t.fail('cap_sys_admin is not in the bounding set: run as real root');
  const r = runCheck({ drop: ['cap_bpf', 'cap_perfmon'], env: { EBPF_BPF_PIN_PATH: PIN } });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.line('cap_bpf').detail, 'CAP_BPF covered by CAP_SYS_ADMIN (create maps, load programs)');
  t.is(r.line('cap_perfmon').detail, 'CAP_PERFMON covered by CAP_SYS_ADMIN (the verifier allows the packet parser\'s pointer arithmetic)');
  t.is(r.line('load_attach').status, 'pass');
});
