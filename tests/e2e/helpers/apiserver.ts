// A real Kubernetes API server for the tests: Debian's etcd and a
// kube-apiserver from the shared build cache (/var/cache/kubeadapt/kubernetes,
// built as docs/TOOLCHAIN.md says), both on 127.0.0.1 inside a network
// namespace the test made (so their ports never clash with anyone's), with
// token authentication. Stopped by PID; the data dir is removed. The test
// reaches it through a 127.0.0.1 proxy in its own namespace.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, startProcess, stopProcess } from './exec.js';

const CACHE = '/var/cache/kubeadapt/kubernetes';
const HERE = dirname(fileURLToPath(import.meta.url));
const ETCD_PORT = 23790;
const API_PORT = 16443;

/** The kube-apiserver binary of the shared build, or why there is none. */
export function findApiServer(): { path: string } | { reason: string } {
  if (!existsSync('/usr/bin/etcd')) return { reason: 'no /usr/bin/etcd (Debian package etcd-server)' };
  if (!existsSync(CACHE)) return { reason: `no ${CACHE}: build kube-apiserver as docs TOOLCHAIN.md says` };
  for (const v of readdirSync(CACHE).sort().reverse()) {
    const path = join(CACHE, v, 'bin', 'kube-apiserver');
    if (existsSync(path)) return { path };
  }
  return { reason: `no ${CACHE}/*/bin/kube-apiserver yet (being built?)` };
}

export class ApiServer {
  readonly adminToken = randomBytes(16).toString('hex');
  /** A user with only the rights the chart's ClusterRole grants (bound by the test). */
  readonly agentToken = randomBytes(16).toString('hex');
  readonly agentUser = 'ebpf-agent';
  private readonly dir = mkdtempSync(join(tmpdir(), 'ka-apiserver-'));
  private etcd: ChildProcess | undefined;
  private api: ChildProcess | undefined;
  private proxy: ChildProcess | undefined;
  private apiOutput: () => string = () => '';
  /** 127.0.0.1 port in the test's namespace that reaches the API server. */
  port = 0;

  constructor(private readonly binary: string, readonly netns: string) {}

  /** Server URL inside the namespace (for the agent's kubeconfig). */
  get innerUrl(): string {
    return `https://127.0.0.1:${API_PORT}`;
  }

  private ns(cmd: string, args: string[]): [string, string[]] {
    return ['nsenter', [`--net=/run/netns/${this.netns}`, cmd, ...args]];
  }

  async start(): Promise<this> {
    await run('openssl', ['genrsa', '-out', join(this.dir, 'sa.key'), '2048']);
    await run('openssl', ['rsa', '-in', join(this.dir, 'sa.key'), '-pubout', '-out', join(this.dir, 'sa.pub')]);
    writeFileSync(join(this.dir, 'tokens.csv'), `${this.adminToken},admin,admin,"system:masters"\n${this.agentToken},${this.agentUser},agent-uid\n`);
    await this.startEtcd();
    await this.startApi();
    const { child, output } = await startProcess('python3', [join(HERE, 'netns-proxy.py'), this.netns, '0', String(API_PORT)], /^ready \d+/m);
    this.proxy = child;
    this.port = Number(/^ready (\d+)/m.exec(output())![1]);
    await this.waitReady();
    return this;
  }

  private async startEtcd(): Promise<void> {
    const url = `http://127.0.0.1:${ETCD_PORT}`;
    const peer = `http://127.0.0.1:${ETCD_PORT + 1}`;
    const [cmd, args] = this.ns('/usr/bin/etcd', [
      '--name', 'ka', '--data-dir', join(this.dir, 'etcd'), '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `ka=${peer}`,
      '--listen-metrics-urls', `http://127.0.0.1:${ETCD_PORT + 2}`,
    ]);
    // etcd logs to stderr; startProcess watches stdout for the ready line.
    const line = [cmd, ...args].map((a) => `'${a}'`).join(' ');
    this.etcd = (await startProcess('sh', ['-c', `exec ${line} 2>&1`], /ready to serve client requests/, undefined, 30_000)).child;
  }

  /** (Re)starts the API server on the same etcd: the objects survive. */
  async startApi(): Promise<void> {
    const [cmd, args] = this.ns(this.binary, [
      `--etcd-servers=http://127.0.0.1:${ETCD_PORT}`, '--bind-address=127.0.0.1', `--secure-port=${API_PORT}`,
      `--cert-dir=${join(this.dir, 'certs')}`, `--token-auth-file=${join(this.dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC', '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(this.dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(this.dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16', '--advertise-address=127.0.0.1',
      // No controller-manager makes default ServiceAccounts: pods are admitted without one.
      '--disable-admission-plugins=ServiceAccount', '--enable-priority-and-fairness=false',
    ]);
    const started = await startProcess(cmd, args, null);
    this.api = started.child;
    this.apiOutput = started.output;
    if (this.port) await this.waitReady();
  }

  /** SIGTERM to the API server only (etcd keeps the objects). */
  async stopApi(): Promise<void> {
    if (this.api) await stopProcess(this.api, 10_000);
    this.api = undefined;
  }

  private async waitReady(timeoutMs = 90_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      if (this.api?.exitCode !== null && this.api?.exitCode !== undefined) throw new Error(`kube-apiserver exited ${this.api.exitCode}: ${this.apiOutput().slice(-2000)}`);
      try {
        const r = await this.request('GET', '/readyz');
        if (r.status === 200) return;
        last = `${r.status} ${r.text.slice(0, 300)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(250);
    }
    throw new Error(`kube-apiserver not ready after ${timeoutMs} ms (${last}): ${this.apiOutput().slice(-2000)}`);
  }

  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; text: string; json: () => any }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request({
        host: '127.0.0.1', port: this.port, path, method, rejectUnauthorized: false, timeout: 10_000,
        headers: { Authorization: `Bearer ${this.adminToken}`, Accept: 'application/json', ...(data ? { 'Content-Type': contentType } : {}) },
      }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  /** A request that must succeed (2xx); otherwise the error says what ran and what came back. */
  async call(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
    const r = await this.request(method, path, body, contentType);
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path} -> ${r.status}: ${r.text.slice(0, 500)}`);
    return r.text ? r.json() : undefined;
  }

  /** A kubeconfig for the agent (inside the namespace), with the agent's token. */
  writeKubeconfig(): string {
    const path = join(this.dir, 'agent.kubeconfig');
    writeFileSync(path, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'ka',
      clusters: [{ name: 'ka', cluster: { server: this.innerUrl, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'agent', user: { token: this.agentToken } }],
      contexts: [{ name: 'ka', context: { cluster: 'ka', user: 'agent' } }],
    }));
    return path;
  }

  async stop(): Promise<void> {
    if (this.proxy) await stopProcess(this.proxy, 2000);
    await this.stopApi();
    if (this.etcd) await stopProcess(this.etcd, 10_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
