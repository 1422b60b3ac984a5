// Facts about the running kernel and its filesystems that both the daemon
// (lifecycle.ts, cleanup.ts) and the preflight checks need. A module of its
// own so neither layer imports the other (tests/agent/import-cycles.test.ts).
import { release } from 'node:os';
import type { AttachMode } from './interfaces/attacher.js';

/** statfs f_type of a bpf filesystem (BPF_FS_MAGIC in linux/magic.h). */
export const BPF_FS_MAGIC = 0xcafe4a11;

/** [major, minor] of a kernel release string such as 6.6.0-rc1+. */
export function kernelVersion(r = release()): [number, number] {
  const [a = 0, b = 0] = r.split(/[.-]/).map(Number);
  return [a, b];
}

export const atLeast = (v: [number, number], major: number, minor: number) => v[0] > major || (v[0] === major && v[1] >= minor);

/** tcx links arrived in 6.6. */
export function kernelHasTcx(kernelRelease = release()): boolean {
  return atLeast(kernelVersion(kernelRelease), 6, 6);
}

/** EBPF_ATTACH_MODE resolved: auto picks tcx where the kernel has it. */
export function resolveAttachMode(mode: 'auto' | AttachMode, kernelRelease = release()): AttachMode {
  if (mode === 'auto') return kernelHasTcx(kernelRelease) ? 'tcx' : 'tc';
  return mode;
}
