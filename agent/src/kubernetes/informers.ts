// List-then-watch of Pods, Nodes and Services through the agent's small API
// client (api.ts), keeping only the projections cluster.ts needs. An
// informer that caches whole objects holds 4-8 KiB of JSON objects per pod
// (tens of MiB at 10k pods) and lists in one response; this lists in pages of
// 200 and keeps a few hundred bytes per pod (bench/ cost).
import type { Logger } from '../log.js';
import { retryDelayMs, type ApiClient } from './api.js';
import { ClusterIndex, projectNode, projectPod, projectService } from './cluster.js';

/**
 * Small pages: a page of pods parsed is ~5 KiB of objects each, all garbage a
 * moment later, and the heap V8 grows for it stays resident. RSS on top of the
 * agent after syncing 10k pods (with the image's V8 flags): pages of 500
 * +31-62 MiB, 200 +34-39, 100 +24-28, 50 +25-27; 100 asks the API half as
 * often as 50 for the same.
 */
const PAGE = 100;
/** The API server ends a watch after this; a silent one is given up a little later. */
const WATCH_SECONDS = 300;

export interface WatchHandlers {
  upsert(key: string, obj: unknown): void;
  remove(key: string): void;
  /** A whole list has been read (at start, and at every relist). */
  listed?(): void;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** One resource, listed then watched, relisted when the watch cannot resume; retries forever with backoff. */
export class ResourceWatch {
  private stopped = false;
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly known = new Set<string>();
  synced = false;
  /** Lists done (1 after start; more after a watch could not resume). */
  lists = 0;

  constructor(
    private readonly api: ApiClient,
    readonly resource: string,
    private readonly path: string,
    private readonly handlers: WatchHandlers,
    private readonly log: Logger,
    private readonly onSynced: () => void = () => undefined,
    private readonly onError: () => void = () => undefined,
  ) {}

  start(): void {
    void this.list();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
  }

  private retry(err: unknown, what: () => Promise<void>): void {
    if (this.stopped) return;
    this.onError();
    const delay = retryDelayMs(this.failures);
    if (this.failures === 0) this.log.warn('Kubernetes API unreachable: attribution goes on from what is known, retrying', { resource: this.resource, err, retryInMs: delay });
    this.failures++;
    this.timer = setTimeout(() => void what(), delay);
  }

  private recovered(): void {
    if (this.failures > 0) this.log.info('Kubernetes API reachable again', { resource: this.resource, failedAttempts: this.failures });
    this.failures = 0;
  }

  private async list(): Promise<void> {
    if (this.stopped) return;
    const seen = new Set<string>();
    let next = '';
    try {
      do {
        const q = `?limit=${PAGE}${next ? `&continue=${encodeURIComponent(next)}` : ''}`;
        const page = (await this.api.request('GET', this.path + q)) as { metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] };
        for (const item of page.items ?? []) {
          const key = keyOf(item as never);
          seen.add(key);
          this.handlers.upsert(key, item);
        }
        next = page.metadata?.continue ?? '';
        this.resourceVersion = page.metadata?.resourceVersion ?? this.resourceVersion;
      } while (next && !this.stopped);
    } catch (err) {
      // An expired continue token (410) starts over; anything else waits and starts over.
      return this.retry(err, () => this.list());
    }
    // Objects gone while we were not watching.
    for (const key of this.known) if (!seen.has(key)) this.handlers.remove(key);
    this.known.clear();
    for (const key of seen) this.known.add(key);
    this.lists++;
    this.handlers.listed?.();
    this.recovered();
    if (!this.synced) {
      this.synced = true;
      this.onSynced();
    }
    this.watch();
  }

  private watch(): void {
    if (this.stopped) return;
    let expired = false;
    let watchdog: NodeJS.Timeout | undefined;
    const pet = () => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => this.abort?.abort(), (WATCH_SECONDS + 30) * 1000);
    };
    const done = (err: unknown) => {
      if (watchdog) clearTimeout(watchdog);
      if (this.stopped) return;
      if (expired) return void this.list();
      // A watch the server ended normally resumes at once; a failed one backs off.
      if (!err) return this.watch();
      this.retry(err, async () => this.watch());
    };
    pet();
    this.abort = this.api.watch(
      this.path,
      { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_SECONDS },
      (type, o) => {
        const obj = o as { metadata?: { resourceVersion?: string }; code?: number };
        pet();
        this.recovered();
        if (type === 'ERROR') {
          // 410 Gone: our resourceVersion is older than etcd's history; relist.
          if (obj?.code === 410) expired = true;
          this.abort?.abort();
          return;
        }
        if (obj?.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        const key = keyOf(obj as never);
        if (type === 'DELETED') {
          this.known.delete(key);
          this.handlers.remove(key);
        } else {
          this.known.add(key);
          this.handlers.upsert(key, obj);
        }
      },
      done,
    );
  }
}

export interface EnrichmentOptions {
  /** How long an address's former owners are remembered (a few collection intervals). */
  historyMs: number;
  /** A pod gave an address up: drain now, so its packets stay its own. */
  onRelease?: (ip: string) => void;
  /** After every change: how many objects of each resource are known. */
  onCount?: (counts: { pods: number; nodes: number; services: number }) => void;
  onWatchError?: (resource: string) => void;
  /** After each list: what it read is garbage now (tens of MiB at 10k pods). */
  onListed?: () => void;
}

/** The three watches feeding one ClusterIndex. */
export class KubernetesEnrichment {
  readonly cluster: ClusterIndex;
  readonly watches: ResourceWatch[];
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(api: ApiClient, private readonly log: Logger, opts: EnrichmentOptions, now: () => number = Date.now) {
    const c = (this.cluster = new ClusterIndex(opts.historyMs, now, opts.onRelease));
    const synced = () => {
      if (this.watches.every((w) => w.synced)) this.log.info('Kubernetes enrichment synced', c.counts);
    };
    const counted = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => {
      fn(...a);
      opts.onCount?.(c.counts);
    };
    const failed = (resource: string) => () => opts.onWatchError?.(resource);
    this.watches = [
      new ResourceWatch(api, 'nodes', '/api/v1/nodes', {
        upsert: counted((_k: string, o: unknown) => {
          const n = projectNode(o);
          if (n) c.upsertNode(n);
        }),
        remove: counted((k: string) => c.removeNode(k.slice(1))),
        listed: opts.onListed,
      }, log, synced, failed('nodes')),
      new ResourceWatch(api, 'pods', '/api/v1/pods', {
        upsert: counted((k: string, o: unknown) => {
          const p = projectPod(o);
          if (p) c.upsertPod(k, p);
        }),
        remove: counted((k: string) => c.removePod(k)),
        listed: opts.onListed,
      }, log, synced, failed('pods')),
      new ResourceWatch(api, 'services', '/api/v1/services', {
        upsert: counted((k: string, o: unknown) => {
          const s = projectService(o);
          if (s) c.upsertService(k, s);
        }),
        remove: counted((k: string) => c.removeService(k)),
        listed: opts.onListed,
      }, log, synced, failed('services')),
    ];
  }

  get synced(): boolean {
    return this.watches.every((w) => w.synced);
  }

  start(): void {
    for (const w of this.watches) w.start();
    this.pruneTimer = setInterval(() => this.cluster.prune(), 30_000);
    this.pruneTimer.unref();
  }

  stop(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    for (const w of this.watches) w.stop();
  }
}
