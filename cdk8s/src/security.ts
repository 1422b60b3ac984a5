// The agent's Linux capabilities, in one place: values.yaml's default, the
// README's security table and the tests all read this list.

export interface CapabilityUse {
  /** Name as Kubernetes spells it (no CAP_ prefix). */
  readonly name: string;
  /** The operations that need it. */
  readonly operations: string;
}

export const AGENT_CAPABILITIES: readonly CapabilityUse[] = [
  { name: 'BPF', operations: 'create BPF maps, load the TC programs, pin and reopen them in bpffs (kernel 5.8+)' },
  { name: 'NET_ADMIN', operations: 'attach the TC/tcx programs, create the clsact qdisc, netlink queries for interfaces' },
  { name: 'PERFMON', operations: 'kept for kernels that gate some BPF helpers and pointer arithmetic on it (verifier)' },
  { name: 'SYS_RESOURCE', operations: 'raise RLIMIT_MEMLOCK on kernels before 5.11, which charge BPF memory to memlock' },
];

/** Added when `securityContext.privileged` is set: kernels before 5.8 gate bpf() on it (there is no CAP_BPF). */
export const PRIVILEGED_EXTRA_CAPABILITY = 'SYS_ADMIN';

/** Where pinned programs and maps live on the node. */
export const BPFFS_PATH = '/sys/fs/bpf';
