// Runs Debian's real prometheus binary for a test: a private port on 127.0.0.1,
// a temp config and TSDB, and a typed instant-query client. Callers register
// stop() with t.teardown() so the process and its directory go even when the test fails.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
/** util-linux (essential in Debian). */
const SETPRIV = '/usr/bin/setpriv';

export interface PrometheusOptions {
  /** `host:port` of each target to scrape (its /metrics path unless `metricsPath` says otherwise). */
  readonly targets: readonly string[];
  /** @default 'ebpf-agent' */
  readonly job?: string;
  /** Extra labels put on every target's series (e.g. `node`). @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** @default '/metrics' */
  readonly metricsPath?: string;
  /** @default '1s' */
  readonly scrapeInterval?: string;
  /** How long start() waits for the first scrape of every target. @default 20000 */
  readonly startTimeoutMs?: number;
  /** Start even when a target's first scrape fails (tests of `up == 0`). @default false */
  readonly allowDown?: boolean;
  /**
   * More keys of the scrape config, as Prometheus spells them (`scheme`,
   * `tls_config`, `authorization`). Paths in them are written as given. @default {}
   */
  readonly scrapeConfig?: Readonly<Record<string, unknown>>;
}

export interface Sample {
  readonly metric: Record<string, string>;
  /** The sample value; NaN and ±Inf come back as numbers too. */
  readonly value: number;
}

/** An error answer of the query API (errorType is e.g. `bad_data` for a PromQL parse error). */
export class PrometheusQueryError extends Error {
  constructor(
    readonly expr: string,
    readonly errorType: string,
    readonly detail: string,
  ) {
    super(`prometheus rejected ${JSON.stringify(expr)}: ${errorType}: ${detail}`);
    this.name = 'PrometheusQueryError';
  }
}

export interface TargetState {
  readonly scrapeUrl: string;
  readonly health: string;
  readonly lastError: string;
  readonly lastScrape: string;
}

export interface RunningPrometheus {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly job: string;
  /** The temp directory holding the config and the TSDB; removed by stop(). */
  readonly dir: string;
  /** Evaluates `expr` now (or at `time`, Unix seconds); throws PrometheusQueryError on an API error. */
  instantQuery(expr: string, time?: number): Promise<Sample[]>;
  /** The targets as /api/v1/targets reports them. */
  targets(): Promise<TargetState[]>;
  /** Resolves once every target has been scraped at least `count` times (needed before rate()). */
  waitForScrapes(count: number, timeoutMs?: number): Promise<void>;
  /** Everything prometheus wrote to stderr so far (for failure messages). */
  log(): string;
  /** Kills the process by PID and removes the temp directory; safe to call twice. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago; prometheus failing to bind is retried by start. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

type ScrapeSettings = Required<Omit<PrometheusOptions, 'startTimeoutMs' | 'allowDown'>>;


function configYaml(o: ScrapeSettings): string {
  // JSON is valid YAML, so no YAML library is needed to write the config exactly.
  return JSON.stringify({
    global: { scrape_interval: o.scrapeInterval, evaluation_interval: o.scrapeInterval },
    scrape_configs: [{
      job_name: o.job,
      metrics_path: o.metricsPath,
      scrape_timeout: o.scrapeInterval,
      static_configs: [{ targets: o.targets, labels: o.labels }],
      ...o.scrapeConfig,
    }],
  }, null, 2);
}

function parseValue(text: string): number {
  // Prometheus writes NaN, +Inf and -Inf as strings Number() understands except +Inf.
  return text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
}

// Children still running when the test process exits (a crashed test) are killed here.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** PIDs of prometheus processes started by this helper that are still running. */
export function livePrometheusPids(): number[] {
  return [...live].map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
}

async function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([
    new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))),
    sleep(ms).then(() => false),
  ]);
}

async function launch(o: ScrapeSettings, dir: string, port: number): Promise<{ child: ChildProcess; stderr: () => string }> {
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, configYaml(o));
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ];
  // ava kills a timed-out worker with no chance to run teardowns or exit
  // handlers; the parent-death signal takes prometheus down with it. setpriv
  // execs prometheus, so the PID stays the one we kill in stop().
  const child = existsSync(SETPRIV)
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', PROMETHEUS_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(PROMETHEUS_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`cannot run ${PROMETHEUS_BIN}: ${err.message} (Debian package prometheus)`)));
  });
  return { child, stderr: () => stderr };
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  if (options.targets.length === 0) throw new Error('startPrometheus: targets is empty; accepted: one or more host:port');
  const o = {
    targets: options.targets,
    job: options.job ?? 'ebpf-agent',
    labels: options.labels ?? {},
    metricsPath: options.metricsPath ?? '/metrics',
    scrapeInterval: options.scrapeInterval ?? '1s',
    scrapeConfig: options.scrapeConfig ?? {},
  };
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const dir = await mkdtemp(join(tmpdir(), 'prometheus-test-'));

  let child: ChildProcess | undefined;
  let stderr = () => '';
  let port = 0;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child?.pid !== undefined && !(await exited(child, 0))) {
      process.kill(child.pid, 'SIGTERM');
      if (!(await exited(child, 5000))) {
        process.kill(child.pid, 'SIGKILL');
        await exited(child, 5000);
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // A port taken between freePort() and the bind makes prometheus exit at once: try another.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      ({ child, stderr } = await launch(o, dir, port));
      if (await waitReady(`http://127.0.0.1:${port}`, child, timeoutMs)) break;
      if (attempt === 3 || !/address already in use/.test(stderr())) {
        throw new Error(`prometheus did not become ready on port ${port}:\n${stderr()}`);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const url = `http://127.0.0.1:${port}`;
  const api = async (path: string): Promise<unknown> => {
    const res = await fetch(`${url}${path}`);
    return res.json();
  };

  const prom: RunningPrometheus = {
    url,
    port,
    pid: child!.pid!,
    job: o.job,
    dir,
    log: () => stderr(),
    stop,
    async instantQuery(expr, time) {
      const params = new URLSearchParams({ query: expr });
      if (time !== undefined) params.set('time', String(time));
      const body = await api(`/api/v1/query?${params}`) as {
        status: string; errorType?: string; error?: string;
        data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== 'success') throw new PrometheusQueryError(expr, body.errorType ?? 'unknown', body.error ?? '');
      if (body.data?.resultType !== 'vector') {
        throw new PrometheusQueryError(expr, 'not_a_vector', `result type is ${body.data?.resultType}; instantQuery returns vectors only`);
      }
      return body.data.result.map((r) => ({ metric: r.metric, value: parseValue(r.value[1]) }));
    },
    async targets() {
      const body = await api('/api/v1/targets?state=active') as { data: { activeTargets: TargetState[] } };
      return body.data.activeTargets;
    },
    async waitForScrapes(count, waitMs = 20_000) {
      const deadline = Date.now() + waitMs;
      const expr = `count_over_time(up{job=${JSON.stringify(o.job)}}[1h])`;
      for (;;) {
        const counts = await prom.instantQuery(expr);
        if (counts.length === o.targets.length && counts.every((s) => s.value >= count)) return;
        if (Date.now() > deadline) {
          const states = await prom.targets();
          throw new Error(`prometheus: targets not scraped ${count} times within ${waitMs} ms: ${JSON.stringify(states)}\n${stderr()}`);
        }
        await sleep(200);
      }
    },
  };

  try {
    await prom.waitForScrapes(1, timeoutMs);
    const down = (await prom.targets()).filter((t) => t.health !== 'up');
    if (down.length > 0 && !options.allowDown) {
      throw new Error(`prometheus: first scrape failed: ${down.map((t) => `${t.scrapeUrl}: ${t.lastError}`).join('; ')}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return prom;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return false;
}
