// A small Kubernetes API client over node:https: JSON requests and watch
// streams with the pod's ServiceAccount or a kubeconfig's credentials. What
// the agent asks of the API is four kinds of call (list, watch, get, create a
// review); @kubernetes/client-node's KubeConfig alone loads the whole
// generated API (~75 MiB of RSS on a node: bench/ cost), more than the
// informers' data at 10k pods. client-node is loaded only for a kubeconfig in
// YAML or one that needs an exec or auth-provider plugin (outside a pod).
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The kubelet refreshes a projected token well before it expires; re-read it this often. */
const TOKEN_REREAD_MS = 60_000;

/** Backoff between failed calls or watches: the delay after n failures in a row. */
const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
export const retryDelayMs = (failures: number): number => RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]!;

export class ApiError extends Error {
  constructor(message: string, readonly statusCode: number) {
    super(message);
  }
}

/** TLS and the Authorization header of one request. */
type Authenticate = (opts: RequestOptions) => Promise<void>;

export class ApiClient {
  constructor(readonly server: string, private readonly authenticate: Authenticate) {}

  private async open(method: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(this.server.replace(/\/$/, '') + path);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const opts: RequestOptions = { method, headers, timeout: timeoutMs, ...(signal ? { signal } : {}) };
    await this.authenticate(opts);
    return new Promise((resolve, reject) => {
      // Loaded on the first request, as CommonJS: an ES import of node:http
      // loads undici (12 MiB, see metrics/server.ts), and node:https is 7 MiB
      // an agent without the Kubernetes API never needs.
      const { request } = url.protocol === 'http:' ? process.getBuiltinModule('node:http') : process.getBuiltinModule('node:https');
      const req = request(url, opts, resolve);
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** One request; the answer parsed. Rejects with ApiError (status and the start of the answer) unless 2xx. */
  async request(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 30_000): Promise<unknown> {
    const res = await this.open(method, path, body, timeoutMs);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) throw new ApiError(`${method} ${path}: ${status} ${text.slice(0, 300)}`, status);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`${method} ${path}: not JSON: ${(err as Error).message}`);
    }
  }

  /**
   * A watch: onEvent for each event the server streams, then done() once:
   * with no error when the server ended it (its timeout), else with why (an
   * ApiError for a refused watch, an AbortError after abort()).
   */
  watch(path: string, query: Record<string, string | number | boolean>, onEvent: (type: string, obj: unknown) => void, done: (err?: unknown) => void): AbortController {
    const abort = new AbortController();
    const q = new URLSearchParams({ watch: 'true', ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
    let finished = false;
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      // However the stream broke after abort() (a reset, a closed socket), it is the abort.
      done(abort.signal.aborted ? Object.assign(new Error(`watch ${path}: aborted`), { name: 'AbortError' }) : err);
    };
    // No socket timeout: a watch is quiet for minutes; the caller's watchdog aborts a dead one.
    this.open('GET', `${path}?${q}`, undefined, 0, abort.signal).then((res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(new ApiError(`watch ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`, res.statusCode ?? 0)));
        res.on('error', finish);
        return;
      }
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (!line.trim()) continue;
          let event: { type?: string; object?: unknown };
          try {
            event = JSON.parse(line);
          } catch (err) {
            abort.abort();
            return finish(new Error(`watch ${path}: an event that is not JSON: ${(err as Error).message}`));
          }
          onEvent(event.type ?? '', event.object);
        }
      });
      let ended = false;
      res.on('end', () => {
        ended = true;
        finish();
      });
      res.on('error', finish);
      // A stream cut without its end: aborted by us, or the connection dropped.
      res.on('close', () => {
        if (!ended) finish(new Error(`watch ${path}: connection closed`));
      });
    }, finish);
    return abort;
  }
}

interface KubeconfigJson {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster?: { server?: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean } }[];
  users?: { name: string; user?: Record<string, unknown> }[];
}

const LEAN_USER_FIELDS = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data']);

/** A JSON kubeconfig whose user needs nothing but a token or a client certificate; undefined otherwise. */
function leanKubeconfig(text: string): ApiClient | undefined {
  let kc: KubeconfigJson;
  try {
    kc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const ctx = kc.contexts?.find((c) => c.name === kc['current-context'])?.context;
  const cluster = kc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = kc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (!cluster?.server || Object.keys(user).some((k) => !LEAN_USER_FIELDS.has(k))) return undefined;
  const file = (path: unknown) => (typeof path === 'string' ? readFileSync(path) : undefined);
  const data = (b64: unknown) => (typeof b64 === 'string' ? Buffer.from(b64, 'base64') : undefined);
  const ca = data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  const cert = data(user['client-certificate-data']) ?? file(user['client-certificate']);
  const key = data(user['client-key-data']) ?? file(user['client-key']);
  const token = () => (typeof user.token === 'string' ? user.token : typeof user.tokenFile === 'string' ? readFileSync(user.tokenFile, 'utf8').trim() : undefined);
  return new ApiClient(cluster.server, async (opts) => {
    if (ca) opts.ca = ca;
    if (cert) opts.cert = cert;
    if (key) opts.key = key;
    if (cluster['insecure-skip-tls-verify']) opts.rejectUnauthorized = false;
    const t = token();
    if (t) (opts.headers as Record<string, string>).Authorization = `Bearer ${t}`;
  });
}

/** The pod's ServiceAccount: the API server's CA and a token the kubelet rotates. */
function inCluster(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT): ApiClient {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`;
  const ca = readFileSync(`${dir}/ca.crt`);
  let token = '';
  let readAt = 0;
  return new ApiClient(server, async (opts) => {
    if (Date.now() - readAt > TOKEN_REREAD_MS) {
      token = readFileSync(`${dir}/token`, 'utf8').trim();
      readAt = Date.now();
    }
    opts.ca = ca;
    (opts.headers as Record<string, string>).Authorization = `Bearer ${token}`;
  });
}

type LoadedClient = { client: ApiClient; source: string } | { reason: string };
const loaded = new Map<string, Promise<LoadedClient>>();

/**
 * One client per set of credentials for the whole agent: the enrichment, the
 * /metrics reviews and the DaemonSet watch each asked for their own and read
 * the same files (and, for a kubeconfig only client-node reads, built the same
 * KubeConfig) up to three times at start-up. A reason is not kept: the next
 * caller looks again.
 */
export function sharedApiClient(env: NodeJS.ProcessEnv): Promise<LoadedClient> {
  const key = [env.KUBECONFIG, env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT].map((v) => v ?? '').join('|');
  let p = loaded.get(key);
  if (!p) {
    p = loadApiClient(env).then((r) => {
      if ('reason' in r) loaded.delete(key);
      return r;
    });
    loaded.set(key, p);
  }
  return p;
}

/**
 * The API's credentials: KUBECONFIG when set (tests, running outside a pod),
 * else the pod's ServiceAccount; a reason when neither is there.
 */
export async function loadApiClient(env: NodeJS.ProcessEnv): Promise<LoadedClient> {
  if (env.KUBECONFIG) {
    const source = `KUBECONFIG=${env.KUBECONFIG}`;
    try {
      const lean = leanKubeconfig(readFileSync(env.KUBECONFIG, 'utf8'));
      if (lean) return { client: lean, source };
      // YAML, exec or auth-provider plugins: client-node's KubeConfig knows them all.
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      kc.loadFromFile(env.KUBECONFIG);
      const server = kc.getCurrentCluster()?.server;
      if (!server) return { reason: `${source}: no current cluster` };
      return { client: new ApiClient(server, (opts) => kc.applyToHTTPSOptions(opts)), source };
    } catch (err) {
      return { reason: `${source}: ${(err as Error).message}` };
    }
  }
  if (!env.KUBERNETES_SERVICE_HOST) return { reason: 'neither KUBECONFIG nor KUBERNETES_SERVICE_HOST is set: not in a pod' };
  try {
    return { client: inCluster(env), source: 'in-cluster service account' };
  } catch (err) {
    return { reason: `in-cluster service account: ${(err as Error).message}` };
  }
}
