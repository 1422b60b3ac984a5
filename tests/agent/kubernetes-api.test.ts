// The agent's small Kubernetes API client (agent/src/kubernetes/api.ts)
// against a local HTTP server: credentials from a kubeconfig (JSON kept lean,
// YAML through client-node, which wants insecure-skip-tls-verify for plain
// HTTP), requests, and watch streams cut anywhere.
import test from 'ava';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ApiError, loadApiClient, sharedApiClient, type ApiClient } from '../../agent/src/kubernetes/api.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function withServer(t: import('ava').ExecutionContext, handler: Handler, user: Record<string, unknown> = { token: 'secret' }, yaml = false): Promise<ApiClient> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  const dir = mkdtempSync(join(tmpdir(), 'ka-api-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = join(dir, 'kubeconfig');
  if (yaml) {
    writeFileSync(file, `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    insecure-skip-tls-verify: true\n    server: ${server_}\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user:\n    token: ${String(user.token)}\n`);
  } else {
    writeFileSync(file, JSON.stringify({
      'current-context': 'c', clusters: [{ name: 'k', cluster: { server: server_, 'insecure-skip-tls-verify': true } }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }], users: [{ name: 'u', user }],
    }));
  }
  const found = await loadApiClient({ KUBECONFIG: file });
  if ('reason' in found) throw new Error(found.reason);
  return found.client;
}

for (const yaml of [false, true]) {
  test(`a ${yaml ? 'YAML' : 'JSON'} kubeconfig: requests carry its token; a refusal is an ApiError with the status`, async (t) => {
    const seen: string[] = [];
    const api = await withServer(t, (req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url === '/missing') return res.writeHead(404).end('{"kind":"Status","code":404}');
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ echo: body ? JSON.parse(body) : null }));
      });
    }, { token: 'secret' }, yaml);
    t.deepEqual(await api.request('GET', '/api/v1/nodes?limit=2'), { echo: null });
    t.deepEqual(await api.request('POST', '/apis/x', { spec: { a: 1 } }), { echo: { spec: { a: 1 } } });
    const err = await t.throwsAsync(api.request('GET', '/missing'));
    t.true(err instanceof ApiError);
    t.is((err as ApiError).statusCode, 404);
    t.deepEqual(seen, ['GET /api/v1/nodes?limit=2 Bearer secret', 'POST /apis/x Bearer secret', 'GET /missing Bearer secret']);
  });
}

test('a kubeconfig the lean reader cannot serve (an exec plugin) is not guessed at: it goes to client-node', async (t) => {
  // client-node runs the plugin for a token: here a shell that prints one.
  const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: 'sh', args: ['-c', 'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}\''], interactiveMode: 'Never' };
  let auth = '';
  const api = await withServer(t, (req, res) => {
    auth = String(req.headers.authorization);
    res.writeHead(200).end('{}');
  }, { exec });
  await api.request('GET', '/version');
  t.is(auth, 'Bearer from-exec');
});

test('a watch: events split across chunks arrive whole and in order; the server ending it is a clean end', async (t) => {
  let query = '';
  const api = await withServer(t, (req, res) => {
    query = req.url!;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const lines = [
      JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '1' } } }),
      JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '2' } } }),
      JSON.stringify({ type: 'DELETED', object: { metadata: { name: 'a', resourceVersion: '3' } } }),
    ].join('\n') + '\n';
    // Cut mid-line, and mid-character of a multi-byte name would be too: one byte at a time for the first 30.
    let i = 0;
    const tick = () => {
      if (i >= lines.length) return void res.end();
      const n = i < 30 ? 1 : 17;
      res.write(lines.slice(i, i + n));
      i += n;
      setImmediate(tick);
    };
    tick();
  });
  const events: string[] = [];
  const err = await new Promise<unknown>((resolve) => {
    api.watch('/api/v1/pods', { resourceVersion: '7', allowWatchBookmarks: true }, (type, obj) => events.push(`${type} ${(obj as { metadata: { resourceVersion: string } }).metadata.resourceVersion}`), resolve);
  });
  t.is(err, undefined);
  t.deepEqual(events, ['ADDED 1', 'BOOKMARK 2', 'DELETED 3']);
  t.is(query, '/api/v1/pods?watch=true&resourceVersion=7&allowWatchBookmarks=true');
});

test('a watch refused (403) ends with an ApiError; an aborted one with an AbortError', async (t) => {
  const api = await withServer(t, (req, res) => {
    if (req.url!.startsWith('/forbidden')) return res.writeHead(403).end('{"code":403}');
    res.writeHead(200);
    res.write('{"type":"ADDED","object":{"metadata":{"name":"x"}}}\n');
  });
  const refused = await new Promise<unknown>((resolve) => api.watch('/forbidden', {}, () => t.fail('no events'), resolve));
  t.true(refused instanceof ApiError);
  t.is((refused as ApiError).statusCode, 403);
  let abort: AbortController | undefined;
  const aborted = await new Promise<unknown>((resolve) => {
    abort = api.watch('/open', {}, () => abort!.abort(), resolve);
  });
  t.is((aborted as Error).name, 'AbortError');
});

test('no KUBECONFIG and not in a pod: a reason, no client', async (t) => {
  t.deepEqual(await loadApiClient({}), { reason: 'neither KUBECONFIG nor KUBERNETES_SERVICE_HOST is set: not in a pod' });
  const bad = await loadApiClient({ KUBECONFIG: '/nonexistent/kubeconfig' });
  t.regex('reason' in bad ? bad.reason : '', /^KUBECONFIG=\/nonexistent\/kubeconfig: ENOENT/);
});

test('sharedApiClient: one client per set of credentials; a reason is not kept, so a kubeconfig written later is found', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ka-shared-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { KUBECONFIG: join(dir, 'kubeconfig') };
  const missing = await sharedApiClient(env);
  t.true('reason' in missing);
  writeFileSync(env.KUBECONFIG, JSON.stringify({
    'current-context': 'c', clusters: [{ name: 'k', cluster: { server: 'http://127.0.0.1:1' } }],
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }], users: [{ name: 'u', user: { token: 't' } }],
  }));
  const [a, b] = await Promise.all([sharedApiClient(env), sharedApiClient({ ...env })]);
  if ('reason' in a || 'reason' in b) throw new Error('no client');
  t.is(a.client, b.client);
  const other = await sharedApiClient({ KUBECONFIG: env.KUBECONFIG, KUBERNETES_SERVICE_HOST: '10.96.0.1' });
  if ('reason' in other) throw new Error(other.reason);
  t.not(other.client, a.client);
});
