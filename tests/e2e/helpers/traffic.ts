// Drives traffic between the simulated pods with traffic.mjs.
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inNetns, startProcess, stopProcess } from './exec.js';
import type { Pod } from './topology.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'traffic.mjs');

export interface SendPlan {
  udpCount?: number;
  udpSize?: number;
  tcpBytes?: number;
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

export async function send(from: Pod, to: string, plan: SendPlan): Promise<void> {
  await inNetns(from.netns, process.execPath, [
    SCRIPT, 'send', `--to=${to}`, `--udp-count=${plan.udpCount ?? 0}`, `--udp-size=${plan.udpSize ?? 100}`, `--tcp-bytes=${plan.tcpBytes ?? 0}`,
  ]);
}
