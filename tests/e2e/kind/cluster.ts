// The kind cluster and the chart release the scenarios run against.
import { KubeConfig } from '@kubernetes/client-node';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../../../agent/src/config/settings.js';
import { run } from './command.js';
import type { IpFamily } from './env.js';
import type { PublishedChart } from './registry.js';

export interface KindClusterProps {
  readonly name: string;
  readonly ipFamily: IpFamily;
  /** Folder for the kubeconfig. */
  readonly workDir: string;
  /** @default kind's built-in node image */
  readonly nodeImage?: string;
}

export class KindCluster {
  readonly kubeconfigPath: string;
  private created = false;

  constructor(private readonly props: KindClusterProps) {
    this.kubeconfigPath = join(props.workDir, 'kubeconfig');
  }

  get name(): string {
    return this.props.name;
  }

  /** Node names kind gives the two workers. */
  get workers(): [string, string] {
    return [`${this.name}-worker`, `${this.name}-worker2`];
  }

  async start(): Promise<void> {
    const config = fileURLToPath(new URL(`cluster-${this.props.ipFamily}.yaml`, import.meta.url));
    this.created = true;
    await run('kind', [
      'create', 'cluster', '--name', this.name, '--config', config, '--kubeconfig', this.kubeconfigPath, '--wait', '180s',
      ...(this.props.nodeImage ? ['--image', this.props.nodeImage] : []),
    ], { timeoutMs: 600_000 });
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  async loadImage(image: string): Promise<void> {
    await run('kind', ['load', 'docker-image', image, '--name', this.name], { timeoutMs: 600_000 });
  }

  async exportLogs(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    await run('kind', ['export', 'logs', dir, '--name', this.name], { timeoutMs: 300_000 });
  }

  async stop(): Promise<void> {
    if (this.created) await run('kind', ['delete', 'cluster', '--name', this.name], { timeoutMs: 300_000 });
  }
}

export interface AgentReleaseProps {
  readonly chart: PublishedChart;
  readonly kubeconfigPath: string;
  readonly namespace: string;
  /** repository:tag already loaded into the nodes. */
  readonly image: string;
  readonly helmEnv: NodeJS.ProcessEnv;
  /** Extra --set values (chart value path to value). */
  readonly values: Readonly<Record<string, string>>;
}

export function splitImage(image: string): { repository: string; tag: string } {
  const colon = image.lastIndexOf(':');
  if (colon < 0 || colon < image.lastIndexOf('/')) throw new Error(`image ${JSON.stringify(image)} has no tag: use repository:tag`);
  return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
}

/** The chart values the suite sets: the loaded image (never pulled) plus extras. */
export function agentValues(image: string, extra: Readonly<Record<string, string>>): Record<string, string> {
  const { repository, tag } = splitImage(image);
  return { 'image.repository': repository, 'image.tag': tag, 'image.pullPolicy': 'Never', ...extra };
}

export const setFlags = (values: Readonly<Record<string, string>>): string[] =>
  Object.entries(values).flatMap(([k, v]) => ['--set-string', `${k}=${v}`]);

/** helm install from the OCI registry, waiting for the DaemonSet to be ready on every node. */
export async function installAgent(p: AgentReleaseProps): Promise<void> {
  await run('helm', [
    'install', 'ebpf-agent', p.chart.ref, '--version', p.chart.version, '--plain-http',
    '--namespace', p.namespace, '--create-namespace', '--kubeconfig', p.kubeconfigPath,
    '--wait', '--timeout', '5m',
    ...setFlags(agentValues(p.image, p.values)),
  ], { env: p.helmEnv, timeoutMs: 360_000 });
}

/** Drain every second so the scenarios read their counts within seconds. */
export const E2E_VALUES: Readonly<Record<string, string>> = { [SETTINGS.collectionInterval.chartValue]: '1s' };
