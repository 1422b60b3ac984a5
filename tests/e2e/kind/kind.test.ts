// End to end on a real cluster: kind with two workers, the agent image loaded,
// the chart installed from a local OCI registry, and client/server pods sending
// a known number of bytes on the same node and across nodes. Each agent's
// /metrics (through a port-forward) must count exactly what the clients sent.
//
// Runs only where `docker info`, kind, helm and docker-registry work (the
// e2e-kind workflow); elsewhere it is one skipped test that says why.
import test, { type ExecutionContext } from 'ava';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../../../agent/src/config/settings.js';
import { METRICS } from '../../../agent/src/metrics/definitions.js';
import { E2E_VALUES, installAgent, KindCluster } from './cluster.js';
import { waitFor } from './command.js';
import { readOptions } from './env.js';
import { valueOf } from './metrics-text.js';
import { missingPrerequisite } from './preflight.js';
import { LocalChartRegistry, type PublishedChart } from './registry.js';
import { CLIENT_SCRIPT, parseLines, udpHeaderBytes, type ClientReport, type ServerLine } from './traffic-scripts.js';
import {
  createRunningPod, execIn, ForwardedAgent, idleArgs, labelIp, nodePod, serverArgs, TCP_PORT, UDP_PORT, type RunningPod,
} from './workloads.js';

const CHART_DIR = fileURLToPath(new URL('../../../dist/charts/ebpf-agent', import.meta.url));
const AGENT_NS = 'ebpf-agent-e2e';
const TRAFFIC_NS = 'traffic-e2e';

interface Scenario {
  readonly proto: 'tcp' | 'udp';
  readonly family: 4 | 6;
  readonly placement: 'same-node' | 'cross-node';
}

// UDP: 50 datagrams of 1000 bytes stay under any pod MTU (no fragments).
// TCP: 64 KiB in one connection.
const UDP = { count: 50, size: 1000 };
const TCP = { count: 64, size: 1024 };

const options = readOptions();
const missing = missingPrerequisite();

if (missing !== undefined) {
  if (options.require) test('kind e2e cannot run', (t) => t.fail(missing));
  else test.skip(`kind e2e skipped: ${missing}`, () => {});
} else {
  registerSuite();
}

function registerSuite(): void {
  const work = mkdtempSync(join(tmpdir(), 'ebpf-agent-kind-'));
  const cluster = new KindCluster({
    name: `ebpf-e2e-${process.pid}`, ipFamily: options.ipFamily, workDir: work, nodeImage: options.nodeImage,
  });
  const registry = new LocalChartRegistry();
  const agents = new Map<string, ForwardedAgent>();
  const servers = new Map<string, RunningPod>();
  let kc: KubeConfig;
  let core: CoreV1Api;
  let failed = false;

  test.before(async () => {
    failed = true; // until the set-up completes, so a broken install still exports logs
    await registry.start();
    const chart: PublishedChart = await registry.publish(CHART_DIR);
    await cluster.start();
    kc = cluster.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    await cluster.loadImage(options.agentImage);
    await installAgent({
      chart, kubeconfigPath: cluster.kubeconfigPath, namespace: AGENT_NS, image: options.agentImage,
      helmEnv: registry.helmEnv, values: E2E_VALUES,
    });
    await startAgentForwards();
    await core.createNamespace({ body: { metadata: { name: TRAFFIC_NS } } });
    const families = options.ipFamily === 'dual' ? '4,6' : '4';
    for (const [i, node] of cluster.workers.entries()) {
      servers.set(node, await createRunningPod(core, nodePod({
        name: `server-${i + 1}`, namespace: TRAFFIC_NS, node, image: options.agentImage, args: serverArgs(families),
      })));
    }
    failed = false;
  });

  test.afterEach.always((t) => {
    if (!t.passed) failed = true;
  });

  test.after.always(async () => {
    for (const a of agents.values()) await a.stop();
    if (failed && options.logsDir) await cluster.exportLogs(options.logsDir).catch(() => {});
    if (!options.keepCluster) await cluster.stop();
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** One port-forward per agent pod, keyed by node. */
  async function startAgentForwards(): Promise<void> {
    const apps = kc.makeApiClient(AppsV1Api);
    const [ds] = (await apps.listNamespacedDaemonSet({ namespace: AGENT_NS })).items;
    if (!ds) throw new Error(`the chart created no DaemonSet in ${AGENT_NS}`);
    const selector = Object.entries(ds.spec!.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const pods = (await core.listNamespacedPod({ namespace: AGENT_NS, labelSelector: selector })).items;
    for (const node of cluster.workers) {
      const pod = pods.find((p) => p.spec?.nodeName === node);
      if (!pod) throw new Error(`no agent pod on ${node}`);
      const agent = new ForwardedAgent(kc, AGENT_NS, pod.metadata!.name!, node, SETTINGS.metricsPort.default);
      await agent.start();
      agents.set(node, agent);
    }
  }

  /**
   * Waits until the agent on the node has attached to at least as many
   * interfaces as the node has pod-network pods, so a new pod's veth is covered
   * before it sends.
   */
  async function waitForAttach(node: string): Promise<void> {
    const agent = agents.get(node)!;
    await waitFor(`the agent on ${node} to attach to every pod interface`, async () => {
      const pods = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node},status.phase=Running` })).items
        .filter((p) => !p.spec?.hostNetwork);
      const attached = valueOf(await agent.metrics(), METRICS.attachedInterfaces.name, {}) ?? 0;
      return attached >= pods.length ? true : undefined;
    }, 60_000);
  }

  const scenarios: Scenario[] = [];
  for (const family of [4, 6] as const) {
    for (const proto of ['udp', 'tcp'] as const) {
      for (const placement of ['same-node', 'cross-node'] as const) scenarios.push({ proto, family, placement });
    }
  }

  for (const s of scenarios) {
    const title = `${s.proto.toUpperCase()} over IPv${s.family}, ${s.placement}`;
    if (s.family === 6 && options.ipFamily !== 'dual') {
      test.skip(`${title}: skipped, the cluster is single-stack IPv4 (set KIND_IP_FAMILY=dual)`, () => {});
      continue;
    }
    test(`${title}: the client node's agent counts exactly what was sent, once`, async (t) => runScenario(t, s));
  }

  async function runScenario(t: ExecutionContext, s: Scenario): Promise<void> {
    const [clientNode, otherNode] = cluster.workers;
    const serverNode = s.placement === 'same-node' ? clientNode : otherNode;
    const server = servers.get(serverNode)!;
    const client = await createRunningPod(core, nodePod({
      name: `client-${s.proto}-v${s.family}-${s.placement}`, namespace: TRAFFIC_NS, node: clientNode,
      image: options.agentImage, args: idleArgs(),
    }));
    const src = s.family === 4 ? client.ipv4 : client.ipv6!;
    const dst = s.family === 4 ? server.ipv4 : server.ipv6!;
    const labels = { src_ip: labelIp(src), dst_ip: labelIp(dst), protocol: s.proto };
    const agent = agents.get(clientNode)!;
    await waitForAttach(clientNode);
    t.is(valueOf(await agent.metrics(), METRICS.trafficBytes.name, labels), undefined, 'no traffic before the client sends');

    const load = s.proto === 'udp' ? UDP : TCP;
    const port = s.proto === 'udp' ? UDP_PORT : TCP_PORT;
    const out = await execIn(kc, TRAFFIC_NS, client.name, ['node', '-e', CLIENT_SCRIPT, s.proto, dst, String(port), String(load.count), String(load.size)]);
    const [sent] = parseLines<ClientReport>(out);
    const payload = load.count * load.size;
    t.is(sent?.bytes, payload);

    // Wait for the counters to reach the payload, then three more collection
    // intervals, so a late duplicate (double counting) would show.
    await waitFor(`${METRICS.trafficBytes.name}${JSON.stringify(labels)} on ${clientNode}`, async () => {
      const v = valueOf(await agent.metrics(), METRICS.trafficBytes.name, labels);
      return v !== undefined && v >= payload ? v : undefined;
    }, 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    const samples = await agent.metrics();
    const bytes = valueOf(samples, METRICS.trafficBytes.name, labels);
    const packets = valueOf(samples, METRICS.trafficPackets.name, labels);

    if (s.proto === 'udp') {
      // Exact: each datagram is one packet of payload + IP + UDP header.
      t.is(packets, load.count);
      t.is(bytes, load.count * (load.size + udpHeaderBytes(s.family)));
      const logs = await core.readNamespacedPodLog({ name: server.name, namespace: TRAFFIC_NS });
      const got = parseLines<ServerLine>(logs).filter((l) => l.udp?.from === src).at(-1)?.udp;
      t.log(`server received ${got?.datagrams ?? 0} of ${load.count} datagrams (loss is the network's, not counted against the agent)`);
    } else {
      // TCP segmentation, ACKs and the handshake depend on the kernel and MTU, so
      // the count is bounded rather than exact: every payload byte, plus at least
      // SYN, ACK and data/FIN headers (3 packets), and at most 100 header bytes
      // (IPv6 40 + TCP with options 60) per packet.
      const minHeader = s.family === 4 ? 40 : 60;
      t.true(packets !== undefined && packets >= 3, `packets ${packets}`);
      t.true(bytes !== undefined && bytes >= payload + 3 * minHeader, `bytes ${bytes} < payload ${payload} + 3 headers`);
      t.true(bytes !== undefined && bytes <= payload + 100 * packets!, `bytes ${bytes} > payload ${payload} + 100 x ${packets}`);
      const logs = await core.readNamespacedPodLog({ name: server.name, namespace: TRAFFIC_NS });
      t.true(parseLines<ServerLine>(logs).some((l) => l.tcp?.from.endsWith(src) && l.tcp.bytes === payload), 'server received the payload');
    }

    if (s.placement === 'cross-node') {
      // Egress is counted where it leaves a pod; the receiving node must not count it again.
      const remote = await agents.get(serverNode)!.metrics();
      t.is(valueOf(remote, METRICS.trafficBytes.name, labels), undefined, `${serverNode} counted ${src} -> ${dst}`);
    }
  }
}
