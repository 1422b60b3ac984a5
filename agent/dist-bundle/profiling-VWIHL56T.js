import {
  close,
  listen
} from "./chunk-GCQEIODM.js";

// agent/dist/metrics/profiling.js
import { Session } from "node:inspector/promises";
import { getHeapSnapshot } from "node:v8";
var { createServer } = process.getBuiltinModule("node:http");
var MAX_SECONDS = 120;
async function cpuProfile(seconds) {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
    await new Promise((r) => setTimeout(r, seconds * 1e3));
    const { profile } = await session.post("Profiler.stop");
    return JSON.stringify(profile);
  } finally {
    session.disconnect();
  }
}
var ProfilingServer = class {
  server;
  async start(port, address) {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/debug/cpu-profile") {
        const text = url.searchParams.get("seconds") ?? "10";
        const seconds = Number(text);
        if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_SECONDS) {
          res.writeHead(400, { "content-type": "text/plain" }).end(`invalid seconds=${JSON.stringify(text)}: expected an integer from 1 to ${MAX_SECONDS}
`);
          return;
        }
        cpuProfile(seconds).then((body) => res.writeHead(200, { "content-type": "application/json", "content-disposition": 'attachment; filename="agent.cpuprofile"' }).end(body), (err) => res.writeHead(500, { "content-type": "text/plain" }).end(`profiling failed: ${err.message}
`));
      } else if (url.pathname === "/debug/heap-snapshot") {
        res.writeHead(200, { "content-type": "application/json", "content-disposition": 'attachment; filename="agent.heapsnapshot"' });
        getHeapSnapshot().pipe(res);
      } else {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /debug/cpu-profile?seconds=10 or /debug/heap-snapshot\n");
      }
    });
    const bound = await listen(server, port, address);
    this.server = server;
    return bound;
  }
  async stop() {
    const server = this.server;
    this.server = void 0;
    if (server)
      await close(server);
  }
};
function profilingAddress(metricsAddress) {
  return metricsAddress === "127.0.0.1" || metricsAddress === "::1" ? metricsAddress : "127.0.0.1";
}
export {
  ProfilingServer,
  profilingAddress
};
