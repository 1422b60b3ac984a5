// Reads processes' memory and CPU time from /proc, for the footprint and throughput benchmarks.
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

export interface ProcStat {
  ppid: number;
  comm: string;
  /** User + system CPU seconds the process has used. */
  own: number;
  /** The same of the children it has reaped. */
  children: number;
}

/** /proc/<pid>/stat; undefined when the process is gone. */
export function procStat(pid: number | string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  // Fields after the command name (which may hold spaces): ppid is the 4th
  // field of the line, utime/stime the 14th/15th, cutime/cstime the 16th/17th.
  const f = text.slice(close + 2).split(' ');
  return {
    ppid: Number(f[1]), comm: text.slice(text.indexOf('(') + 1, close),
    own: (Number(f[11]) + Number(f[12])) / CLK_TCK, children: (Number(f[13]) + Number(f[14])) / CLK_TCK,
  };
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const s = procStat(pid);
  if (!s) throw new Error(`no /proc/${pid}/stat: the process is gone`);
  return s.own;
}
