// Asks the API server whether our DaemonSet still exists: on SIGTERM, a
// rolling update (it does) keeps the programs and pinned state for the next
// agent; an uninstall (it is gone or being deleted) removes them.
import type { Logger } from '../log.js';

export interface DaemonSetRef {
  namespace: string;
  name: string;
}

export function daemonSetFromEnv(env: NodeJS.ProcessEnv): DaemonSetRef | undefined {
  const namespace = env.EBPF_POD_NAMESPACE;
  const name = env.EBPF_DAEMONSET_NAME;
  return namespace && name ? { namespace, name } : undefined;
}

/** true: gone or being deleted; false: it exists (or we could not tell: keeping is the safe side). */
export async function daemonSetGone(ref: DaemonSetRef, log: Logger): Promise<boolean> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromCluster();
    const api = kc.makeApiClient(k8s.AppsV1Api);
    const ds = await api.readNamespacedDaemonSet({ name: ref.name, namespace: ref.namespace });
    return Boolean(ds.metadata?.deletionTimestamp);
  } catch (err) {
    const code = (err as { code?: number; statusCode?: number }).code ?? (err as { statusCode?: number }).statusCode;
    if (code === 404) return true;
    log.warn('could not read our DaemonSet; keeping programs and pinned state', { daemonSet: `${ref.namespace}/${ref.name}`, err });
    return false;
  }
}
