// How busy the machine was with work other than the bench's own during a
// measurement: on a shared 2-vCPU VM, someone else's compile takes a CPU from
// iperf3 for seconds and moves a throughput round by 10-20 %.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { CLK_TCK, procStat, type ProcStat } from './proc.js';

interface Snapshot {
  at: bigint;
  /** /proc/stat: user + nice + system + irq + softirq, all CPUs, seconds. */
  busy: number;
  steal: number;
  /** The bench's process tree, plus the ksoftirqd threads, seconds. */
  ours: number;
}

export interface Load {
  /** Busy CPU time not spent by the bench's process tree, as a share of all vCPUs over the window. */
  otherShare: number;
  /** Time the hypervisor gave to other guests, as a share of all vCPUs over the window. */
  stealShare: number;
}

function snapshot(): Snapshot {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = cpu as [number, number, number, number, number, number, number, number];
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(name);
    if (s) stats.set(Number(name), s);
  }
  // Our tree: this process and every live descendant, each with the time of
  // the children it has reaped (so a finished iperf3 client stays counted, in
  // its parent's cutime). Without IRQ time accounting (this kernel), the
  // softirq a veth packet costs is charged to the task that sent it, so it is
  // ours; what the kernel defers to ksoftirqd is counted as ours too, since
  // iperf3's floods are what fills the backlog.
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  let ours = 0;
  const todo = [process.pid];
  while (todo.length) {
    const pid = todo.pop()!;
    const s = stats.get(pid);
    if (s) ours += s.own + s.children;
    todo.push(...(children.get(pid) ?? []));
  }
  for (const s of stats.values()) if (s.comm.startsWith('ksoftirqd/')) ours += s.own;
  return { at: process.hrtime.bigint(), busy: (user + nice + system + irq + softirq) / CLK_TCK, steal: steal / CLK_TCK, ours };
}

/** Starts a window; the returned function ends it and says how busy the machine was meanwhile. */
export function loadWindow(): () => Load {
  const before = snapshot();
  return () => {
    const after = snapshot();
    const capacity = (Number(after.at - before.at) / 1e9) * availableParallelism();
    const other = after.busy - before.busy - (after.ours - before.ours);
    return { otherShare: Math.max(0, other) / capacity, stealShare: (after.steal - before.steal) / capacity };
  };
}
