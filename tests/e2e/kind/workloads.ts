// Kubernetes side of the scenarios: the traffic pods, exec into them, and the
// agents' /metrics through a port-forward.
import { CoreV1Api, Exec, KubeConfig, PortForward, type V1Pod } from '@kubernetes/client-node';
import { request } from 'node:http';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { formatIPv6 } from '../../../agent/src/bpf/ip.js';
import { waitFor } from './command.js';
import { parseMetrics, type Sample } from './metrics-text.js';
import { IDLE_SCRIPT, SERVER_SCRIPT } from './traffic-scripts.js';

/** An address as the agent writes it in src_ip/dst_ip (RFC 5952 for IPv6). */
export function labelIp(text: string): string {
  const kind = isIP(text);
  if (kind === 4) return text;
  if (kind !== 6) throw new Error(`${JSON.stringify(text)} is not an IP address`);
  const [head, tail] = text.toLowerCase().split('::') as [string, string?];
  const part = (s: string | undefined) => (s ? s.split(':') : []);
  const groups = tail === undefined
    ? part(head)
    : [...part(head), ...Array<string>(8 - part(head).length - part(tail).length).fill('0'), ...part(tail)];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), i * 2));
  return formatIPv6(buf, 0);
}

export const TCP_PORT = 7000;
export const UDP_PORT = 7001;

export interface PodProps {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly image: string;
  readonly args: readonly string[];
}

/** A pod pinned to a node that runs `node <args>` from the agent image. */
export function nodePod(p: PodProps): V1Pod {
  return {
    metadata: { name: p.name, namespace: p.namespace, labels: { 'app.kubernetes.io/part-of': 'ebpf-agent-e2e' } },
    spec: {
      nodeName: p.node,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: p.image, imagePullPolicy: 'Never', command: ['node', ...p.args] }],
    },
  };
}

export const serverArgs = (families: string): string[] => ['-e', SERVER_SCRIPT, String(TCP_PORT), String(UDP_PORT), families];
export const idleArgs = (): string[] => ['-e', IDLE_SCRIPT];

export interface RunningPod {
  readonly name: string;
  readonly node: string;
  readonly ipv4: string;
  readonly ipv6?: string;
}

export async function createRunningPod(core: CoreV1Api, pod: V1Pod): Promise<RunningPod> {
  const namespace = pod.metadata!.namespace!;
  const name = pod.metadata!.name!;
  await core.createNamespacedPod({ namespace, body: pod });
  return waitFor(`pod ${namespace}/${name} running`, async () => {
    const p = await core.readNamespacedPod({ name, namespace });
    if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') {
      throw new Error(`pod ${name} ended: ${JSON.stringify(p.status?.containerStatuses?.[0]?.state)}`);
    }
    const ready = p.status?.containerStatuses?.[0]?.ready === true;
    const ips = (p.status?.podIPs ?? []).map((i) => i.ip);
    if (!ready || ips.length === 0) return undefined;
    return { name, node: p.spec!.nodeName!, ipv4: ips.find((ip) => isIP(ip) === 4)!, ipv6: ips.find((ip) => isIP(ip) === 6) };
  }, 120_000);
}

/** Runs a command in a pod's container; resolves with stdout when it exits 0. */
export function execIn(kc: KubeConfig, namespace: string, pod: string, command: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => { out += d.toString(); });
    stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => reject(new Error(`exec in ${pod} timed out after ${timeoutMs} ms`)), timeoutMs);
    new Exec(kc).exec(namespace, pod, 'main', command, stdout, stderr, null, false, (status) => {
      clearTimeout(timer);
      // The status frame can arrive before the last stdout frame is handled.
      setImmediate(() => status.status === 'Success'
        ? resolve(out)
        : reject(new Error(`exec in ${pod} failed: ${status.message ?? JSON.stringify(status)}\n${err}`)));
    }).catch((e: unknown) => { clearTimeout(timer); reject(e as Error); });
  });
}

/** One agent pod's /metrics, reached through a port-forward on 127.0.0.1. */
export class ForwardedAgent {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private localPort = 0;

  constructor(
    private readonly kc: KubeConfig,
    readonly namespace: string,
    readonly pod: string,
    readonly node: string,
    private readonly port: number,
  ) {}

  async start(): Promise<void> {
    const forward = new PortForward(this.kc);
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      forward.portForward(this.namespace, this.pod, [this.port], socket, null, socket)
        .then((ws) => socket.on('close', () => (typeof ws === 'function' ? ws() : ws)?.close()))
        .catch((e: unknown) => socket.destroy(e as Error));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.localPort = (server.address() as { port: number }).port;
  }

  /** GET /metrics, parsed. */
  metrics(): Promise<Sample[]> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.localPort, path: '/metrics', agent: false, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { body += d; });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${this.pod} /metrics: HTTP ${res.statusCode}`));
          else {
            try { resolve(parseMetrics(body)); } catch (e) { reject(e as Error); }
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${this.pod} /metrics timed out`)));
      req.on('error', reject);
      req.end();
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
