// Finds the pods' parent cgroup (kubepods) on the cgroup v2 hierarchy. In netns
// filter mode "default" the uplink program counts a locally originated packet
// only when its socket's cgroup is below it: a hostNetwork pod, not a host
// system process. The program compares cgroup ids at a fixed ancestor level.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

export interface PodCgroup {
  path: string;
  /** cgroup v2 id: the directory's inode number on cgroup2. */
  id: bigint;
  /** Depth below the hierarchy's root (kubepods.slice is 1). */
  level: number;
}

interface Cgroup2Mount {
  /** The directory of the hierarchy this mount shows as its root. */
  root: string;
  mountPoint: string;
}

// Mount roots are shown relative to the reader's cgroup namespace: a host
// tree mounted into a container reads "/../../..", which is the real root.
const segments = (p: string) => posix.normalize(p).split('/').filter((s) => s && s !== '..' && s !== '.').length;

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

export function resolvePodCgroup(setting: string, mounts = cgroup2Mounts()): PodCgroup | undefined {
  const candidates = setting === 'auto'
    ? mounts.flatMap((m) => ['kubepods.slice', 'kubepods'].map((n) => join(m.mountPoint, n)))
    : [setting];
  for (const path of candidates) {
    if (!existsSync(path) || !statSync(path).isDirectory()) continue;
    const mount = mounts
      .filter((m) => path === m.mountPoint || path.startsWith(m.mountPoint.replace(/\/$/, '') + '/'))
      .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
    if (!mount) continue;
    const level = segments(mount.root) + segments(path.slice(mount.mountPoint.length));
    return { path, id: statSync(path, { bigint: true }).ino, level };
  }
  return undefined;
}
