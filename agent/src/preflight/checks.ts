// What the agent needs on a node, checked one by one, each failure with what
// to do about it. Run by `check` and logged once at start-up.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import { dirname } from 'node:path';
import { DEFAULT_OBJECT_PATH, loadAddon } from '../addon.js';
import type { Config } from '../config/settings.js';
import type { TcFilterInfo } from '../native.js';
import { BPF_FS_MAGIC, atLeast, kernelHasTcx, kernelVersion, resolveAttachMode } from '../kernel.js';
import { Attacher, TC_HANDLE, TC_PRIORITY } from '../interfaces/attacher.js';
import { decideRoles, describeRole, namedBy, type RoleDecision, type UplinkSetting } from '../interfaces/roles.js';

export type Status = 'pass' | 'warn' | 'fail';
export interface CheckResult {
  name: string;
  status: Status;
  detail: string;
  fix?: string;
  /** Details one per line (the interfaces check: one per interface). */
  lines?: string[];
}

const CAP = { NET_ADMIN: 12, SYS_ADMIN: 21, SYS_RESOURCE: 24, PERFMON: 38, BPF: 39 } as const;

export const CAPABILITY_BITS = CAP;

export function effectiveCaps(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt('0x' + m[1]) : 0n;
}

const has = (caps: bigint, bit: number) => (caps >> BigInt(bit)) & 1n ? true : false;

// The checks take what they read from the node as defaults, so the branches
// this machine cannot reach (old kernels) are testable with other values.
export function checkKernel(rel = release()): CheckResult {
  const v = kernelVersion(rel);
  return atLeast(v, 5, 10)
    ? { name: 'kernel', status: 'pass', detail: `${rel} (5.10+ needed)` }
    : { name: 'kernel', status: 'fail', detail: `${rel} is older than 5.10`, fix: 'run the agent on nodes with kernel 5.10 or newer (nodeSelector / affinity in the chart)' };
}

function checkBtf(): CheckResult {
  return existsSync('/sys/kernel/btf/vmlinux')
    ? { name: 'btf', status: 'pass', detail: '/sys/kernel/btf/vmlinux present' }
    : { name: 'btf', status: 'warn', detail: '/sys/kernel/btf/vmlinux missing: the current programs do not need it, BTF-based features will be off', fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y' };
}

/** statfs f_type of the filesystems an operator is likely to find instead of bpffs. */
const FS_NAMES: Record<number, string> = {
  0x01021994: 'tmpfs', 0xef53: 'ext4', 0x794c7630: 'overlayfs', 0x62656572: 'sysfs', 0x9fa0: 'proc',
  0x9123683e: 'btrfs', 0x58465342: 'xfs', 0x6969: 'nfs', 0x27e0eb: 'cgroup', 0x63677270: 'cgroup2',
};

const fsName = (type: number) => FS_NAMES[type] ?? `filesystem type 0x${type.toString(16)}`;

/**
 * The pin path itself when it exists, else its parent: the agent creates the
 * last component, so the parent must already be bpffs.
 */
function checkBpffs(pinPath: string): CheckResult {
  const name = 'bpffs';
  const where = existsSync(pinPath) ? pinPath : dirname(pinPath);
  const fix = `mount bpffs on the node (mount -t bpf bpf /sys/fs/bpf) and into the pod (the chart's hostPath volume), `
    + `or set EBPF_BPF_PIN_PATH to a directory on a bpf filesystem`;
  if (!existsSync(where)) {
    return { name, status: 'fail', detail: `${where} does not exist (EBPF_BPF_PIN_PATH=${pinPath}: the agent creates only the last directory)`, fix };
  }
  let type: number;
  try {
    type = statfsSync(where).type;
  } catch (err) {
    return { name, status: 'fail', detail: `statfs ${where} failed: ${(err as Error).message}`, fix };
  }
  return type === BPF_FS_MAGIC
    ? { name, status: 'pass', detail: `${where} is a bpf filesystem (pin path ${pinPath})` }
    : { name, status: 'fail', detail: `${where} is ${fsName(type)}, not a bpf filesystem (EBPF_BPF_PIN_PATH=${pinPath})`, fix };
}

function checkCapabilities(caps: bigint): CheckResult[] {
  const sysAdmin = has(caps, CAP.SYS_ADMIN);
  // CAP_SYS_ADMIN implies the two split off from it in 5.8; name it so a
  // privileged pod's pass is not mistaken for a least-privilege one.
  const covered = (bit: number, what: string) => has(caps, bit) ? `present (${what})` : `covered by CAP_SYS_ADMIN (${what})`;
  return [
    has(caps, CAP.BPF) || sysAdmin
      ? { name: 'cap_bpf', status: 'pass', detail: `CAP_BPF ${covered(CAP.BPF, 'create maps, load programs')}` }
      : { name: 'cap_bpf', status: 'fail', detail: 'missing CAP_BPF: needed to create maps and load programs (the kernel answers EPERM)', fix: 'add BPF to securityContext.capabilities.add (or SYS_ADMIN on kernels older than 5.8)' },
    has(caps, CAP.PERFMON) || sysAdmin
      ? { name: 'cap_perfmon', status: 'pass', detail: `CAP_PERFMON ${covered(CAP.PERFMON, 'the verifier allows the packet parser\'s pointer arithmetic')}` }
      : { name: 'cap_perfmon', status: 'fail', detail: 'missing CAP_PERFMON: the verifier refuses the packet parser\'s variable-offset pointer arithmetic (EACCES)', fix: 'add PERFMON to securityContext.capabilities.add (or SYS_ADMIN on kernels older than 5.8)' },
    has(caps, CAP.NET_ADMIN)
      ? { name: 'cap_net_admin', status: 'pass', detail: 'CAP_NET_ADMIN present (load TC programs, attach to TC hooks, clsact qdisc, netlink)' }
      : { name: 'cap_net_admin', status: 'fail', detail: 'missing CAP_NET_ADMIN: needed to load TC programs and attach them to TC hooks (the kernel answers EPERM)', fix: 'add NET_ADMIN to securityContext.capabilities.add' },
  ];
}

export function checkMemlock(caps: bigint, rel = release(), readLimits = () => readFileSync('/proc/self/limits', 'utf8')): CheckResult {
  if (atLeast(kernelVersion(rel), 5, 11)) {
    return { name: 'memlock', status: 'pass', detail: 'kernel 5.11+ charges BPF memory to the cgroup, not RLIMIT_MEMLOCK' };
  }
  const limits = readLimits();
  const unlimited = /^Max locked memory\s+unlimited/m.test(limits);
  if (unlimited || has(caps, CAP.SYS_RESOURCE)) {
    return { name: 'memlock', status: 'pass', detail: unlimited ? 'RLIMIT_MEMLOCK unlimited' : 'CAP_SYS_RESOURCE present: the limit can be raised' };
  }
  return { name: 'memlock', status: 'fail', detail: 'kernel older than 5.11 charges BPF maps to RLIMIT_MEMLOCK, which is limited, and CAP_SYS_RESOURCE is missing', fix: 'add SYS_RESOURCE to securityContext.capabilities.add' };
}

export function checkAttachMode(attachMode: Config['attachMode'], rel = release()): CheckResult {
  const tcx = kernelHasTcx(rel);
  if (attachMode === 'tcx' && !tcx) {
    return { name: 'attach_mode', status: 'fail', detail: `EBPF_ATTACH_MODE=tcx but kernel ${rel} has no tcx (6.6+)`, fix: 'set EBPF_ATTACH_MODE=auto or tc' };
  }
  // Which one the kernel really takes is load_attach's proof: clsact and
  // cls_bpf are kernel options of their own.
  const mode = attachMode === 'auto' ? (tcx ? 'tcx' : 'tc') : attachMode;
  const why = attachMode === 'auto' ? `auto: kernel ${rel} ${tcx ? 'has' : 'lacks'} tcx (6.6+)` : `EBPF_ATTACH_MODE=${attachMode}`;
  const what = mode === 'tcx' ? 'tcx links' : 'legacy TC, clsact qdisc + cls_bpf';
  return { name: 'attach_mode', status: 'pass', detail: `${mode} (${what}; ${why})` };
}

/** What to do about a failed load or attach, from the errno and the capabilities we lack. */
export function loadAttachFix(code: string | undefined, caps: bigint, stage: 'open' | 'load' = 'load'): string {
  const sysAdmin = has(caps, CAP.SYS_ADMIN);
  const missing = ([['BPF', CAP.BPF], ['PERFMON', CAP.PERFMON], ['NET_ADMIN', CAP.NET_ADMIN]] as const)
    .filter(([n, bit]) => !has(caps, bit) && !(sysAdmin && n !== 'NET_ADMIN'))
    .map(([n]) => n);
  if (code === 'EACCES' && missing.includes('PERFMON')) {
    return 'CAP_PERFMON is missing: the verifier refuses the packet parser\'s pointer arithmetic without it ("pointer arithmetic with it prohibited for !root"); add PERFMON to securityContext.capabilities.add';
  }
  if (code === 'EPERM' && missing.length > 0) {
    return `missing ${missing.map((n) => `CAP_${n}`).join(', ')}: add ${missing.join(', ')} to securityContext.capabilities.add`;
  }
  if (code === 'EPERM') {
    return 'all capabilities are present: a seccomp or LSM policy (AppArmor, SELinux, lockdown) refuses bpf(); allow the bpf() syscall for the agent';
  }
  if (stage === 'open') {
    return 'libbpf could not parse the BPF object (its reason is on stderr above): the object and the agent do not match; use the image\'s own build';
  }
  if (code === 'EACCES' || code === 'EINVAL') {
    return 'the verifier refused the program on this kernel: the verifier log is on stderr above; see the runbook (BPF program failed to load)';
  }
  return 'see the error above; the runbook lists known causes (BPF program failed to load)';
}

/** Loads the real object and attaches it to a veth pair it creates and removes. */
function checkLoadAndAttach(config: Config, caps: bigint): CheckResult {
  const name = 'load_attach';
  const addon = loadAddon();
  let ifindex = 0;
  let bpf;
  try {
    bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: 16, ringbufBytes: 4096 });
    ifindex = addon.createTestLink(`kapf${process.pid % 100000}`);
    const attacher = new Attacher(addon, bpf, resolveAttachMode(config.attachMode));
    const a = attacher.attach(ifindex, 'preflight', 'ingress', 'tc_pod_egress');
    attacher.detach(a);
    return { name, status: 'pass', detail: `programs verified, loaded and attached (${a.mode}) on a veth pair it created and removed` };
  } catch (err) {
    const e = err as { message?: string; code?: string };
    return { name, status: 'fail', detail: e.message ?? String(err), fix: loadAttachFix(e.code, caps, e.message?.startsWith('opening') ? 'open' : 'load') };
  } finally {
    if (ifindex) addon.deleteLink(ifindex);
    bpf?.close();
  }
}

/**
 * Other programs (a CNI's) on the hooks ours will use, found as discovery
 * finds them, and whether ours coexists with them in the chosen attach mode.
 */
function checkCoexistence(config: Config, roles: readonly RoleDecision[]): CheckResult {
  const name = 'coexistence';
  const addon = loadAddon();
  const mode = resolveAttachMode(config.attachMode);
  const pods = roles.filter((d) => d.role === 'pod veth');
  const hooks = roles.flatMap((d) => d.hooks.map((plan) => ({ link: d, plan })));
  const others = new Set<string>();
  const blocking = new Set<string>();
  const racing = new Set<string>();
  const stillThere = (ifindex: number) => addon.listLinks().some((l) => l.ifindex === ifindex);
  for (const { link: l, plan } of hooks) {
    const where = `on ${l.name} ${plan.direction}`;
    let filters: TcFilterInfo[];
    let tcx: number[];
    try {
      filters = addon.listTcFilters(l.ifindex, plan.direction);
      tcx = addon.listTcxPrograms(l.ifindex, plan.direction);
    } catch (err) {
      // A pod's veth may vanish between the link dump and this look.
      if (!stillThere(l.ifindex)) continue;
      throw err;
    }
    for (const f of filters) {
      if (f.handle === TC_HANDLE && f.priority === TC_PRIORITY) continue;
      const label = `tc:${f.kind ?? 'filter'}${f.name ? `/${f.name}` : ''}${f.directAction ? '(da)' : ''} prio ${f.priority} ${where}`;
      others.add(label);
      // One priority holds one classifier kind: another kind at ours makes the
      // kernel refuse our filter; another cls_bpf there shares the slot, where
      // the newest filter runs first: ours at attach time, but not after the
      // other one is added again (a CNI re-creating its filter).
      if (f.priority === TC_PRIORITY && f.kind !== 'bpf') blocking.add(label);
      else if (f.priority === TC_PRIORITY) racing.add(label);
    }
    for (const id of tcx) {
      const n = addon.programName(id);
      if (n !== plan.program) others.add(`tcx:${n ?? id} ${where}`);
    }
  }
  const list = [...others].join(', ') || 'none';
  const head = `${hooks.length} hook(s) on ${new Set(hooks.map((h) => h.link.ifindex)).size} interface(s), ${pods.length} of them pod veths; other programs there: ${list}`;
  if (mode === 'tcx') {
    return { name, status: 'pass', detail: `${head}; tcx: ours runs first in the tcx chain and returns TCX_NEXT, legacy TC filters run after tcx` };
  }
  if (blocking.size > 0) {
    return {
      name, status: 'fail', detail: `${head}; legacy TC: priority ${TC_PRIORITY} is taken by another classifier kind (${[...blocking].join(', ')}), the kernel will refuse our cls_bpf filter there`,
      fix: 'use EBPF_ATTACH_MODE=tcx (kernel 6.6+), or move the other filter off priority 1',
    };
  }
  if (racing.size > 0) {
    return {
      name, status: 'warn', detail: `${head}; legacy TC: ${[...racing].join(', ')} share(s) priority ${TC_PRIORITY} with ours, where the newest filter runs first: ours when it attaches, but if that filter is added again later it runs first and a terminal verdict (redirect, drop) there hides packets from us`,
      fix: 'use EBPF_ATTACH_MODE=tcx (kernel 6.6+) so ours runs ahead of every legacy TC filter',
    };
  }
  return { name, status: 'pass', detail: `${head}; legacy TC: ours is its own cls_bpf filter (handle 0x4b41, priority 1, runs first) returning TC_ACT_UNSPEC so later filters still run` };
}

/**
 * Each interface's role (pod veth, uplink, host device, ignored) and why, as
 * discovery will decide it: a veth taken for a pod's while it is the node's
 * link to other nodes counts their traffic twice (docs/runbook.md).
 */
export function checkInterfaces(roles: readonly RoleDecision[], uplinks: UplinkSetting): CheckResult {
  const name = 'interfaces';
  const count = (role: string) => roles.filter((d) => d.role === role).length;
  const head = `${roles.length} interface(s): ${count('pod veth')} pod veth(s), ${count('uplink')} uplink(s), ${count('host device')} other host device(s), ${count('ignored')} ignored`
    + ` (EBPF_UPLINK_INTERFACES=${uplinks === 'auto' ? 'auto' : uplinks.join(',')})`;
  const lines = roles.map(describeRole);
  if (uplinks !== 'auto') {
    const unmatched = uplinks.filter((p) => !roles.some((d) => namedBy([p], d.name)));
    if (unmatched.length) {
      return {
        name, status: 'warn', lines,
        detail: `${head}; EBPF_UPLINK_INTERFACES names ${unmatched.join(', ')}, which match(es) no interface on this node`,
        fix: 'list the node\'s uplinks by the names `ip link` shows (a trailing * matches a prefix), or set auto',
      };
    }
  }
  if (count('uplink') === 0) {
    return {
      name, status: 'warn', lines,
      detail: `${head}; no uplink found: no interface carries a default route, a route with a gateway or a route to a network`,
      fix: 'if a veth below is the node\'s link to other nodes, name it in EBPF_UPLINK_INTERFACES: taken for a pod\'s, it counts what other nodes send',
    };
  }
  return { name, status: 'pass', detail: head, lines };
}

export interface CheckOptions {
  /**
   * Load and attach the real programs on a throwaway veth pair. The agent's
   * start-up log leaves it out: the agent is about to do exactly that itself.
   * @default true
   */
  readonly loadAttach?: boolean;
}

export async function runChecks(config: Config, options: CheckOptions = {}): Promise<CheckResult[]> {
  const caps = effectiveCaps();
  const results: CheckResult[] = [checkKernel(), checkBtf(), checkBpffs(config.pinPath), ...checkCapabilities(caps), checkMemlock(caps), checkAttachMode(config.attachMode)];
  // A missing capability still gets the load tried: the kernel's own answer
  // (EPERM, EACCES) is the proof, and names what the cap_* lines suspect.
  const hopeless = results.find((r) => r.status === 'fail' && (r.name === 'kernel' || r.name === 'attach_mode'));
  if (options.loadAttach !== false) {
    results.push(hopeless
      ? { name: 'load_attach', status: 'fail', detail: `skipped: the ${hopeless.name} check failed`, fix: 'fix the failures above first' }
      : checkLoadAndAttach(config, caps));
  }
  let roles: RoleDecision[] | undefined;
  try {
    const addon = loadAddon();
    roles = decideRoles(addon.listLinks(), addon.listRoutes(), config.uplinkInterfaces);
    results.push(checkInterfaces(roles, config.uplinkInterfaces));
  } catch (err) {
    const e = err as { message?: string; code?: string };
    results.push({
      name: 'interfaces', status: 'warn', detail: `could not list links and routes: ${e.message ?? String(err)}`,
      fix: e.code === 'EPERM' ? 'add NET_ADMIN to securityContext.capabilities.add' : 'see the error; the runbook lists known causes',
    });
  }
  try {
    if (roles) results.push(checkCoexistence(config, roles));
  } catch (err) {
    const e = err as { message?: string; code?: string };
    results.push({
      name: 'coexistence', status: 'warn', detail: `could not list programs on pod interfaces: ${e.message ?? String(err)}`,
      fix: e.code === 'EPERM' ? 'add NET_ADMIN to securityContext.capabilities.add' : 'see the error; the runbook lists known causes',
    });
  }
  return results;
}
