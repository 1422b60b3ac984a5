// Drives traffic between the simulated pods with traffic.mjs.
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inNetns, run, startProcess, stopProcess } from './exec.js';
import type { Pod } from './topology.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'traffic.mjs');

export interface SendPlan {
  /** Source address to bind. */
  from?: string;
  udpCount?: number;
  udpSize?: number;
  /** Extra UDP connections, one datagram of udpSize each. */
  udpFlows?: number;
  tcpBytes?: number;
  /** Destination port (default: the sinks' 5201); a Service's port goes through its DNAT. */
  port?: number;
  /** Source ports from here on (UDP socket, extra UDP flows, then TCP) instead of the kernel's pick. */
  sourcePortBase?: number;
  /**
   * Pins the sender to one CPU, so its packets enter the node in order on that
   * CPU. Unpinned, two datagrams of one new UDP flow can race through
   * conntrack on two CPUs, and a Service's DNAT may send the second to another
   * backend (docs/architecture.md, "NAT clash").
   */
  cpu?: number;
}

export class Sinks {
  private readonly children: ChildProcess[] = [];

  async start(pods: readonly Pod[]): Promise<void> {
    for (const pod of pods) {
      const { child } = await startProcess('ip', ['netns', 'exec', pod.netns, process.execPath, SCRIPT, 'serve'], /ready/);
      this.children.push(child);
    }
  }

  async stop(): Promise<void> {
    for (const c of this.children.splice(0)) await stopProcess(c, 2000);
  }
}

function sendArgs(to: string, plan: SendPlan): string[] {
  return [SCRIPT, 'send', `--to=${to}`, `--udp-count=${plan.udpCount ?? 0}`, `--udp-size=${plan.udpSize ?? 100}`, `--tcp-bytes=${plan.tcpBytes ?? 0}`, `--udp-flows=${plan.udpFlows ?? 0}`, ...(plan.port ? [`--port=${plan.port}`] : []), ...(plan.from ? [`--from=${plan.from}`] : []), ...(plan.sourcePortBase ? [`--source-port-base=${plan.sourcePortBase}`] : [])];
}

export async function send(from: Pod, to: string, plan: SendPlan): Promise<void> {
  if (plan.cpu === undefined) await inNetns(from.netns, process.execPath, sendArgs(to, plan));
  else await inNetns(from.netns, 'taskset', ['-c', String(plan.cpu), process.execPath, ...sendArgs(to, plan)]);
}

/**
 * Sends from a process in a node's network namespace (a hostNetwork pod or a
 * host process), optionally inside a cgroup: the process joins it before it
 * opens a socket. nsenter keeps the mount namespace, so the cgroup fs stays visible.
 */
export async function sendFromNode(netns: string, to: string, plan: SendPlan, cgroupDir?: string): Promise<void> {
  const args = ['nsenter', `--net=/run/netns/${netns}`, process.execPath, ...sendArgs(to, plan)].map((a) => `'${a}'`).join(' ');
  const join = cgroupDir ? `echo $$ > '${cgroupDir}/cgroup.procs' && ` : '';
  await run('sh', ['-c', `${join}exec ${args}`]);
}
