// Runs the real agent (`node agent/dist/main.js`) inside a simulated node's
// network namespace and reads its /metrics through a 127.0.0.1 proxy.
import type { ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, stopProcess } from './exec.js';
import type { SimulatedNode } from './topology.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const PROJECT = resolve(HERE, '..', '..', '..');
export const AGENT_MAIN = join(PROJECT, 'agent', 'dist', 'main.js');
const AGENT_PORT = 9090;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The pair families' samples as `src|dst|protocol` -> bytes, packets. */
export function trafficOf(samples: readonly Sample[]): Map<string, { bytes: number; packets: number }> {
  const out = new Map<string, { bytes: number; packets: number }>();
  for (const s of samples) {
    const field = s.name === 'kubeadapt_connection_traffic_bytes_total' ? 'bytes' : s.name === 'kubeadapt_connection_traffic_packets_total' ? 'packets' : undefined;
    if (!field) continue;
    const key = `${s.labels.src_ip}|${s.labels.dst_ip}|${s.labels.protocol}`;
    const v = out.get(key) ?? { bytes: 0, packets: 0 };
    v[field] = s.value;
    out.set(key, v);
  }
  return out;
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export class AgentProcess {
  private constructor(
    readonly node: SimulatedNode,
    private readonly agent: ChildProcess,
    private readonly proxy: ChildProcess,
    readonly port: number,
    readonly pinPath: string,
    readonly output: () => string,
  ) {}

  /**
   * listenPort: the 127.0.0.1 port in the caller's namespace (0 picks a free
   * one). nodeFlags: on node's command line, before the script, as the image's
   * ENTRYPOINT has them (NODE_OPTIONS refuses most V8 flags).
   */
  static async start(node: SimulatedNode, env: Record<string, string> = {}, listenPort = 0, waitLive = true, nodeFlags: readonly string[] = []): Promise<AgentProcess> {
    const pinPath = env.EBPF_BPF_PIN_PATH ?? `/sys/fs/bpf/${node.id}`;
    const agentEnv = {
      ...process.env,
      EBPF_METRICS_ADDRESS: '127.0.0.1',
      EBPF_METRICS_PORT: String(AGENT_PORT),
      EBPF_COLLECTION_INTERVAL: '1s',
      EBPF_BPF_PIN_PATH: pinPath,
      EBPF_LOG_FORMAT: 'json',
      ...env,
    };
    const { child, output } = await startProcess('nsenter', [`--net=/run/netns/${node.netns}`, process.execPath, ...nodeFlags, AGENT_MAIN], null, agentEnv);
    let proxy;
    try {
      proxy = await startProcess('python3', [join(HERE, 'netns-proxy.py'), node.netns, String(listenPort), String(AGENT_PORT)], /^ready \d+/m);
    } catch (err) {
      await stopProcess(child);
      throw err;
    }
    const port = Number(/^ready (\d+)/m.exec(proxy.output())![1]);
    const agent = new AgentProcess(node, child, proxy.child, port, pinPath, output);
    try {
      if (waitLive) await agent.waitLive();
    } catch (err) {
      await agent.stop();
      throw err;
    }
    return agent;
  }

  get pid(): number {
    return this.agent.pid!;
  }

  /** null while the agent runs. */
  exitCode(): number | null {
    return this.agent.exitCode ?? (this.agent.signalCode ? 128 : null);
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    // A stuck proxy or agent fails the test with a clear error, not a hang.
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, text: await res.text() };
  }

  async samples(): Promise<Sample[]> {
    const { status, text } = await this.get('/metrics');
    if (status !== 200) throw new Error(`/metrics answered ${status}`);
    return parseMetrics(text);
  }

  /** Until the HTTP server answers /health/live. */
  waitLive(timeoutMs = 15_000): Promise<void> {
    return this.waitFor('/health/live', timeoutMs);
  }

  /** Until /health/ready: programs attached and a first collection done. */
  waitReady(timeoutMs = 20_000): Promise<void> {
    return this.waitFor('/health/ready', timeoutMs);
  }

  private async waitFor(path: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const r = await this.get(path).catch(() => ({ status: 0, text: '' }));
      if (r.status === 200) return;
      if (this.exitCode() !== null) throw new Error(`agent exited (${this.agent.exitCode ?? this.agent.signalCode}): ${this.output()}`);
      await sleep(100);
    }
    throw new Error(`agent: no 200 from ${path} after ${timeoutMs} ms: ${this.output()}`);
  }

  async collections(): Promise<number> {
    const s = (await this.samples()).find((x) => x.name === 'kubeadapt_ebpf_collection_duration_seconds_count');
    return s?.value ?? 0;
  }

  /** Waits until `n` more collections completed: two guarantee that a drain started after now. */
  async waitForCollections(n = 2, timeoutMs = 20_000): Promise<void> {
    const target = (await this.collections()) + n;
    const until = Date.now() + timeoutMs;
    while ((await this.collections()) < target) {
      if (Date.now() > until) throw new Error(`fewer than ${n} collections in ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Traffic counters per pair: `src|dst|protocol` -> bytes, packets. */
  async traffic(): Promise<Map<string, { bytes: number; packets: number }>> {
    return trafficOf(await this.samples());
  }

  /** SIGTERM (graceful); returns the exit code. */
  async stop(): Promise<number | null> {
    await stopProcess(this.proxy, 2000);
    return stopProcess(this.agent, 15_000);
  }

  /** SIGKILL, as a crash or an OOM kill would. */
  async kill(): Promise<void> {
    const exited = new Promise((r) => this.agent.once('exit', r));
    this.agent.kill('SIGKILL');
    await exited;
    await stopProcess(this.proxy, 2000);
  }
}
