// Environment variables the kind suite reads; .github/workflows/e2e-kind.yaml
// sets them (tests/image/workflows.test.ts checks the two agree).
export const E2E_ENV = {
  /** kindest/node image for every node; unset or empty: kind's own default. */
  nodeImage: 'KIND_NODE_IMAGE',
  /** ipv4 (single stack) or dual (adds the IPv6 scenarios). */
  ipFamily: 'KIND_IP_FAMILY',
  /** The agent image, already built into the local Docker engine. */
  agentImage: 'EBPF_AGENT_IMAGE',
  /** 1: a missing Docker engine or kind fails the suite instead of skipping it (CI). */
  require: 'EBPF_E2E_REQUIRE',
  /** Folder that receives `kind export logs` when a test fails. */
  logsDir: 'KIND_LOGS_DIR',
  /** 1: keep the cluster after the run for debugging. */
  keepCluster: 'EBPF_E2E_KEEP_CLUSTER',
} as const;

export type IpFamily = 'ipv4' | 'dual';

export interface E2eOptions {
  readonly nodeImage?: string;
  readonly ipFamily: IpFamily;
  readonly agentImage: string;
  readonly require: boolean;
  readonly logsDir?: string;
  readonly keepCluster: boolean;
}

/** @default agent image kubeadapt/ebpf-agent:e2e, IP family ipv4 */
export function readOptions(env: NodeJS.ProcessEnv = process.env): E2eOptions {
  const family = env[E2E_ENV.ipFamily] || 'ipv4';
  if (family !== 'ipv4' && family !== 'dual') {
    throw new Error(`${E2E_ENV.ipFamily}=${JSON.stringify(family)} is not accepted: use ipv4 or dual`);
  }
  return {
    nodeImage: env[E2E_ENV.nodeImage] || undefined,
    ipFamily: family,
    agentImage: env[E2E_ENV.agentImage] || 'kubeadapt/ebpf-agent:e2e',
    require: env[E2E_ENV.require] === '1',
    logsDir: env[E2E_ENV.logsDir] || undefined,
    keepCluster: env[E2E_ENV.keepCluster] === '1',
  };
}
