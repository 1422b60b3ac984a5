// A real single-node Kubernetes on this machine (issue 13): the chart installed
// from a local OCI registry with helm, the DaemonSet counting real pods under a
// real kubelet, Prometheus discovering it, the README's troubleshooting commands,
// a rolling upgrade and an uninstall. One node for the whole file (bringing it up
// costs about a minute warm), so the steps run in order and share it.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRICS } from '../../../agent/src/metrics/definitions.js';
import { runDashboardQueries } from '../../observability/dashboard-queries.js';
import { run, waitFor } from '../kind/command.js';
import { parseMetrics, type Sample } from '../kind/metrics-text.js';
import { LocalChartRegistry, type PublishedChart } from '../kind/registry.js';
import { KUBECONFIG, missingPrerequisite, NODE_IP, NODE_NAME, NodeCluster, REPO } from './node.js';
import { attachedProgramIds, bpfState, PIN_PATH, podVethsAttached, type BpfState } from './node-state.js';
import { pairKey, PodOracle, type Counts } from './oracle.js';
import { DiscoveringPrometheus } from './prometheus-sd.js';
import { deployTraffic, PORTS, send, type Load, type TrafficPods } from './workloads.js';

const RELEASE = 'kubeadapt-ebpf-agent';
const NS = 'kubeadapt';
const SELECTOR = 'app.kubernetes.io/name=ebpf-agent';
const METRICS_URL = `http://${NODE_IP}:9090/metrics`;
/**
 * Where the agent exports a client's traffic to a Service: under the backend pod
 * that received it (EBPF_SERVICE_RESOLUTION=conntrack, the default: the agent
 * resolves each connection through the node's conntrack, kube-proxy's DNAT).
 */
const SERVICE_DESTINATION: 'clusterIP' | 'backend' = 'backend';
/** Marks the oracle rule of packets that came through the Service (summed under the series without it). */
const VIA_SERVICE = '#via-service';
/**
 * The values a user passes, by the published chart's keys. This VM's bounding
 * set lacks CAP_SYS_RESOURCE, so the default capability list cannot be granted
 * here (runc: "unable to apply caps"); the three the agent needs on 5.8+ remain.
 */
const VALUES = [
  '--set', 'image.repository=localhost/kubeadapt/ebpf-agent', '--set', 'image.tag=cluster', '--set', 'image.pullPolicy=Never',
  '--set', 'securityContext.capabilities={BPF,NET_ADMIN,PERFMON}',
  '--set', 'config.collectionInterval=1s',
  // Cost attribution from this cluster's API (issue 14): the chart's ClusterRole, the real informers.
  '--set', 'config.kubernetes=true',
];

const missing = missingPrerequisite();
if (missing !== undefined) {
  test.skip(`real-cluster suite SKIPPED, not run: ${missing}`, () => {});
} else {
  registerSuite();
}

function registerSuite(): void {
  const cluster = new NodeCluster();
  const registry = new LocalChartRegistry();
  const prometheus = new DiscoveringPrometheus();
  let chart: PublishedChart;
  let pods: TrafficPods;
  let oracles: PodOracle[] = [];
  let broken = '';
  /** clsact qdiscs that predate the agent (another tool's, not ours to remove). */
  let clsactBeforeInstall = new Set<string>();

  const metrics = async (): Promise<Sample[]> => parseMetrics(await (await fetch(METRICS_URL)).text());
  const agentPods = async () => (await cluster.json<{ items: AgentPod[] }>(['-n', NS, 'get', 'pods', '-l', SELECTOR])).items;

  test.before(async (t) => {
    // Cold (nothing cached) this machine took 35 min for Kubernetes, 12 for Prometheus and 21 for the images.
    t.timeout(120 * 60_000, 'a cold build of Kubernetes, Prometheus and the images');
    await cluster.start((line) => t.log(line));
    await registry.start();
    chart = await registry.publish(join(REPO, 'dist/charts/ebpf-agent'));
  });

  test.after.always(async (t) => {
    t.timeout(10 * 60_000);
    await prometheus.stop();
    await registry.stop();
    const down = await cluster.stop();
    t.log(down.stderr.trim());
    cluster.removeImages();
    // A second run must find the machine as the first did.
    const left = await cluster.leftovers();
    if (left.length > 0) throw new Error(`scripts/cluster/down.sh left: ${left.join('; ')}`);
  });

  // Every later step needs the install and the traffic pods; if those failed,
  // the later steps say so instead of failing on a missing pod.
  const step = (title: string, minutes: number, fn: (t: ExecutionContext) => Promise<void>, prerequisite = false) =>
    test.serial(title, async (t) => {
      if (broken) return t.fail(`not run: ${broken} failed`);
      t.timeout(minutes * 60_000);
      try {
        await fn(t);
      } catch (err) {
        if (prerequisite) broken = title;
        throw err;
      }
      if (prerequisite && !t.passed) broken = title;
    });

  step('helm install from oci:// on 127.0.0.1: the DaemonSet pod passes its preflight init container and goes Ready, not privileged', 6, async (t) => {
    clsactBeforeInstall = new Set((await bpfState(new Set())).clsact);
    await cluster.helm(['install', RELEASE, chart.ref, '--version', chart.version, '--plain-http', '-n', NS, '--create-namespace',
      ...VALUES, '--wait', '--timeout', '4m'], registry.helmEnv);
    // helm's --wait counts a DaemonSet ready at desired - maxUnavailable pods: on
    // one node with maxUnavailable 1 that is zero, so it returns before the pod is Ready.
    await cluster.kubectl(['-n', NS, 'rollout', 'status', `daemonset/${RELEASE}`, '--timeout=180s'], undefined, 200_000);
    const [pod, ...more] = await agentPods();
    t.is(more.length, 0, 'one agent pod on the one node');
    t.is(pod!.spec.nodeName, NODE_NAME);
    t.true(pod!.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
    const preflight = pod!.status.initContainerStatuses?.find((c) => c.name === 'preflight');
    t.is(preflight?.state.terminated?.exitCode, 0, 'the preflight init container exited 0');
    for (const c of [...pod!.spec.containers, ...(pod!.spec.initContainers ?? [])]) {
      t.is(c.securityContext.privileged, false, `${c.name} is not privileged`);
      t.deepEqual(c.securityContext.capabilities, { add: ['BPF', 'NET_ADMIN', 'PERFMON'], drop: ['ALL'] }, c.name);
    }
    const check = await cluster.kubectl(['-n', NS, 'logs', pod!.metadata.name, '-c', 'preflight']);
    t.log(`preflight: ${check.stdout.trim().split('\n').length} lines`);
  }, true);

  step('pod to pod and through a Service, TCP and UDP: the agent\'s series equal the pods\' own nftables counters exactly', 6, async (t) => {
    pods = await deployTraffic(cluster);
    t.log(`client ${pods.client.ip}, server ${pods.server.ip}, Service ClusterIP ${pods.clusterIP}`);
    oracles = await installOracles(pods);
    await waitFor('tc_pod_egress on both traffic pods\' veths', async () => ((await podVethsAttached()) >= 2 ? true : undefined), 60_000);
    await sendRound();
    await expectExact(t);
  }, true);

  step('Prometheus finds the agent with kubernetes_sd_configs and the chart\'s scrape annotations; every dashboard query answers', 4, async (t) => {
    const token = readFileSync(join(KUBECONFIG, '../pki/tokens.csv'), 'utf8').split(',')[0]!;
    await prometheus.start(cluster.prometheus, `https://${NODE_IP}:6443`, token, join(KUBECONFIG, '../pki/ca.crt'));
    const target = await waitFor('the agent pod as an up target', async () => {
      const up = (await prometheus.targets()).filter((x) => x.labels.namespace === NS && x.health === 'up');
      return up.length > 0 ? up : undefined;
    }, 60_000).catch((e: Error) => { throw new Error(`${e.message}\n${prometheus.log()}`); });
    t.is(target.length, 1);
    t.is(target[0]!.scrapeUrl, `http://${NODE_IP}:9090/metrics`, 'the pod IP (hostNetwork: the node) and the annotated port and path');
    // rate() needs a few scrapes in its window.
    await new Promise((r) => setTimeout(r, 5000));
    const key = pairKey(pods.client.ip, pods.server.ip, 'udp');
    const [src, dst] = key.split('|');
    const [sample] = await prometheus.instantQuery(`${METRICS.trafficBytes.name}{src_ip="${src}",dst_ip="${dst}",protocol="udp"}`);
    t.is(sample?.value, (await expected()).get(key)?.bytes, 'Prometheus stored the exact count');
    t.is(sample?.metric.node, NODE_NAME);
    const panels = await runDashboardQueries(prometheus, { instances: [target[0]!.labels.instance!], node: NODE_NAME, rateInterval: '1m' });
    // The node is single-stack IPv4: the IPv6 halves of the family panels have nothing to show.
    const ipv6Only = (p: { panel: string; refId: string }) => p.panel.startsWith('IPv4 vs IPv6') && p.refId === 'B';
    // One node in no zone: nothing crosses a zone or a region or leaves for the internet.
    const otherClass = (p: { expr: string }) => /cost_class=~"(cross_zone|cross_region|internet)/.test(p.expr);
    const empty = panels.filter((p) => p.samples.length === 0 && !ipv6Only(p) && !otherClass(p)).map((p) => `${p.panel} [${p.refId}]: ${p.expr}`);
    t.deepEqual(empty, [], 'every panel query returns data');
    t.true(panels.filter(ipv6Only).length === 2);
    t.is(panels.filter(otherClass).length, 3);
    // The workload family is the raw pairs summed by workload and class: equal totals in one scrape.
    const [diff] = await prometheus.instantQuery(`sum(${METRICS.workloadBytes.name}) - sum(${METRICS.trafficBytes.name})`);
    t.is(Number(diff?.value), 0, 'workload family total equals the pair family total');
  });

  step('the chart README\'s troubleshooting commands run as written and show what it says', 3, async (t) => {
    const readme = readFileSync(join(REPO, 'dist/charts/ebpf-agent/README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Troubleshooting'));
    /** A command line exactly as the README prints it, run in a root shell here (no sudo on this machine). */
    const asWritten = async (line: string) => {
      t.true(section.includes(`${line}\n`), `the README's Troubleshooting section has: ${line}`);
      return (await cluster.shell(line.replace(/^sudo /, ''))).stdout;
    };
    t.regex(await asWritten('uname -r'), /^\d+\.\d+/);
    t.regex(await asWritten('ls /sys/fs/bpf'), /^kubeadapt$/m);
    const progs = await asWritten('sudo bpftool prog list | grep tc_');
    t.regex(progs, /name tc_pod_egress/);
    t.regex(progs, /name tc_host_egress/);
    t.regex(await asWritten('sudo bpftool -f map list | grep connection_flows   # -f: pinned paths; map names are cut to 15 characters'),
      /pinned \/sys\/fs\/bpf\/kubeadapt\/connection_flows/);
    t.regex(await asWritten('kubectl logs -n kubeadapt -l app.kubernetes.io/name=ebpf-agent --tail=50'), /"msg":"attached"/);
    t.regex(await asWritten('kubectl logs -n kubeadapt daemonset/kubeadapt-ebpf-agent -c preflight'), /^preflight: ok$/m);
    // Here the machine running kubectl is the node, and the agent is hostNetwork:
    // 127.0.0.1:9090 is the agent itself, so kubectl's forward binds [::1]:9090
    // only (it says so) and the README's curl may reach the agent either way.
    const forward = 'kubectl port-forward -n kubeadapt daemonset/kubeadapt-ebpf-agent 9090:9090';
    const curl = 'curl http://localhost:9090/metrics | grep kubeadapt';
    t.true(section.includes(`${forward}\n${curl}\n`), 'the README has both lines, in this order');
    const out = (await cluster.shell([
      `log=$(mktemp); ${forward} >"$log" 2>&1 & pf=$!`,
      'for i in $(seq 100); do grep -q "Forwarding from" "$log" && break; sleep 0.2; done',
      `${curl}; status=$?`,
      'kill $pf; wait $pf 2>/dev/null; echo "--- port-forward:"; cat "$log"; rm -f "$log"; exit $status',
    ].join('\n'))).stdout;
    const [metricsText, forwardLog] = out.split('--- port-forward:\n') as [string, string];
    t.log(`port-forward said: ${forwardLog.trim().replace(/\n/g, ' | ')}`);
    t.regex(forwardLog, /Forwarding from .*:9090 -> 9090/);
    t.regex(metricsText, /^kubeadapt_connection_traffic_bytes_total\{/m);
    t.regex(metricsText, /^kubeadapt_bpf_load_status\{program="tc_pod_egress"\} 1$/m);
  });

  step('helm upgrade with a changed value rolls the pod: counters continue from the pins, nothing doubles', 6, async (t) => {
    const [before] = await agentPods();
    await cluster.helm(['upgrade', RELEASE, chart.ref, '--version', chart.version, '--plain-http', '-n', NS, '--reuse-values',
      '--set', 'config.pairTtl=10m', '--wait', '--timeout', '4m'], registry.helmEnv);
    await cluster.kubectl(['-n', NS, 'rollout', 'status', `daemonset/${RELEASE}`, '--timeout=180s'], undefined, 200_000);
    await waitFor('the rolled pod alone and Ready', async () => {
      const all = await agentPods();
      const ready = all.length === 1 && all[0]!.metadata.name !== before!.metadata.name
        && all[0]!.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready ? all[0] : undefined;
    }, 180_000);
    const logs = (await cluster.kubectl(['-n', NS, 'logs', '-l', SELECTOR, '--tail=-1'])).stdout;
    t.regex(logs, /counters continue from the pinned ledger/);
    await expectExact(t, 'right after the roll, before new traffic');
    await sendRound();
    await expectExact(t, 'after a second round of traffic');
  });

  step('config.metricsAuth=kubernetes: HTTPS from a TLS Secret; a token of a metricsAuth.readers ServiceAccount gets /metrics, another 403, none 401 (reviews from inside the pod)', 6, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-cluster-tls-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-subj', '/CN=ebpf-agent', '-addext', `subjectAltName=IP:${NODE_IP}`]);
    const secret = 'ebpf-agent-metrics-tls';
    await cluster.kubectl(['-n', NS, 'create', 'secret', 'tls', secret, '--cert', join(dir, 'tls.crt'), '--key', join(dir, 'tls.key')]);
    const [before] = await agentPods();
    await cluster.helm(['upgrade', RELEASE, chart.ref, '--version', chart.version, '--plain-http', '-n', NS, '--reuse-values',
      '--set', 'config.metricsAuth=kubernetes', '--set', `metricsAuth.tlsSecretName=${secret}`,
      // The chart binds its metrics-reader ClusterRole to the scraper.
      '--set', 'metricsAuth.readers[0].kind=ServiceAccount', '--set', 'metricsAuth.readers[0].name=scraper', '--set', `metricsAuth.readers[0].namespace=${NS}`,
      '--wait', '--timeout', '4m'], registry.helmEnv);
    await cluster.kubectl(['-n', NS, 'rollout', 'status', `daemonset/${RELEASE}`, '--timeout=180s'], undefined, 200_000);
    // Ready means the kubelet's HTTPS probes pass.
    await waitFor('the rolled pod alone and Ready', async () => {
      const all = await agentPods();
      return all.length === 1 && all[0]!.metadata.name !== before!.metadata.name
        && all[0]!.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    }, 180_000);
    for (const sa of ['scraper', 'stranger']) await cluster.kubectl(['-n', NS, 'create', 'serviceaccount', sa]);
    const token = async (sa: string) => (await cluster.kubectl(['-n', NS, 'create', 'token', sa])).stdout.trim();
    const ca = readFileSync(join(dir, 'tls.crt'));
    const get = (bearer?: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`https://${NODE_IP}:9090/metrics`, { ca, headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    const allowed = await get(await token('scraper'));
    t.is(allowed.status, 200);
    t.regex(allowed.body, /^kubeadapt_connection_traffic_bytes_total\{/m);
    t.is((await get(await token('stranger'))).status, 403);
    t.is((await get()).status, 401);
    await t.throwsAsync(fetch(METRICS_URL, { signal: AbortSignal.timeout(5000) }), undefined, 'no plain HTTP any more');
  });

  step(`helm uninstall leaves no program, link, filter, qdisc we created, or pin (issue 17)`, 4, async (t) => {
    const ours = await attachedProgramIds();
    t.true(ours.size >= 2, 'the agent\'s programs were attached before the uninstall');
    await cluster.helm(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '2m'], registry.helmEnv);
    await waitFor('the agent pod gone', async () => ((await agentPods()).length === 0 ? true : undefined), 120_000);
    const state = await bpfState(ours);
    t.log(`after uninstall: ${JSON.stringify(state)}`);
    const left: BpfState = { ...state, clsact: state.clsact.filter((dev) => !clsactBeforeInstall.has(dev)) };
    t.deepEqual(left, { programs: [], links: [], hooks: [], clsact: [], pins: [] }, `left on the node; pins under ${PIN_PATH}`);
  });

  step('kubectl delete daemonset alone (ServiceAccount and Role stay) also leaves nothing behind', 4, async (t) => {
    await cluster.helm(['install', RELEASE, chart.ref, '--version', chart.version, '--plain-http', '-n', NS, ...VALUES], registry.helmEnv);
    await cluster.kubectl(['-n', NS, 'rollout', 'status', `daemonset/${RELEASE}`, '--timeout=180s'], undefined, 200_000);
    await waitFor('the agent attached again', async () => ((await attachedProgramIds()).size >= 2 ? true : undefined), 60_000);
    const ours = await attachedProgramIds();
    await cluster.kubectl(['-n', NS, 'delete', 'daemonset', RELEASE, '--wait=true']);
    await waitFor('the agent pod gone', async () => ((await agentPods()).length === 0 ? true : undefined), 120_000);
    const state = await bpfState(ours);
    t.deepEqual({ ...state, clsact: state.clsact.filter((dev) => !clsactBeforeInstall.has(dev)) },
      { programs: [], links: [], hooks: [], clsact: [], pins: [] });
    await cluster.helm(['uninstall', RELEASE, '-n', NS, '--wait'], registry.helmEnv);
  });

  async function sendRound(): Promise<void> {
    const { direct, service } = PORTS;
    const loads: Load[] = [
      { proto: 'udp', target: pods.server.ip, port: direct.udp, count: 50, size: 1000 },
      { proto: 'tcp', target: pods.server.ip, port: direct.tcp, count: 64, size: 1024 },
      { proto: 'udp', target: pods.clusterIP, port: service.udp, count: 30, size: 700 },
      { proto: 'tcp', target: pods.clusterIP, port: service.tcp, count: 32, size: 1024 },
    ];
    for (const load of loads) await send(cluster, load);
  }

  /** Whether the last read of the oracle saw packets that came through the Service. */
  let serviceSeen = false;
  /** The oracle's counts, keyed as the agent's series are. */
  async function expected(): Promise<Map<string, Counts>> {
    const out = new Map<string, Counts>();
    serviceSeen = false;
    for (const o of oracles) {
      for (const [rule, c] of await o.read()) {
        serviceSeen ||= rule.endsWith(VIA_SERVICE);
        const key = rule.replace(VIA_SERVICE, '');
        const prev = out.get(key) ?? { bytes: 0, packets: 0 };
        out.set(key, { bytes: prev.bytes + c.bytes, packets: prev.packets + c.packets });
      }
    }
    return out;
  }

  /** The agent's series of the traffic pods as sources. */
  async function actual(): Promise<Map<string, Counts>> {
    const sources = new Set([pods.client.ip, pods.server.ip]);
    const out = new Map<string, Counts>();
    for (const s of await metrics()) {
      if (!sources.has(s.labels.src_ip!)) continue;
      const field = s.name === METRICS.trafficBytes.name ? 'bytes' : s.name === METRICS.trafficPackets.name ? 'packets' : undefined;
      if (!field) continue;
      const k = pairKey(s.labels.src_ip!, s.labels.dst_ip!, s.labels.protocol!);
      out.set(k, { ...(out.get(k) ?? { bytes: 0, packets: 0 }), [field]: s.value });
    }
    return out;
  }

  const sorted = (m: Map<string, Counts>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

  /** Equal once the agent has collected, and still equal three intervals later (a late duplicate would show). */
  async function expectExact(t: ExecutionContext, when = ''): Promise<void> {
    const want = sorted(await expected());
    t.true(serviceSeen, 'Service traffic reached the oracle');
    await waitFor('the agent\'s series to reach the oracle', async () =>
      (JSON.stringify(sorted(await actual())) === JSON.stringify(want) ? true : undefined), 30_000).catch(() => {});
    await new Promise((r) => setTimeout(r, 3000));
    t.deepEqual(sorted(await actual()), want, `agent vs nftables in the pods ${when}`);
  }
}

/**
 * Counters in the receiving pods, keyed by the series the agent should have
 * made at the sender's veth: there a Service packet still has the ClusterIP as
 * its destination (kube-proxy's DNAT comes later, in the node), and a reply to
 * it still has the backend as its source (the reverse NAT comes later too).
 * The backend listens on its own ports, so the server tells the two paths apart.
 */
async function installOracles(pods: TrafficPods): Promise<PodOracle[]> {
  const { client, server, clusterIP } = pods;
  const viaService = SERVICE_DESTINATION === 'clusterIP' ? clusterIP : server.ip;
  const { direct, backend } = PORTS;
  const rules = (proto: 'tcp' | 'udp') => ({
    server: [
      { match: `ip saddr ${client.ip} ip daddr ${server.ip} ${proto} dport ${direct[proto]}`, key: pairKey(client.ip, server.ip, proto) },
      { match: `ip saddr ${client.ip} ip daddr ${server.ip} ${proto} dport ${backend[proto]}`, key: `${pairKey(client.ip, viaService, proto)}${VIA_SERVICE}` },
    ],
    client: [
      { match: `ip saddr ${server.ip} ip daddr ${client.ip} meta l4proto ${proto}`, key: pairKey(server.ip, client.ip, proto) },
      { match: `ip saddr ${clusterIP} ip daddr ${client.ip} meta l4proto ${proto}`, key: pairKey(server.ip, client.ip, proto) },
    ],
  });
  const [tcp, udp] = [rules('tcp'), rules('udp')];
  return [
    await PodOracle.install(server.ip, [...tcp.server, ...udp.server]),
    await PodOracle.install(client.ip, [...tcp.client, ...udp.client]),
  ];
}

interface AgentPod {
  metadata: { name: string };
  spec: {
    nodeName: string;
    containers: { name: string; securityContext: { privileged: boolean; capabilities: unknown } }[];
    initContainers?: { name: string; securityContext: { privileged: boolean; capabilities: unknown } }[];
  };
  status: {
    conditions: { type: string; status: string }[];
    initContainerStatuses?: { name: string; state: { terminated?: { exitCode: number } } }[];
  };
}
