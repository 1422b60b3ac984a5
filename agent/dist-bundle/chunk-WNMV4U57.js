// agent/dist/kubernetes/api.js
import { readFileSync } from "node:fs";
var SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";
var TOKEN_REREAD_MS = 6e4;
var RETRY_MS = [1e3, 2e3, 5e3, 1e4, 3e4];
var retryDelayMs = (failures) => RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
var ApiError = class extends Error {
  statusCode;
  constructor(message, statusCode) {
    super(message);
    this.statusCode = statusCode;
  }
};
var ApiClient = class {
  server;
  authenticate;
  constructor(server, authenticate) {
    this.server = server;
    this.authenticate = authenticate;
  }
  async open(method, path, body, timeoutMs, signal) {
    const url = new URL(this.server.replace(/\/$/, "") + path);
    const headers = { Accept: "application/json" };
    if (body !== void 0)
      headers["Content-Type"] = "application/json";
    const opts = { method, headers, timeout: timeoutMs, ...signal ? { signal } : {} };
    await this.authenticate(opts);
    return new Promise((resolve, reject) => {
      const { request } = url.protocol === "http:" ? process.getBuiltinModule("node:http") : process.getBuiltinModule("node:https");
      const req = request(url, opts, resolve);
      req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname}: no answer in ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(body === void 0 ? void 0 : JSON.stringify(body));
    });
  }
  /** One request; the answer parsed. Rejects with ApiError (status and the start of the answer) unless 2xx. */
  async request(method, path, body, timeoutMs = 3e4) {
    const res = await this.open(method, path, body, timeoutMs);
    const chunks = [];
    for await (const c of res)
      chunks.push(c);
    const text = Buffer.concat(chunks).toString("utf8");
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299)
      throw new ApiError(`${method} ${path}: ${status} ${text.slice(0, 300)}`, status);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`${method} ${path}: not JSON: ${err.message}`);
    }
  }
  /**
   * A watch: onEvent for each event the server streams, then done() once:
   * with no error when the server ended it (its timeout), else with why (an
   * ApiError for a refused watch, an AbortError after abort()).
   */
  watch(path, query, onEvent, done) {
    const abort = new AbortController();
    const q = new URLSearchParams({ watch: "true", ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
    let finished = false;
    const finish = (err) => {
      if (finished)
        return;
      finished = true;
      done(abort.signal.aborted ? Object.assign(new Error(`watch ${path}: aborted`), { name: "AbortError" }) : err);
    };
    this.open("GET", `${path}?${q}`, void 0, 0, abort.signal).then((res) => {
      if (res.statusCode !== 200) {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => finish(new ApiError(`watch ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString("utf8").slice(0, 300)}`, res.statusCode ?? 0)));
        res.on("error", finish);
        return;
      }
      let pending = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        pending += chunk;
        for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (!line.trim())
            continue;
          let event;
          try {
            event = JSON.parse(line);
          } catch (err) {
            abort.abort();
            return finish(new Error(`watch ${path}: an event that is not JSON: ${err.message}`));
          }
          onEvent(event.type ?? "", event.object);
        }
      });
      let ended = false;
      res.on("end", () => {
        ended = true;
        finish();
      });
      res.on("error", finish);
      res.on("close", () => {
        if (!ended)
          finish(new Error(`watch ${path}: connection closed`));
      });
    }, finish);
    return abort;
  }
};
var LEAN_USER_FIELDS = /* @__PURE__ */ new Set(["token", "tokenFile", "client-certificate", "client-certificate-data", "client-key", "client-key-data"]);
function leanKubeconfig(text) {
  let kc;
  try {
    kc = JSON.parse(text);
  } catch {
    return void 0;
  }
  const ctx = kc.contexts?.find((c) => c.name === kc["current-context"])?.context;
  const cluster = kc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = kc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (!cluster?.server || Object.keys(user).some((k) => !LEAN_USER_FIELDS.has(k)))
    return void 0;
  const file = (path) => typeof path === "string" ? readFileSync(path) : void 0;
  const data = (b64) => typeof b64 === "string" ? Buffer.from(b64, "base64") : void 0;
  const ca = data(cluster["certificate-authority-data"]) ?? file(cluster["certificate-authority"]);
  const cert = data(user["client-certificate-data"]) ?? file(user["client-certificate"]);
  const key = data(user["client-key-data"]) ?? file(user["client-key"]);
  const token = () => typeof user.token === "string" ? user.token : typeof user.tokenFile === "string" ? readFileSync(user.tokenFile, "utf8").trim() : void 0;
  return new ApiClient(cluster.server, async (opts) => {
    if (ca)
      opts.ca = ca;
    if (cert)
      opts.cert = cert;
    if (key)
      opts.key = key;
    if (cluster["insecure-skip-tls-verify"])
      opts.rejectUnauthorized = false;
    const t = token();
    if (t)
      opts.headers.Authorization = `Bearer ${t}`;
  });
}
function inCluster(env, dir = SERVICE_ACCOUNT) {
  const host = env.KUBERNETES_SERVICE_HOST;
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? "443"}`;
  const ca = readFileSync(`${dir}/ca.crt`);
  let token = "";
  let readAt = 0;
  return new ApiClient(server, async (opts) => {
    if (Date.now() - readAt > TOKEN_REREAD_MS) {
      token = readFileSync(`${dir}/token`, "utf8").trim();
      readAt = Date.now();
    }
    opts.ca = ca;
    opts.headers.Authorization = `Bearer ${token}`;
  });
}
async function loadApiClient(env) {
  if (env.KUBECONFIG) {
    const source = `KUBECONFIG=${env.KUBECONFIG}`;
    try {
      const lean = leanKubeconfig(readFileSync(env.KUBECONFIG, "utf8"));
      if (lean)
        return { client: lean, source };
      const { KubeConfig } = await import("@kubernetes/client-node");
      const kc = new KubeConfig();
      kc.loadFromFile(env.KUBECONFIG);
      const server = kc.getCurrentCluster()?.server;
      if (!server)
        return { reason: `${source}: no current cluster` };
      return { client: new ApiClient(server, (opts) => kc.applyToHTTPSOptions(opts)), source };
    } catch (err) {
      return { reason: `${source}: ${err.message}` };
    }
  }
  if (!env.KUBERNETES_SERVICE_HOST)
    return { reason: "neither KUBECONFIG nor KUBERNETES_SERVICE_HOST is set: not in a pod" };
  try {
    return { client: inCluster(env), source: "in-cluster service account" };
  } catch (err) {
    return { reason: `in-cluster service account: ${err.message}` };
  }
}

export {
  retryDelayMs,
  ApiError,
  ApiClient,
  loadApiClient
};
