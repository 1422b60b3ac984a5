// A throwaway OCI registry (Debian's docker-registry, the CNCF distribution
// server) on 127.0.0.1, and the helm calls that publish a chart to it, so the
// suite installs the chart the way users do: from an OCI reference.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { run, waitFor } from './command.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface PublishedChart {
  readonly name: string;
  readonly version: string;
  /** oci://127.0.0.1:<port>/charts/<name> */
  readonly ref: string;
}

export class LocalChartRegistry {
  private readonly dir = mkdtempSync(join(tmpdir(), 'ebpf-agent-registry-'));
  private child?: ChildProcess;
  private port = 0;

  /** Helm keeps its registry config and cache in the temp folder, not in $HOME. */
  readonly helmEnv: NodeJS.ProcessEnv = {
    ...process.env,
    HELM_CONFIG_HOME: join(this.dir, 'helm/config'),
    HELM_CACHE_HOME: join(this.dir, 'helm/cache'),
    HELM_DATA_HOME: join(this.dir, 'helm/data'),
  };

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const config = join(this.dir, 'config.yml');
    writeFileSync(config, [
      'version: 0.1',
      'log: {level: error}',
      `storage: {filesystem: {rootdirectory: ${join(this.dir, 'data')}}}`,
      `http: {addr: "${this.host}"}`,
      '',
    ].join('\n'));
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    await waitFor(`docker-registry on ${this.host}`, async () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr}`);
      const res = await fetch(`http://${this.host}/v2/`);
      return res.status === 200 ? true : undefined;
    }, 20_000, 200);
  }

  /** helm package + helm push --plain-http; returns the reference to install from. */
  async publish(chartDir: string): Promise<PublishedChart> {
    const meta = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { name: string; version: string };
    const out = join(this.dir, 'packages');
    await run('helm', ['package', chartDir, '--destination', out], { env: this.helmEnv });
    await run('helm', ['push', join(out, `${meta.name}-${meta.version}.tgz`), `oci://${this.host}/charts`, '--plain-http'],
      { env: this.helmEnv });
    return { name: meta.name, version: meta.version, ref: `oci://${this.host}/charts/${meta.name}` };
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
