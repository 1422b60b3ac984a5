// EBPF_METRICS_AUTH=kubernetes against a real kube-apiserver (v1.34.4, Debian's
// etcd) and Debian's Prometheus: the real agent (node agent/dist/main.js) runs in
// a network namespace of its own, reaches the API server through a forwarder
// and is reached through another. A token whose ServiceAccount has the reader
// ClusterRole gets 200, one without gets 403, none gets 401; a client that does
// not trust the agent's certificate fails the handshake; a renewed certificate
// is served without a restart; Prometheus scrapes with bearer token + TLS.
import test from 'ava';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, renameSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiserverUnavailable, freePort, startApiserver, type RunningApiserver } from '../helpers/apiserver.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { AGENT_MAIN } from '../e2e/helpers/agent-process.js';
import { run, startProcess, stopProcess } from '../e2e/helpers/exec.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROXY = join(HERE, '..', 'e2e', 'helpers', 'netns-proxy.py');
const ID = `auth${process.pid}`;
const NETNS = ID;
const AGENT_PORT = 9443;
const READER_ROLE = 'ebpf-agent-metrics-reader';

/** A CA and a server certificate for 127.0.0.1 signed by it, in dir/<name>-*. */
function makeCertificates(dir: string, name: string): { ca: string; cert: string; key: string } {
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name} test CA`, '-keyout', `${name}-ca.key`, '-out', `${name}-ca.crt`]);
  o(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=ebpf-agent', '-keyout', `${name}-tls.key`, '-out', `${name}-tls.csr`]);
  writeFileSync(join(dir, `${name}-ext.cnf`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  o(['x509', '-req', '-in', `${name}-tls.csr`, '-CA', `${name}-ca.crt`, '-CAkey', `${name}-ca.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}-ext.cnf`, '-out', `${name}-tls.crt`]);
  return { ca: join(dir, `${name}-ca.crt`), cert: join(dir, `${name}-tls.crt`), key: join(dir, `${name}-tls.key`) };
}

interface Reply { status: number; body: string; headers: Record<string, unknown> }

function get(port: number, path: string, opts: { ca?: string; token?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca: opts.ca ? readFileSync(opts.ca) : undefined, headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

/** The serial number of the certificate the server presents now. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().serialNumber);
      s.end();
    });
    s.on('error', reject);
  });
}

const unavailable = apiserverUnavailable();
if (unavailable) {
  // Loud: a skipped security test must not look like a passed one.
  process.stderr.write(`\n*** metrics-auth: SKIPPED: no real kube-apiserver: ${unavailable} ***\n\n`);
  test.skip(`EBPF_METRICS_AUTH=kubernetes against a real kube-apiserver — SKIPPED: ${unavailable}`, () => undefined);
} else {
  let api: RunningApiserver;
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  let wrong: ReturnType<typeof makeCertificates>;
  const children: ChildProcess[] = [];
  let port = 0;
  let agentOut = () => '';
  const tokens = { scraper: '', stranger: '', agent: '' };

  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeadapt-auth-'));
    certs = makeCertificates(dir, 'agent');
    wrong = makeCertificates(dir, 'other');
    // Where the chart mounts the Secret's tls.crt and tls.key.
    writeFileSync(join(dir, 'tls.crt'), readFileSync(certs.cert));
    writeFileSync(join(dir, 'tls.key'), readFileSync(certs.key));
    api = await startApiserver();
    // The agent's own identity may create reviews (what the chart's ClusterRoleBinding grants).
    tokens.agent = await api.serviceAccountToken('kubeadapt', 'ebpf-agent');
    await api.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'ebpf-agent-auth-delegator' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: 'ebpf-agent', namespace: 'kubeadapt' }],
    });
    await api.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: READER_ROLE },
      rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    });
    tokens.scraper = await api.serviceAccountToken('monitoring', 'prometheus');
    await api.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: READER_ROLE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: READER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'monitoring' }],
    });
    tokens.stranger = await api.serviceAccountToken('default', 'stranger');

    await run('ip', ['netns', 'add', NETNS]);
    await run('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', NETNS, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1']);
    await run('ip', ['-n', NETNS, 'link', 'set', 'veth0', 'up']);
    // Inside the namespace, 127.0.0.1:<apiPort> forwards to the API server in ours.
    const apiPort = Number(new URL(api.url).port);
    const inner = await startProcess('nsenter', [`--net=/run/netns/${NETNS}`, 'python3', PROXY, `../../proc/${process.pid}/ns/net`, String(apiPort), String(apiPort)], /^ready \d+/m);
    children.push(inner.child);
    const kubeconfig = await api.kubeconfig(tokens.agent);
    const agent = await startProcess('nsenter', [`--net=/run/netns/${NETNS}`, process.execPath, AGENT_MAIN], /serving metrics/, {
      PATH: process.env.PATH, KUBECONFIG: kubeconfig,
      EBPF_METRICS_AUTH: 'kubernetes', EBPF_METRICS_TLS_CERT_FILE: join(dir, 'tls.crt'), EBPF_METRICS_TLS_KEY_FILE: join(dir, 'tls.key'),
      EBPF_METRICS_PORT: String(AGENT_PORT), EBPF_METRICS_ADDRESS: '127.0.0.1',
      EBPF_BPF_PIN_PATH: `/sys/fs/bpf/${ID}`, EBPF_ON_SHUTDOWN: 'cleanup', EBPF_COLLECTION_INTERVAL: '1s', EBPF_NETNS_FILTER_MODE: 'disabled',
    }, 30_000);
    children.push(agent.child);
    agentOut = agent.output;
    const outer = await startProcess('python3', [PROXY, NETNS, String(await freePort()), String(AGENT_PORT)], /^ready \d+/m);
    children.push(outer.child);
    port = Number(/^ready (\d+)/m.exec(outer.output())![1]);
  });

  test.after.always(async () => {
    for (const c of children.reverse()) await stopProcess(c).catch(() => undefined);
    await run('ip', ['netns', 'del', NETNS], { allowFail: true });
    await run('rm', ['-rf', `/sys/fs/bpf/${ID}`], { allowFail: true });
    await api?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.serial('a token with the reader ClusterRole gets 200, one without 403, none 401', async (t) => {
    const ok = await get(port, '/metrics', { ca: certs.ca, token: tokens.scraper });
    t.is(ok.status, 200, `${ok.body}\n${agentOut()}`);
    t.regex(ok.body, /^# HELP kubeadapt_/m);
    const forbidden = await get(port, '/metrics', { ca: certs.ca, token: tokens.stranger });
    t.is(forbidden.status, 403);
    t.is(forbidden.body, 'forbidden: system:serviceaccount:default:stranger may not get /metrics\n');
    const none = await get(port, '/metrics', { ca: certs.ca });
    t.is(none.status, 401);
    t.is(none.headers['www-authenticate'], 'Bearer realm="ebpf-agent"');
    const made = await get(port, '/metrics', { ca: certs.ca, token: 'not-a-token' });
    t.is(made.status, 401);
    t.regex(made.body, /^unauthorized: /);
    // The agent's own token may create reviews but not read /metrics: the two are apart.
    t.is((await get(port, '/metrics', { ca: certs.ca, token: tokens.agent })).status, 403);
  });

  test.serial('/health/* stays open for the kubelet; plain HTTP gets no answer', async (t) => {
    t.is((await get(port, '/health/live', { ca: certs.ca })).status, 200);
    const ready = await get(port, '/health/ready', { ca: certs.ca });
    t.true(ready.status === 200 || ready.status === 503, String(ready.status));
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/metrics' }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code}`));
      req.end();
    });
    t.regex(plain, /^error (ECONNRESET|EPIPE|HPE_)/, plain);
  });

  test.serial('a client that does not trust the agent\'s certificate fails the handshake', async (t) => {
    const err = await t.throwsAsync(get(port, '/metrics', { ca: wrong.ca, token: tokens.scraper }));
    t.is((err as NodeJS.ErrnoException).code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test.serial('Prometheus scrapes through it with bearer token and TLS', async (t) => {
    const tokenFile = join(dir, 'prometheus-token');
    writeFileSync(tokenFile, tokens.scraper);
    const prom = await startPrometheus({
      targets: [`127.0.0.1:${port}`], job: 'authed',
      scrapeConfig: { scheme: 'https', tls_config: { ca_file: certs.ca }, authorization: { type: 'Bearer', credentials_file: tokenFile } },
    });
    t.teardown(() => prom.stop());
    await prom.waitForScrapes(2);
    const up = await prom.instantQuery('up{job="authed"}');
    t.deepEqual(up.map((s) => s.value), [1], prom.log());
    const series = await prom.instantQuery('count({job="authed",__name__=~"kubeadapt_.+"})');
    t.true((series[0]?.value ?? 0) > 0);
  });

  test.serial('a renewed certificate is served without a restart', async (t) => {
    const before = await servedSerial(port);
    // What the kubelet does to a Secret volume: new files swapped in at once.
    writeFileSync(join(dir, 'tls.crt.new'), readFileSync(wrong.cert));
    writeFileSync(join(dir, 'tls.key.new'), readFileSync(wrong.key));
    renameSync(join(dir, 'tls.key.new'), join(dir, 'tls.key'));
    renameSync(join(dir, 'tls.crt.new'), join(dir, 'tls.crt'));
    const want = execFileSync('openssl', ['x509', '-in', wrong.cert, '-noout', '-serial'], { encoding: 'utf8' }).trim().replace(/^serial=/, '');
    let now = before;
    for (let i = 0; i < 60 && now === before; i++) {
      await new Promise((r) => setTimeout(r, 500));
      now = await servedSerial(port);
    }
    t.not(before, want);
    t.is(now.toUpperCase(), want.toUpperCase());
    t.is((await get(port, '/metrics', { ca: wrong.ca, token: tokens.scraper })).status, 200);
  });
}
