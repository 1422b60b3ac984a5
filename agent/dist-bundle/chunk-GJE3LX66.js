// agent/dist/metrics/auth.js
var ReviewUnavailable = class extends Error {
};
var METRICS_PATH = "/metrics";
var KubernetesAuthorizer = class {
  api;
  now;
  ttlMs;
  maxEntries;
  maxTokenBytes;
  maxInflight;
  /** Insertion-ordered: the first key is the oldest entry. */
  cache = /* @__PURE__ */ new Map();
  /** One review in flight per token: a burst of scrapes with one token asks once. */
  inflight = /* @__PURE__ */ new Map();
  reviews = 0;
  constructor(api, options = {}, now = () => Date.now()) {
    this.api = api;
    this.now = now;
    this.ttlMs = options.ttlMs ?? 6e4;
    this.maxEntries = options.maxEntries ?? 1024;
    this.maxTokenBytes = options.maxTokenBytes ?? 16384;
    this.maxInflight = options.maxInflight ?? 16;
  }
  /** authorization: the request's Authorization header. Throws when the API server cannot be asked. */
  async decide(authorization) {
    const m = /^Bearer ([!-~]+)$/i.exec(authorization ?? "");
    if (!m)
      return { kind: "unauthenticated", reason: "no bearer token" };
    const token = m[1];
    if (token.length > this.maxTokenBytes)
      return { kind: "unauthenticated", reason: "bearer token too long" };
    const key = process.getBuiltinModule("node:crypto").createHash("sha256").update(token).digest("base64");
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now())
      return hit.decision;
    if (hit)
      this.cache.delete(key);
    let pending = this.inflight.get(key);
    if (!pending) {
      if (this.inflight.size >= this.maxInflight)
        throw new ReviewUnavailable(`${this.maxInflight} token reviews already in flight`);
      pending = this.review(token).catch((err) => {
        throw new ReviewUnavailable(`asking the API server failed: ${err.message ?? String(err)}`);
      }).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const decision = await pending;
    this.remember(key, decision);
    return decision;
  }
  remember(key, decision) {
    this.cache.delete(key);
    while (this.cache.size >= this.maxEntries)
      this.cache.delete(this.cache.keys().next().value);
    this.cache.set(key, { decision, expires: this.now() + this.ttlMs });
  }
  async review(token) {
    this.reviews++;
    const tr = await this.api.tokenReview(token);
    const username = tr.user?.username;
    if (!tr.authenticated || !username)
      return { kind: "unauthenticated", reason: tr.error || "token not authenticated" };
    const user = { username, uid: tr.user?.uid, groups: tr.user?.groups, extra: tr.user?.extra };
    const sar = await this.api.subjectAccessReview(user, METRICS_PATH, "get");
    return sar.allowed ? { kind: "allowed", user: username } : { kind: "forbidden", user: username, reason: sar.reason || `${username} may not get ${METRICS_PATH}` };
  }
};
async function kubernetesReviewApi() {
  const { loadApiClient } = await import("./api-FUOQBZO5.js");
  const found = await loadApiClient(process.env);
  if ("reason" in found)
    throw new Error(`EBPF_METRICS_AUTH=kubernetes needs the Kubernetes API: ${found.reason}`);
  const api = found.client;
  return {
    async tokenReview(token) {
      const r = await api.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token }
      });
      return { authenticated: r.status?.authenticated === true, user: r.status?.user, error: r.status?.error };
    },
    async subjectAccessReview(user, path, verb) {
      const r = await api.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, nonResourceAttributes: { path, verb } }
      });
      return { allowed: r.status?.allowed === true, reason: r.status?.reason };
    }
  };
}

export {
  ReviewUnavailable,
  METRICS_PATH,
  KubernetesAuthorizer,
  kubernetesReviewApi
};
