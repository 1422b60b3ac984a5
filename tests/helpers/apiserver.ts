// A real kube-apiserver for a test: Debian's etcd and the v1.34.4 kube-apiserver
// built into /var/cache/kubeadapt (docs: /work/shared/TOOLCHAIN.md), both on
// 127.0.0.1 with ports and directories of their own, RBAC on, an admin token,
// and ServiceAccount tokens minted through the TokenRequest API. stop() kills
// both by PID and removes the directory; callers register it with t.teardown().
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const KUBE_APISERVER = process.env.KUBE_APISERVER_BIN ?? '/var/cache/kubeadapt/kubernetes/v1.34.4/bin/kube-apiserver';
export const ETCD = process.env.ETCD_BIN ?? '/usr/bin/etcd';

/** Why a real API server cannot run here, or undefined when it can. */
export function apiserverUnavailable(): string | undefined {
  if (!existsSync(KUBE_APISERVER)) return `${KUBE_APISERVER} is missing (build it as /work/shared/TOOLCHAIN.md says)`;
  if (!existsSync(ETCD)) return `${ETCD} is missing (apt-get install etcd-server)`;
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningApiserver {
  readonly url: string;
  /** The API server's self-signed serving certificate (its own CA). */
  readonly ca: string;
  readonly dir: string;
  /** Admin request; throws with the status and body on anything but 2xx. */
  call(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Creates the ServiceAccount when needed and returns a fresh token for it. */
  serviceAccountToken(namespace: string, name: string): Promise<string>;
  /** A kubeconfig file in dir that authenticates with `token`. */
  kubeconfig(token: string, server?: string): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function spawnLogged(cmd: string, args: string[]): { child: ChildProcess; out: () => string } {
  // --pdeathsig: a test worker that dies takes its servers with it.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, out: () => out };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

export async function startApiserver(): Promise<RunningApiserver> {
  const dir = await mkdtemp(join(tmpdir(), 'kubeadapt-apiserver-'));
  const children: ChildProcess[] = [];
  const logs: (() => string)[] = [];
  const stop = async () => {
    for (const c of children.reverse()) await kill(c);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
    openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
    const adminToken = `admin-${process.pid}-${Date.now()}`;
    await writeFile(join(dir, 'tokens.csv'), `${adminToken},admin,admin,system:masters\n`);
    const etcd = spawnLogged(ETCD, [
      '--name', 'test', '--data-dir', join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `test=http://127.0.0.1:${etcdPeer}`, '--log-level', 'warn',
    ]);
    children.push(etcd.child);
    logs.push(etcd.out);
    const api = spawnLogged(KUBE_APISERVER, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--enable-priority-and-fairness=false',
      '--v=0',
    ]);
    children.push(api.child);
    logs.push(api.out);
    const url = `https://127.0.0.1:${apiPort}`;
    const certFile = join(dir, 'pki', 'apiserver.crt');
    const deadline = Date.now() + 120_000;
    let ca = '';
    const call = (method: string, path: string, body?: unknown): Promise<unknown> => new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${url}${path}`, {
        method, ca, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', accept: 'application/json' },
      }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(text.startsWith("{") ? JSON.parse(text) : text);
          else reject(Object.assign(new Error(`${method} ${path}: ${res.statusCode} ${text}`), { statusCode: res.statusCode }));
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
    for (;;) {
      if (api.child.exitCode !== null) throw new Error(`kube-apiserver exited ${api.child.exitCode}: ${api.out().slice(-3000)}`);
      if (existsSync(certFile)) {
        ca = readFileSync(certFile, 'utf8');
        const ok = await call('GET', '/readyz').then(() => true, () => false);
        if (ok) break;
      }
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready after 120 s: ${api.out().slice(-3000)}\netcd: ${etcd.out().slice(-2000)}`);
      await sleep(500);
    }
    const ensure = async (path: string, body: unknown) => {
      await call('POST', path, body).catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 409) throw err;
      });
    };
    return {
      url, ca, dir, call,
      async serviceAccountToken(namespace, name) {
        await ensure('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
        await ensure(`/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
        const r = await call('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
          apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 },
        }) as { status: { token: string } };
        return r.status.token;
      },
      async kubeconfig(token, server = url) {
        const file = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}.json`);
        await writeFile(file, JSON.stringify({
          apiVersion: 'v1', kind: 'Config', 'current-context': 'test',
          clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
          users: [{ name: 'test', user: { token } }],
          contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
        }));
        return file;
      },
      log: () => logs.map((l) => l().slice(-3000)).join('\n---\n'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
