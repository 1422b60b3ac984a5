// The traffic side of the suite: a server and a client Deployment and a Service
// in front of the server (TCP and UDP), as a user would deploy them, and the
// client's sends through `kubectl exec`.
import type { NodeCluster } from './node.js';
import { waitFor } from '../kind/command.js';

export const TRAFFIC_NS = 'traffic';
export const TRAFFIC_IMAGE = 'localhost/kubeadapt/traffic:cluster';
/** The server listens pod to pod on DIRECT and behind the Service on BACKEND (distinct, so the oracle tells them apart). */
export const PORTS = { direct: { tcp: 7000, udp: 7001 }, backend: { tcp: 7100, udp: 7101 }, service: { tcp: 80, udp: 81 } } as const;

const deployment = (name: string, args: string[]) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: TRAFFIC_NS },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name, image: TRAFFIC_IMAGE, imagePullPolicy: 'Never', args }],
      },
    },
  },
});

export function manifests(): string {
  const { direct, backend, service } = PORTS;
  const items = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: TRAFFIC_NS } },
    deployment('server', ['server', ...[direct.tcp, direct.udp, backend.tcp, backend.udp].map(String)]),
    deployment('client', ['idle']),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'server', namespace: TRAFFIC_NS },
      spec: {
        selector: { app: 'server' },
        ports: [
          { name: 'tcp', protocol: 'TCP', port: service.tcp, targetPort: backend.tcp },
          { name: 'udp', protocol: 'UDP', port: service.udp, targetPort: backend.udp },
        ],
      },
    },
  ];
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

export interface TrafficPods {
  readonly client: { name: string; ip: string };
  readonly server: { name: string; ip: string };
  readonly clusterIP: string;
}

interface PodList { items: { metadata: { name: string }; status: { podIP?: string } }[] }

export async function deployTraffic(cluster: NodeCluster): Promise<TrafficPods> {
  await cluster.kubectl(['apply', '-f', '-'], manifests());
  for (const d of ['server', 'client']) await cluster.kubectl(['-n', TRAFFIC_NS, 'rollout', 'status', `deployment/${d}`, '--timeout=180s'], undefined, 200_000);
  const pod = async (app: string) => {
    const list = await cluster.json<PodList>(['-n', TRAFFIC_NS, 'get', 'pods', '-l', `app=${app}`, '--field-selector=status.phase=Running']);
    const [p] = list.items;
    if (!p?.status.podIP) throw new Error(`no running ${app} pod with an IP: ${JSON.stringify(list.items)}`);
    return { name: p.metadata.name, ip: p.status.podIP };
  };
  const svc = await cluster.json<{ spec: { clusterIP: string } }>(['-n', TRAFFIC_NS, 'get', 'service', 'server']);
  const pods = { client: await pod('client'), server: await pod('server'), clusterIP: svc.spec.clusterIP };
  // Rolled-out pods do not mean kube-proxy has programmed the Service: a UDP
  // datagram sent to the ClusterIP before then is dropped untranslated, so
  // the agent counts it under the ClusterIP and the server's oracle never
  // sees it (a CI run failed so). Wait for both ports' rules and endpoints.
  const { service, backend } = PORTS;
  const wanted = [`${pods.clusterIP} . tcp . ${service.tcp} `, `${pods.clusterIP} . udp . ${service.udp} `,
    `to ${pods.server.ip}:${backend.tcp}`, `to ${pods.server.ip}:${backend.udp}`];
  await waitFor('kube-proxy rules for the Service, both ports', async () => {
    const rules = (await cluster.shell('nft list table ip kube-proxy')).stdout;
    return wanted.every((w) => rules.includes(w)) ? true : undefined;
  }, 60_000);
  return pods;
}

export interface Load { readonly proto: 'tcp' | 'udp'; readonly target: string; readonly port: number; readonly count: number; readonly size: number }

/** Runs the traffic program's client in the client pod; returns the payload bytes it reports sent. */
export async function send(cluster: NodeCluster, load: Load): Promise<number> {
  const out = await cluster.kubectl(['-n', TRAFFIC_NS, 'exec', `deploy/client`, '--', 'node', '/traffic.cjs', 'client',
    load.proto, load.target, String(load.port), String(load.count), String(load.size)]);
  const line = out.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the client printed no report: ${out.stdout} ${out.stderr}`);
  return (JSON.parse(line) as { bytes: number }).bytes;
}
