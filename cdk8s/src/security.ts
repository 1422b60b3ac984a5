// The agent's Linux capabilities, in one place: values.yaml's default, the
// README's security table and the tests all read this list.

export interface CapabilityUse {
  /** Name as Kubernetes spells it (no CAP_ prefix). */
  readonly name: string;
  /** The operations that need it. */
  readonly operations: string;
  /** Set when only older kernels need it: the first kernel version that does not. */
  readonly notNeededFromKernel?: string;
}

// tests/chart/capabilities.test.ts runs the agent with exactly these and with
// each one removed; the notes in `operations` say what failed without it.
export const AGENT_CAPABILITIES: readonly CapabilityUse[] = [
  { name: 'BPF', operations: 'create BPF maps, load the TC programs, pin and reopen them in bpffs (without it: EPERM at load)' },
  { name: 'NET_ADMIN', operations: 'load TC (sched_cls) programs, attach them with tcx or clsact + cls_bpf, netlink queries for interfaces (without it: EPERM at load)' },
  { name: 'PERFMON', operations: 'the verifier allows the packet parser\'s variable-offset pointer arithmetic only with it (without it: EACCES, "pointer arithmetic with it prohibited for !root")' },
  { name: 'SYS_RESOURCE', operations: 'raise RLIMIT_MEMLOCK on kernels before 5.11, which charge BPF memory to memlock', notNeededFromKernel: '5.11' },
];

/** Added when `securityContext.privileged` is set: kernels before 5.8 gate bpf() on it (there is no CAP_BPF). */
export const PRIVILEGED_EXTRA_CAPABILITY = 'SYS_ADMIN';

/** Where pinned programs and maps live on the node. */
export const BPFFS_PATH = '/sys/fs/bpf';

/** Where the metricsAuth TLS Secret is mounted: the directory of the agent's default key pair files. */
export const METRICS_TLS_DIR = '/etc/ebpf-agent/tls';
