// Runs the real helm (set-up installs it into .tools/bin) with its config, cache
// and registry state in a temp dir, so tests neither read nor change the user's.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

export const REPO = resolve(import.meta.dirname, '../../..');
export const CHART_DIR = join(REPO, 'dist/charts/ebpf-agent');
export const RELEASE = 'kubeadapt-ebpf-agent';
export const NAMESPACE = 'kubeadapt';
/** The oldest supported and a current Kubernetes release (cdk8s/scripts/fetch-k8s-schemas.sh caches both). */
export const KUBE_VERSIONS = ['1.24.17', '1.34.4'] as const;

const HELM = join(REPO, '.tools/bin/helm');
const run = promisify(execFile);

const home = mkdtempSync(join(tmpdir(), 'chart-test-helm-'));
process.on('exit', () => rmSync(home, { recursive: true, force: true }));
const env = {
  ...process.env,
  HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data'),
  HELM_REGISTRY_CONFIG: join(home, 'registry.json'),
};

export interface HelmResult { readonly code: number; readonly stdout: string; readonly stderr: string }

/** Runs helm; never throws on a non-zero exit (tests assert on it). */
export async function helm(args: readonly string[], cwd = REPO): Promise<HelmResult> {
  if (!existsSync(HELM)) throw new Error(`${HELM} is missing: run scripts/setup.sh (it go-installs helm)`);
  try {
    const { stdout, stderr } = await run(HELM, args, { env, cwd, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(e) };
  }
}

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [key: string]: any;
}

export interface RenderOptions {
  readonly valuesFiles?: readonly string[];
  readonly set?: readonly string[];
  readonly kubeVersion?: string;
  readonly chart?: string;
  /** @default "kubeadapt-ebpf-agent" */
  readonly release?: string;
  readonly extraArgs?: readonly string[];
}

export function templateArgs(o: RenderOptions = {}): string[] {
  return [
    'template', o.release ?? RELEASE, o.chart ?? CHART_DIR, '--namespace', NAMESPACE,
    '--kube-version', o.kubeVersion ?? KUBE_VERSIONS[1],
    ...(o.valuesFiles ?? []).flatMap((f) => ['-f', f]),
    ...(o.set ?? []).flatMap((s) => ['--set', s]),
    ...(o.extraArgs ?? []),
  ];
}

export function parseObjects(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText).map((d) => {
    if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
    return d.toJS() as K8sObject | null;
  }).filter((o): o is K8sObject => o !== null);
}

/** helm template; throws with helm's message when rendering fails. */
export async function render(o: RenderOptions = {}): Promise<K8sObject[]> {
  const r = await helm(templateArgs(o));
  if (r.code !== 0) throw new Error(`helm ${templateArgs(o).join(' ')} failed:\n${r.stderr}`);
  return parseObjects(r.stdout);
}

export function find(objects: readonly K8sObject[], kind: string): K8sObject {
  const hits = objects.filter((o) => o.kind === kind);
  if (hits.length !== 1) throw new Error(`expected one ${kind}, rendered ${hits.length}: ${objects.map((o) => o.kind).join(', ')}`);
  return hits[0]!;
}
