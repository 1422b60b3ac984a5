// The branches this machine (kernel 6.18, root) cannot reach for real: older
// kernels, a limited RLIMIT_MEMLOCK, a seccomp refusal. The checks take the
// kernel release and /proc/self/limits as parameters; everything else is the
// real code. What the machine can reach is tested for real beside this file.
import test from 'ava';
import { CAPABILITY_BITS as CAP, checkAttachMode, checkKernel, checkMemlock, effectiveCaps, loadAttachFix } from '../../agent/src/preflight/checks.js';
import { kernelVersion } from '../../agent/src/kernel.js';

const caps = (...bits: number[]) => bits.reduce((acc, b) => acc | (1n << BigInt(b)), 0n);
const ALL = caps(CAP.BPF, CAP.PERFMON, CAP.NET_ADMIN, CAP.SYS_RESOURCE);
const LIMITED = 'Limit                     Soft Limit           Hard Limit           Units     \nMax locked memory         8388608              8388608              bytes     \n';
const UNLIMITED = 'Max locked memory         unlimited            unlimited            bytes     \n';

test('kernel: 5.4 fails with the fix, 5.10 passes', (t) => {
  t.deepEqual(checkKernel('5.4.0-150-generic'), {
    name: 'kernel', status: 'fail', detail: '5.4.0-150-generic is older than 5.10',
    fix: 'run the agent on nodes with kernel 5.10 or newer (nodeSelector / affinity in the chart)',
  });
  t.deepEqual(checkKernel('5.10.0-28-amd64'), { name: 'kernel', status: 'pass', detail: '5.10.0-28-amd64 (5.10+ needed)' });
  t.deepEqual(kernelVersion('6.6.0-rc1+'), [6, 6]);
});

test('memlock before 5.11: limited and without CAP_SYS_RESOURCE fails; unlimited or the capability passes', (t) => {
  const noResource = caps(CAP.BPF, CAP.PERFMON, CAP.NET_ADMIN);
  t.deepEqual(checkMemlock(noResource, '5.10.0-28-amd64', () => LIMITED), {
    name: 'memlock', status: 'fail',
    detail: 'kernel older than 5.11 charges BPF maps to RLIMIT_MEMLOCK, which is limited, and CAP_SYS_RESOURCE is missing',
    fix: 'add SYS_RESOURCE to securityContext.capabilities.add',
  });
  t.deepEqual(checkMemlock(noResource, '5.10.0-28-amd64', () => UNLIMITED), { name: 'memlock', status: 'pass', detail: 'RLIMIT_MEMLOCK unlimited' });
  t.deepEqual(checkMemlock(ALL, '5.10.0-28-amd64', () => LIMITED), { name: 'memlock', status: 'pass', detail: 'CAP_SYS_RESOURCE present: the limit can be raised' });
  t.deepEqual(checkMemlock(noResource, '5.11.0', () => { throw new Error('5.11+ must not read the limit'); }),
    { name: 'memlock', status: 'pass', detail: 'kernel 5.11+ charges BPF memory to the cgroup, not RLIMIT_MEMLOCK' });
});

test('attach mode: tcx asked for on a kernel without it fails; auto falls back to legacy TC', (t) => {
  t.deepEqual(checkAttachMode('tcx', '6.1.0-18-amd64'), {
    name: 'attach_mode', status: 'fail', detail: 'EBPF_ATTACH_MODE=tcx but kernel 6.1.0-18-amd64 has no tcx (6.6+)', fix: 'set EBPF_ATTACH_MODE=auto or tc',
  });
  t.deepEqual(checkAttachMode('auto', '6.1.0-18-amd64'), {
    name: 'attach_mode', status: 'pass', detail: 'tc (legacy TC, clsact qdisc + cls_bpf; auto: kernel 6.1.0-18-amd64 lacks tcx (6.6+))',
  });
  t.deepEqual(checkAttachMode('auto', '6.6.0'), { name: 'attach_mode', status: 'pass', detail: 'tcx (tcx links; auto: kernel 6.6.0 has tcx (6.6+))' });
});

test('load_attach fix: EPERM with every capability present points at seccomp/LSM, not at a capability', (t) => {
  t.is(loadAttachFix('EPERM', ALL), 'all capabilities are present: a seccomp or LSM policy (AppArmor, SELinux, lockdown) refuses bpf(); allow the bpf() syscall for the agent');
  t.is(loadAttachFix('EPERM', caps(CAP.SYS_ADMIN)), 'missing CAP_NET_ADMIN: add NET_ADMIN to securityContext.capabilities.add', 'SYS_ADMIN covers BPF and PERFMON, not NET_ADMIN');
  t.is(loadAttachFix('EPERM', caps(CAP.NET_ADMIN)), 'missing CAP_BPF, CAP_PERFMON: add BPF, PERFMON to securityContext.capabilities.add');
  t.is(loadAttachFix('EACCES', ALL), 'the verifier refused the program on this kernel: the verifier log is on stderr above; see the runbook (BPF program failed to load)');
  t.is(loadAttachFix('EINVAL', ALL, 'open'), 'libbpf could not parse the BPF object (its reason is on stderr above): the object and the agent do not match; use the image\'s own build');
});

test('effective capabilities are read from the CapEff line', (t) => {
  t.is(effectiveCaps('Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000000c000001000\n'), caps(CAP.NET_ADMIN, CAP.PERFMON, CAP.BPF));
  t.is(effectiveCaps('no such line'), 0n);
});
