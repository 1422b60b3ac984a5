// Prometheus 2.42 (Debian's release, built with its Kubernetes discoverer by
// scripts/cluster/build-prometheus.sh) on 127.0.0.1, finding the agent as a
// user's Prometheus would: kubernetes_sd_configs (role pod) against the node's
// API server, kept by the chart's prometheus.io/* pod annotations (the usual
// kubernetes-pods job).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../kind/registry.js';
import { waitFor } from '../kind/command.js';
import type { Sample } from '../../helpers/prometheus.js';

export class DiscoveringPrometheus {
  readonly dir = mkdtempSync(join(tmpdir(), 'kubeadapt-cluster-prometheus-'));
  private child?: ChildProcess;
  private stderr = '';
  url = '';

  /** bin: the prometheus binary; apiServer: https URL; token: a bearer token allowed to list pods; caFile: the API's CA. */
  async start(bin: string, apiServer: string, token: string, caFile: string): Promise<void> {
    writeFileSync(join(this.dir, 'token'), token, { mode: 0o600 });
    const sd = { api_server: apiServer, role: 'pod', tls_config: { ca_file: caFile }, authorization: { credentials_file: join(this.dir, 'token') } };
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: [{
        job_name: 'kubernetes-pods',
        kubernetes_sd_configs: [sd],
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
          { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], action: 'replace', target_label: '__metrics_path__', regex: '(.+)' },
          {
            source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'], action: 'replace',
            regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: '__address__',
          },
          { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
          { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
        ],
      }],
    };
    writeFileSync(join(this.dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    // The parent-death signal takes prometheus down with a killed test worker.
    this.child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', bin, `--config.file=${join(this.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-20_000); });
    await waitFor('prometheus ready', async () => {
      if (this.child!.exitCode !== null) throw new Error(`prometheus exited ${this.child!.exitCode}: ${this.stderr}`);
      return (await fetch(`${this.url}/-/ready`)).ok ? true : undefined;
    }, 30_000, 200);
  }

  log(): string {
    return this.stderr;
  }

  async targets(): Promise<{ labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }[]> {
    const body = await (await fetch(`${this.url}/api/v1/targets?state=active`)).json() as { data: { activeTargets: [] } };
    return body.data.activeTargets;
  }

  async instantQuery(expr: string): Promise<Sample[]> {
    const body = await (await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expr })}`)).json() as
      { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`prometheus rejected ${expr}: ${body.error}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
