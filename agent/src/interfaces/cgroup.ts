// Finds the pods' parent cgroup (kubepods) on a cgroup v2 mount. In netns
// filter mode "default" the uplink program counts a locally originated packet
// only when its socket's cgroup is below it: a hostNetwork pod, not a host
// system process (bpf_skb_under_cgroup on a directory fd the agent hands over).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface PodCgroup {
  path: string;
}

interface Cgroup2Mount {
  /** The directory of the hierarchy this mount shows as its root (namespace-relative). */
  root: string;
  mountPoint: string;
}

export function cgroup2Mounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): Cgroup2Mount[] {
  const out: Cgroup2Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right || right.split(' ')[0] !== 'cgroup2') continue;
    const f = left.split(' ');
    if (f[3] && f[4]) out.push({ root: f[3], mountPoint: f[4] });
  }
  return out;
}

/** auto: kubepods.slice (systemd driver) or kubepods (cgroupfs driver) on any cgroup v2 mount. */
export function resolvePodCgroup(setting: string, mounts = cgroup2Mounts()): PodCgroup | undefined {
  const candidates = setting === 'auto'
    ? mounts.flatMap((m) => ['kubepods.slice', 'kubepods'].map((n) => join(m.mountPoint, n)))
    : [setting];
  const path = candidates.find((p) => existsSync(p) && statSync(p).isDirectory());
  return path ? { path } : undefined;
}
