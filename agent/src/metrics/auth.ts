// EBPF_METRICS_AUTH=kubernetes: who may read /metrics, decided by the API server
// the way kube-rbac-proxy decides it for node-exporter. The bearer token is
// authenticated with a TokenReview, then the user it names must be allowed `get`
// on the non-resource URL /metrics by a SubjectAccessReview (RBAC:
// `nonResourceURLs: ["/metrics"], verbs: ["get"]`). Decisions are cached briefly,
// keyed by a hash of the token, so a scrape every few seconds costs the API
// server two requests per token per TTL, not per scrape.

export type Decision =
  | { readonly kind: 'allowed'; readonly user: string }
  | { readonly kind: 'unauthenticated'; readonly reason: string }
  | { readonly kind: 'forbidden'; readonly user: string; readonly reason: string };

/** The two API calls, so the cache and the HTTP mapping can be tested without an API server. */
export interface ReviewApi {
  tokenReview(token: string): Promise<{ authenticated: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> }; error?: string }>;
  subjectAccessReview(user: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> }, path: string, verb: string): Promise<{ allowed: boolean; reason?: string }>;
}

export interface AuthorizerOptions {
  /** How long an allow or a deny is remembered. @default 60000 (kube-rbac-proxy caches 5 min; RBAC changes show within a minute here) */
  readonly ttlMs?: number;
  /** Tokens remembered at most; the oldest goes first. @default 1024 */
  readonly maxEntries?: number;
  /** Longest bearer token looked at; longer ones are refused without an API call. @default 16384 */
  readonly maxTokenBytes?: number;
  /** Reviews in flight at most: a flood of made-up tokens cannot turn into a flood of API requests. @default 16 */
  readonly maxInflight?: number;
}

/** The API server could not be asked (or too many reviews are in flight): 503, never cached. */
export class ReviewUnavailable extends Error {}

export const METRICS_PATH = '/metrics';

export class KubernetesAuthorizer {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxTokenBytes: number;
  private readonly maxInflight: number;
  /** Insertion-ordered: the first key is the oldest entry. */
  private readonly cache = new Map<string, { decision: Decision; expires: number }>();
  /** One review in flight per token: a burst of scrapes with one token asks once. */
  private readonly inflight = new Map<string, Promise<Decision>>();
  reviews = 0;

  constructor(private readonly api: ReviewApi, options: AuthorizerOptions = {}, private readonly now = () => Date.now()) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 1024;
    this.maxTokenBytes = options.maxTokenBytes ?? 16_384;
    this.maxInflight = options.maxInflight ?? 16;
  }

  /** authorization: the request's Authorization header. Throws when the API server cannot be asked. */
  async decide(authorization: string | undefined): Promise<Decision> {
    const m = /^Bearer ([!-~]+)$/i.exec(authorization ?? '');
    if (!m) return { kind: 'unauthenticated', reason: 'no bearer token' };
    const token = m[1]!;
    if (token.length > this.maxTokenBytes) return { kind: 'unauthenticated', reason: 'bearer token too long' };
    // node:crypto on first use: the metrics server imports this module (for
    // ReviewUnavailable) with auth off too, and crypto costs 2 MiB of RSS.
    const key = process.getBuiltinModule('node:crypto').createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.decision;
    if (hit) this.cache.delete(key);
    let pending = this.inflight.get(key);
    if (!pending) {
      if (this.inflight.size >= this.maxInflight) throw new ReviewUnavailable(`${this.maxInflight} token reviews already in flight`);
      pending = this.review(token).catch((err: unknown) => {
        throw new ReviewUnavailable(`asking the API server failed: ${(err as Error).message ?? String(err)}`);
      }).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const decision = await pending;
    this.remember(key, decision);
    return decision;
  }

  private remember(key: string, decision: Decision): void {
    this.cache.delete(key);
    while (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { decision, expires: this.now() + this.ttlMs });
  }

  private async review(token: string): Promise<Decision> {
    this.reviews++;
    const tr = await this.api.tokenReview(token);
    const username = tr.user?.username;
    if (!tr.authenticated || !username) return { kind: 'unauthenticated', reason: tr.error || 'token not authenticated' };
    const user = { username, uid: tr.user?.uid, groups: tr.user?.groups, extra: tr.user?.extra };
    const sar = await this.api.subjectAccessReview(user, METRICS_PATH, 'get');
    return sar.allowed
      ? { kind: 'allowed', user: username }
      : { kind: 'forbidden', user: username, reason: sar.reason || `${username} may not get ${METRICS_PATH}` };
  }
}

/** The two reviews through the agent's API client: KUBECONFIG when set (tests, outside a cluster), else the pod's ServiceAccount. */
export async function kubernetesReviewApi(): Promise<ReviewApi> {
  const { sharedApiClient } = await import('../kubernetes/api.js');
  const found = await sharedApiClient(process.env);
  if ('reason' in found) throw new Error(`EBPF_METRICS_AUTH=kubernetes needs the Kubernetes API: ${found.reason}`);
  const api = found.client;
  type Status<T> = { status?: T };
  return {
    async tokenReview(token) {
      const r = (await api.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token },
      })) as Status<{ authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> }; error?: string }>;
      return { authenticated: r.status?.authenticated === true, user: r.status?.user, error: r.status?.error };
    },
    async subjectAccessReview(user, path, verb) {
      const r = (await api.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, nonResourceAttributes: { path, verb } },
      })) as Status<{ allowed?: boolean; reason?: string }>;
      return { allowed: r.status?.allowed === true, reason: r.status?.reason };
    },
  };
}
