// The fate of our own DaemonSet, which decides what SIGTERM means: a rolling
// update (it exists) keeps the programs and pinned state for the next agent; an
// uninstall (it is gone or being deleted) removes them.
//
// The fate is watched from start-up, not asked at SIGTERM: `helm uninstall`
// deletes the DaemonSet, the RoleBinding, the Role and the ServiceAccount in one
// go, and by the time the garbage collector stops our pod its token no longer
// authenticates (HTTP 401; issue 17). The watch was opened while the token was
// good, so the deletion is already known when SIGTERM arrives.
import { ApiError, retryDelayMs, sharedApiClient, type ApiClient } from './api.js';
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

/** unknown: not heard yet; present; deleting: deletionTimestamp set; gone: deleted. */
export type DaemonSetFate = 'unknown' | 'present' | 'deleting' | 'gone';

interface ApiObject { metadata?: { deletionTimestamp?: unknown } }

const statusOf = (err: unknown): number | undefined => (err instanceof ApiError ? err.statusCode : undefined);

export class DaemonSetWatch {
  fate: DaemonSetFate = 'unknown';
  private api: ApiClient | undefined;
  private abort: AbortController | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly ref: DaemonSetRef,
    private readonly log: Logger,
    /** Tests pass a client; in a pod it comes from the ServiceAccount. */
    api?: ApiClient,
  ) {
    this.api = api;
  }

  private async client(): Promise<ApiClient> {
    if (!this.api) {
      const found = await sharedApiClient(process.env);
      if ('reason' in found) throw new Error(found.reason);
      this.api = found.client;
    }
    return this.api;
  }

  async start(): Promise<void> {
    await this.client();
    this.open();
  }

  private open(): void {
    if (this.stopped) return;
    const { namespace, name } = this.ref;
    // The Role grants get/list/watch on this one name; the field selector is what makes a list or watch of one name.
    this.abort = this.api!.watch(
      `/apis/apps/v1/namespaces/${namespace}/daemonsets`,
      { fieldSelector: `metadata.name=${name}` },
      (phase, o) => {
        const obj = o as ApiObject;
        this.failures = 0;
        const next: DaemonSetFate = phase === 'DELETED' ? 'gone' : obj?.metadata?.deletionTimestamp ? 'deleting' : 'present';
        if (next !== this.fate && next !== 'present') this.log.info('our DaemonSet is going away: SIGTERM will remove programs and pinned state', { daemonSet: `${namespace}/${name}`, fate: next });
        this.fate = next;
      },
      (err) => this.reopen(err),
    );
  }

  /** A watch ends every few minutes (server timeout) or on an error: open it again, backing off on errors. */
  private reopen(err: unknown): void {
    if (this.stopped) return;
    if (err && (err as Error).name !== 'AbortError') {
      this.failures += 1;
      if (this.failures === 1 || this.failures % 10 === 0) {
        this.log.warn('watching our DaemonSet failed; retrying', { daemonSet: `${this.ref.namespace}/${this.ref.name}`, status: statusOf(err), err });
      }
    }
    const delay = err ? retryDelayMs(this.failures) : 0;
    this.retry = setTimeout(() => this.open(), delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.abort?.abort();
  }

  /**
   * true: uninstall (remove state); false: hand over to the next agent. The
   * watch answers when it has seen the deletion; otherwise one GET decides: 404
   * gone, 401 our ServiceAccount was deleted (its tokens stop authenticating; a
   * rolling update never deletes it), anything else keeps (the safe side).
   */
  async gone(): Promise<boolean> {
    if (this.fate === 'gone' || this.fate === 'deleting') return true;
    const { namespace, name } = this.ref;
    try {
      const ds = (await (await this.client()).request('GET', `/apis/apps/v1/namespaces/${namespace}/daemonsets/${name}`, undefined, 5_000)) as ApiObject;
      return Boolean(ds.metadata?.deletionTimestamp);
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return true;
      if (status === 401) {
        this.log.info('our ServiceAccount no longer authenticates: uninstall', { daemonSet: `${namespace}/${name}` });
        return true;
      }
      this.log.warn('could not read our DaemonSet; keeping programs and pinned state', { daemonSet: `${namespace}/${name}`, status, err });
      return false;
    }
  }
}
