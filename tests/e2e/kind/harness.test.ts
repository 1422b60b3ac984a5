// The parts of the kind suite that need no Docker engine, run for real here:
// the chart through the local OCI registry and rendered with the suite's values,
// the traffic programs the pods run, and the /metrics reader. The cluster
// scenarios themselves are in kind.test.ts.
import test from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counter, Registry } from 'prom-client';
import { parse, parseAllDocuments } from 'yaml';
import { METRICS } from '../../../agent/src/metrics/definitions.js';
import { SETTINGS } from '../../../agent/src/config/settings.js';
import { agentValues, E2E_VALUES, setFlags } from './cluster.js';
import { run, waitFor, works } from './command.js';
import { readOptions } from './env.js';
import { parseMetrics, valueOf } from './metrics-text.js';
import { freePort, LocalChartRegistry } from './registry.js';
import { CLIENT_SCRIPT, parseLines, SERVER_SCRIPT, type ClientReport, type ServerLine } from './traffic-scripts.js';
import { labelIp } from './workloads.js';

const haveTools = works('helm', ['version', '--short']) && works('docker-registry', ['--version']);

const CHART_DIR = fileURLToPath(new URL('../../../dist/charts/ebpf-agent', import.meta.url));

type Container = { name: string; image: string; imagePullPolicy: string; env?: { name: string; value?: string }[]; ports?: { containerPort: number }[] };
type DaemonSet = { kind: string; spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; initContainers?: Container[] } } } };

if (haveTools) {
  test('the chart goes through the local OCI registry and renders from there with the suite\'s values, as the suite expects', async (t) => {
    const registry = new LocalChartRegistry();
    try {
      await registry.start();
      const chartYaml = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { name: string; version: string };
      const published = await registry.publish(CHART_DIR);
      t.deepEqual(published, { name: chartYaml.name, version: chartYaml.version, ref: `oci://${registry.host}/charts/${chartYaml.name}` });
      await t.throwsAsync(run('helm', ['show', 'chart', published.ref, '--version', '999.0.0', '--plain-http'], { env: registry.helmEnv }),
        { message: /999\.0\.0/ });

      // The same reference, version and values helm install gets in kind.test.ts.
      const image = readOptions({}).agentImage;
      const { stdout } = await run('helm', [
        'template', 'ebpf-agent', published.ref, '--version', published.version, '--plain-http',
        '--namespace', 'ebpf-agent-e2e', '--kube-version', '1.24.0', ...setFlags(agentValues(image, E2E_VALUES)),
      ], { env: registry.helmEnv });
      const docs = parseAllDocuments(stdout).map((d) => d.toJS() as DaemonSet).filter((d) => d?.kind === 'DaemonSet');
      t.is(docs.length, 1);
      const ds = docs[0]!.spec;
      // The suite finds the agent pods by the DaemonSet's selector.
      for (const [k, v] of Object.entries(ds.selector.matchLabels)) t.is(ds.template.metadata.labels[k], v, k);
      const [agent] = ds.template.spec.containers;
      t.is(agent!.image, image);
      t.is(agent!.imagePullPolicy, 'Never');
      t.true(agent!.ports!.some((p) => p.containerPort === SETTINGS.metricsPort.default));
      t.deepEqual(agent!.env!.find((e) => e.name === SETTINGS.collectionInterval.env), { name: SETTINGS.collectionInterval.env, value: '1s' });
      for (const c of ds.template.spec.initContainers ?? []) t.is(c.imagePullPolicy, 'Never', c.name);
    } finally {
      await registry.stop();
    }
  });
} else {
  test.skip('registry harness skipped: helm (PATH, .tools/bin) or docker-registry is missing', () => {});
}

async function startServer(tcpPort: number, udpPort: number): Promise<{ child: ChildProcessWithoutNullStreams; lines: () => ServerLine[] }> {
  const child = spawn('node', ['-e', SERVER_SCRIPT, String(tcpPort), String(udpPort), '4,6']);
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const lines = () => parseLines<ServerLine>(out);
  await waitFor('the traffic server to listen', async () => (lines().some((l) => l.listening) ? true : undefined), 10_000, 50);
  return { child, lines };
}

async function client(...args: (string | number)[]): Promise<ClientReport> {
  const { stdout } = await run('node', ['-e', CLIENT_SCRIPT, ...args.map(String)], { timeoutMs: 20_000 });
  const [report] = parseLines<ClientReport>(stdout);
  return report!;
}

test('the pods\' traffic programs deliver exactly the bytes they report, UDP and TCP, IPv4 and IPv6', async (t) => {
  const tcpPort = await freePort();
  const udpPort = await freePort();
  const server = await startServer(tcpPort, udpPort);
  try {
    t.deepEqual(await client('udp', '127.0.0.1', udpPort, 50, 1000), { proto: 'udp', datagrams: 50, bytes: 50_000 });
    t.deepEqual(await client('udp', '::1', udpPort, 7, 1200), { proto: 'udp', datagrams: 7, bytes: 8400 });
    t.deepEqual(await client('tcp', '127.0.0.1', tcpPort, 64, 1024), { proto: 'tcp', bytes: 65_536 });
    t.deepEqual(await client('tcp', '::1', tcpPort, 3, 1000), { proto: 'tcp', bytes: 3000 });
    const lines = await waitFor('the server\'s UDP totals', async () => {
      const l = server.lines();
      return l.filter((x) => x.udp).length === 2 && l.filter((x) => x.tcp).length === 2 ? l : undefined;
    }, 10_000, 100);
    t.deepEqual(lines.filter((l) => l.udp).map((l) => l.udp), [
      { from: '127.0.0.1', bytes: 50_000, datagrams: 50 },
      { from: '::1', bytes: 8400, datagrams: 7 },
    ]);
    t.deepEqual(lines.filter((l) => l.tcp).map((l) => l.tcp!.bytes), [65_536, 3000]);
  } finally {
    server.child.kill('SIGTERM');
  }
});

test('the /metrics reader finds a pair series in prom-client output, with escaped label values', async (t) => {
  const registry = new Registry();
  const def = METRICS.trafficBytes;
  const bytes = new Counter({ name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] });
  bytes.inc({ src_ip: '10.244.1.5', dst_ip: '10.244.2.7', protocol: 'udp' }, 51_400);
  bytes.inc({ src_ip: 'fd00:10:244:1::5', dst_ip: 'fd00:10:244:2::7', protocol: 'tcp' }, 3);
  bytes.inc({ src_ip: 'a"b\\c', dst_ip: 'x', protocol: 'udp' }, 1);
  const samples = parseMetrics(await registry.metrics());
  t.is(valueOf(samples, def.name, { src_ip: '10.244.1.5', dst_ip: '10.244.2.7', protocol: 'udp' }), 51_400);
  t.is(valueOf(samples, def.name, { src_ip: 'fd00:10:244:1::5', protocol: 'tcp' }), 3);
  t.is(valueOf(samples, def.name, { src_ip: 'a"b\\c' }), 1);
  t.is(valueOf(samples, def.name, { src_ip: '10.244.1.5', protocol: 'tcp' }), undefined);
  t.throws(() => valueOf(samples, def.name, { protocol: 'udp' }), { message: /2 series/ });
  t.throws(() => parseMetrics('not a sample line'), { message: /not a Prometheus sample line/ });
});

test('pod IPs are written the way the agent labels them (RFC 5952)', (t) => {
  t.is(labelIp('10.244.1.5'), '10.244.1.5');
  t.is(labelIp('fd00:10:244:0001:0000:0000:0000:0005'), 'fd00:10:244:1::5');
  t.is(labelIp('FD00::1:0:0:0:5'), 'fd00:0:0:1::5');
  t.is(labelIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  t.throws(() => labelIp('10.244.1'), { message: /not an IP address/ });
});
