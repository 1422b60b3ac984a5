// The single-node Kubernetes the suite runs on, driven through scripts/cluster/
// (build-kubernetes.sh, images.sh, up.sh, down.sh), plus kubectl and helm as a
// user runs them. Node facts (address, names) come from scripts/cluster/env.sh.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { run, type RunResult } from '../kind/command.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPTS = join(REPO, 'scripts/cluster');
export const KUBE_VERSION = process.env.KUBE_VERSION ?? 'v1.34.4';

function envValue(name: string): string {
  const m = new RegExp(`^${name}=\\$\\{${name}:-([^}]+)\\}|^${name}=(\\S+)`, 'm').exec(readFileSync(join(SCRIPTS, 'env.sh'), 'utf8'));
  if (!m) throw new Error(`scripts/cluster/env.sh does not set ${name}`);
  return (m[1] ?? m[2])!;
}
export const NODE_IP = envValue('NODE_IP');
export const NODE_NAME = envValue('NODE_NAME');
const CLUSTER_RUN = envValue('CLUSTER_RUN');
export const KUBECONFIG = join(CLUSTER_RUN, 'admin.kubeconfig');
export const KUBE_CACHE = process.env.KUBE_CACHE ?? '/var/cache/kubeadapt/kubernetes';
// helm and helm-docs are installed by scripts/setup.sh into .tools/bin.
const HELM = existsSync(join(REPO, '.tools/bin/helm')) ? join(REPO, '.tools/bin/helm') : 'helm';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Why the cluster cannot run on this machine, or undefined when it can. */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd, kubelet, BPF)';
  for (const cmd of ['etcd', 'containerd', 'runc', 'ctr', 'buildah', 'debootstrap', 'gcc', 'nft', 'ethtool', 'bpftool', 'openssl', 'curl', 'docker-registry']) {
    if (!has(cmd)) return `${cmd} is not installed (bash scripts/setup.sh installs the Debian packages)`;
  }
  if (!existsSync('/usr/lib/cni/bridge')) return '/usr/lib/cni/bridge is missing (Debian containernetworking-plugins)';
  if (!existsSync(join(KUBE_CACHE, KUBE_VERSION, 'bin/kubelet')) && !has('go')) {
    return `no Kubernetes ${KUBE_VERSION} in ${KUBE_CACHE} and no Go toolchain to build it`;
  }
  if (!existsSync('/var/cache/kubeadapt/prometheus/v0.42.0/bin/prometheus') && !has('go')) {
    return 'no Prometheus with kubernetes_sd_configs in /var/cache/kubeadapt/prometheus and no Go toolchain to build it';
  }
  if (!existsSync('/sys/fs/cgroup/unified') && !existsSync('/sys/fs/cgroup/cgroup.controllers')) return 'no cgroup v2 hierarchy for the kubelet';
  if (!existsSync(join(REPO, 'agent/dist/main.js'))) return 'the agent is not built (npm run build)';
  return undefined;
}

export class NodeCluster {
  bin = '';
  /** A Prometheus with kubernetes_sd_configs (Debian's has none): build-prometheus.sh. */
  prometheus = '';
  private readonly images = mkdtempSync(join(tmpdir(), 'kubeadapt-cluster-images-'));

  /** Kubernetes binaries (cached, built when missing), images, then the node. */
  async start(log: (line: string) => void): Promise<void> {
    const t0 = Date.now();
    const built = await run('bash', [join(SCRIPTS, 'build-kubernetes.sh'), KUBE_VERSION], { timeoutMs: 60 * 60_000 });
    this.bin = built.stdout.trim().split('\n').at(-1)!;
    log(`Kubernetes ${KUBE_VERSION} binaries in ${this.bin} (${Math.round((Date.now() - t0) / 1000)} s)`);
    const tp = Date.now();
    this.prometheus = (await run('bash', [join(SCRIPTS, 'build-prometheus.sh')], { timeoutMs: 30 * 60_000 })).stdout.trim().split('\n').at(-1)!;
    log(`Prometheus in ${this.prometheus} (${Math.round((Date.now() - tp) / 1000)} s)`);
    // A run that crashed before its teardown leaves a node behind: clear it first.
    await this.stop();
    const t1 = Date.now();
    await run('bash', [join(SCRIPTS, 'images.sh'), this.images], { timeoutMs: 30 * 60_000 });
    log(`images built in ${Math.round((Date.now() - t1) / 1000)} s`);
    const t2 = Date.now();
    await run('bash', [join(SCRIPTS, 'up.sh'), this.bin, this.images], { timeoutMs: 10 * 60_000 });
    log(`node up in ${Math.round((Date.now() - t2) / 1000)} s`);
  }

  async stop(): Promise<RunResult> {
    return run('bash', [join(SCRIPTS, 'down.sh'), this.bin], { timeoutMs: 5 * 60_000 });
  }

  /** What down.sh should have removed and did not (empty when the machine is as before). */
  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    const sh = async (line: string) => (await run('bash', ['-c', line]).catch(() => ({ stdout: '' }))).stdout.trim();
    if (existsSync(CLUSTER_RUN)) left.push(CLUSTER_RUN);
    if (await sh(`ip -o addr show dev lo | grep -F ' ${NODE_IP}/'`)) left.push(`${NODE_IP} on lo`);
    if (await sh('ip -o link show kacni0')) left.push('bridge kacni0');
    const nft = await sh('nft list ruleset | grep -E "table ip6? kube-proxy|chain KUBE-"');
    if (nft) left.push(`nftables: ${nft}`);
    const mounts = await sh(`grep -E "kubeadapt-cluster" /proc/self/mountinfo`);
    if (mounts) left.push(`mounts: ${mounts}`);
    const procs = await sh('pgrep -af "kubeadapt-cluster" | grep -v pgrep');
    if (procs) left.push(`processes: ${procs}`);
    return left;
  }

  removeImages(): void {
    rmSync(this.images, { recursive: true, force: true });
  }

  /** Environment of a user's shell on this node: kubectl on PATH, KUBECONFIG set. */
  get userEnv(): NodeJS.ProcessEnv {
    return { ...process.env, KUBECONFIG, PATH: `${this.bin}:${join(REPO, '.tools/bin')}:/usr/sbin:/usr/bin:/sbin:/bin` };
  }

  kubectl(args: readonly string[], input?: string, timeoutMs = 120_000): Promise<RunResult> {
    return run(join(this.bin, 'kubectl'), args, { env: this.userEnv, input, timeoutMs });
  }

  async json<T>(args: readonly string[]): Promise<T> {
    return JSON.parse((await this.kubectl([...args, '-o', 'json'])).stdout) as T;
  }

  helm(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<RunResult> {
    return run(HELM, args, { env: { ...env, KUBECONFIG }, timeoutMs });
  }

  /** A shell line run as written (the README's commands), with this node's kubectl. */
  shell(line: string, timeoutMs = 60_000): Promise<RunResult> {
    return run('bash', ['-o', 'pipefail', '-c', line], { env: this.userEnv, timeoutMs });
  }
}
