// What the agent needs on a node, checked one by one, each failure with what
// to do about it. Run by `check` and logged once at start-up.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import { dirname } from 'node:path';
import { DEFAULT_OBJECT_PATH, loadAddon } from '../addon.js';
import type { Config } from '../config/settings.js';
import { BPF_FS_MAGIC, kernelHasTcx, resolveAttachMode } from '../lifecycle.js';
import { Attacher } from '../interfaces/attacher.js';
import { isPodVeth } from '../interfaces/discovery.js';

export type Status = 'pass' | 'warn' | 'fail';
export interface CheckResult {
  name: string;
  status: Status;
  detail: string;
  fix?: string;
}

const CAP = { NET_ADMIN: 12, SYS_ADMIN: 21, SYS_RESOURCE: 24, PERFMON: 38, BPF: 39 } as const;

export function kernelVersion(r = release()): [number, number] {
  const [a = 0, b = 0] = r.split(/[.-]/).map(Number);
  return [a, b];
}

const atLeast = (v: [number, number], major: number, minor: number) => v[0] > major || (v[0] === major && v[1] >= minor);

export function effectiveCaps(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt('0x' + m[1]) : 0n;
}

const has = (caps: bigint, bit: number) => (caps >> BigInt(bit)) & 1n ? true : false;

function checkKernel(): CheckResult {
  const v = kernelVersion();
  return atLeast(v, 5, 10)
    ? { name: 'kernel', status: 'pass', detail: `${release()} (5.10+ needed)` }
    : { name: 'kernel', status: 'fail', detail: `${release()} is older than 5.10`, fix: 'run the agent on nodes with kernel 5.10 or newer (nodeSelector / affinity in the chart)' };
}

function checkBtf(): CheckResult {
  return existsSync('/sys/kernel/btf/vmlinux')
    ? { name: 'btf', status: 'pass', detail: '/sys/kernel/btf/vmlinux present' }
    : { name: 'btf', status: 'warn', detail: '/sys/kernel/btf/vmlinux missing: the current programs do not need it, BTF-based features will be off', fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y' };
}

function checkBpffs(pinPath: string): CheckResult {
  const where = existsSync(pinPath) ? pinPath : dirname(pinPath);
  let type = 0;
  try {
    type = existsSync(where) ? statfsSync(where).type : 0;
  } catch {
    type = 0;
  }
  return type === BPF_FS_MAGIC
    ? { name: 'bpffs', status: 'pass', detail: `${where} is a bpf filesystem` }
    : {
        name: 'bpffs', status: 'fail', detail: `${where} is not a mounted bpf filesystem (pin path ${pinPath})`,
        fix: `mount it on the node (mount -t bpf bpf ${dirname(pinPath)}) and mount it into the pod (the chart's hostPath volume), or set EBPF_BPF_PIN_PATH to a directory on bpffs`,
      };
}

function checkCapabilities(caps: bigint): CheckResult[] {
  const out: CheckResult[] = [];
  const bpfOk = has(caps, CAP.BPF) || has(caps, CAP.SYS_ADMIN);
  out.push(bpfOk
    ? { name: 'cap_bpf', status: 'pass', detail: has(caps, CAP.BPF) ? 'CAP_BPF present (create maps, load programs)' : 'CAP_SYS_ADMIN present (covers CAP_BPF)' }
    : { name: 'cap_bpf', status: 'fail', detail: 'missing CAP_BPF: needed to create maps and load programs', fix: 'add BPF to securityContext.capabilities.add (or SYS_ADMIN on kernels older than 5.8)' });
  out.push(has(caps, CAP.NET_ADMIN)
    ? { name: 'cap_net_admin', status: 'pass', detail: 'CAP_NET_ADMIN present (attach to TC hooks, clsact qdisc, netlink)' }
    : { name: 'cap_net_admin', status: 'fail', detail: 'missing CAP_NET_ADMIN: needed to attach programs to TC hooks', fix: 'add NET_ADMIN to securityContext.capabilities.add' });
  return out;
}

function checkMemlock(caps: bigint): CheckResult {
  if (atLeast(kernelVersion(), 5, 11)) {
    return { name: 'memlock', status: 'pass', detail: 'kernel 5.11+ charges BPF memory to the cgroup, not RLIMIT_MEMLOCK' };
  }
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const unlimited = /^Max locked memory\s+unlimited/m.test(limits);
  if (unlimited || has(caps, CAP.SYS_RESOURCE)) {
    return { name: 'memlock', status: 'pass', detail: unlimited ? 'RLIMIT_MEMLOCK unlimited' : 'CAP_SYS_RESOURCE present: the limit can be raised' };
  }
  return { name: 'memlock', status: 'fail', detail: 'kernel older than 5.11 charges BPF maps to RLIMIT_MEMLOCK, which is limited, and CAP_SYS_RESOURCE is missing', fix: 'add SYS_RESOURCE to securityContext.capabilities.add' };
}

function checkAttachMode(config: Config): CheckResult {
  const tcx = kernelHasTcx();
  if (config.attachMode === 'tcx' && !tcx) {
    return { name: 'attach_mode', status: 'fail', detail: `EBPF_ATTACH_MODE=tcx but kernel ${release()} has no tcx (6.6+)`, fix: 'set EBPF_ATTACH_MODE=auto or tc' };
  }
  return { name: 'attach_mode', status: 'pass', detail: `${resolveAttachMode(config.attachMode)} (kernel ${tcx ? 'has' : 'lacks'} tcx; legacy TC always available)` };
}

/** Loads the real object and attaches it to a dummy link it creates and removes. */
function checkLoadAndAttach(config: Config): CheckResult {
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
    return { name, status: 'pass', detail: `programs verified, loaded and attached (${a.mode}) on a veth pair` };
  } catch (err) {
    const e = err as { message?: string; code?: string };
    const fix = e.code === 'EPERM'
      ? 'a capability is missing (see cap_* checks); under seccomp make sure the bpf() syscall is allowed'
      : 'see the error; the runbook lists known causes';
    return { name, status: 'fail', detail: e.message ?? String(err), fix };
  } finally {
    if (ifindex) addon.deleteLink(ifindex);
    bpf?.close();
  }
}

/** Other programs on pod hooks (a CNI's) and whether ours coexists with them. */
function checkCoexistence(config: Config): CheckResult {
  const addon = loadAddon();
  const mode = resolveAttachMode(config.attachMode);
  const pods = addon.listLinks().filter(isPodVeth);
  const others = new Set<string>();
  for (const l of pods) {
    for (const f of addon.listTcFilters(l.ifindex, 'ingress')) {
      if (f.handle !== 0x4b41) others.add(`tc:${f.name ?? f.kind ?? 'filter'}${f.directAction ? '(da)' : ''}`);
    }
    for (const id of addon.listTcxPrograms(l.ifindex, 'ingress')) {
      const n = addon.programName(id);
      if (n !== 'tc_pod_egress') others.add(`tcx:${n ?? id}`);
    }
  }
  const list = [...others].join(', ') || 'none';
  const how = mode === 'tcx'
    ? 'ours attaches first in the tcx chain and returns TCX_NEXT, legacy TC filters run after tcx'
    : 'ours is a separate cls_bpf filter (own handle, priority 1) returning TC_ACT_UNSPEC so later filters still run';
  return { name: 'coexistence', status: 'pass', detail: `${pods.length} pod interface(s); other programs on them: ${list}; ${how}` };
}

export async function runChecks(config: Config): Promise<CheckResult[]> {
  const caps = effectiveCaps();
  const results: CheckResult[] = [checkKernel(), checkBtf(), checkBpffs(config.pinPath), ...checkCapabilities(caps), checkMemlock(caps), checkAttachMode(config)];
  const fatal = results.some((r) => r.status === 'fail' && r.name !== 'bpffs');
  results.push(fatal
    ? { name: 'load_attach', status: 'fail', detail: 'skipped: an earlier check failed', fix: 'fix the failures above first' }
    : checkLoadAndAttach(config));
  try {
    results.push(checkCoexistence(config));
  } catch (err) {
    results.push({ name: 'coexistence', status: 'warn', detail: `could not list programs on pod interfaces: ${(err as Error).message}` });
  }
  return results;
}
