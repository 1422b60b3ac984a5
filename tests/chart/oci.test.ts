// The chart as users get it: packaged, pushed to an OCI registry (Debian's
// docker-registry on 127.0.0.1), pulled back and rendered from oci://.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_DIR, helm, REPO, templateArgs } from './lib/helm.js';

const REGISTRY = '/usr/bin/docker-registry';
const VERSION = (/^version: (.+)$/m.exec(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')))![1]!;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForRegistry(url: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`registry at ${url} did not answer within 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('helm package, push to a local OCI registry, pull and template from oci:// round trip', async (t) => {
  t.true(existsSync(REGISTRY), `${REGISTRY} is missing: scripts/setup.sh installs Debian's docker-registry`);
  const dir = mkdtempSync(join(tmpdir(), 'chart-oci-'));
  const port = await freePort();
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'storage')}`,
    'http:', `  addr: 127.0.0.1:${port}`, '',
  ].join('\n'));
  const registry = spawn(REGISTRY, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let registryLog = '';
  registry.stderr.on('data', (d: Buffer) => { registryLog += d.toString(); });
  t.teardown(() => {
    registry.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForRegistry(`http://127.0.0.1:${port}/v2/`, Date.now() + 15_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${registryLog}`);
  });

  const pkg = await helm(['package', CHART_DIR, '--destination', dir]);
  t.is(pkg.code, 0, pkg.stderr);
  const tgz = join(dir, `ebpf-agent-${VERSION}.tgz`);
  t.true(existsSync(tgz));

  const ref = `oci://127.0.0.1:${port}/charts`;
  const push = await helm(['push', tgz, ref, '--plain-http']);
  t.is(push.code, 0, push.stderr);
  t.regex(push.stdout + push.stderr, new RegExp(`Pushed: 127\\.0\\.0\\.1:${port}/charts/ebpf-agent:${VERSION.replace(/\./g, '\\.')}`));

  const pulled = join(dir, 'pulled');
  mkdirSync(pulled);
  const pull = await helm(['pull', `${ref}/ebpf-agent`, '--version', VERSION, '--plain-http', '--destination', pulled]);
  t.is(pull.code, 0, pull.stderr);
  t.true(readFileSync(join(pulled, `ebpf-agent-${VERSION}.tgz`)).equals(readFileSync(tgz)), 'the pulled package differs from the pushed one');

  const fromOci = await helm([...templateArgs({ chart: `${ref}/ebpf-agent` }), '--version', VERSION, '--plain-http']);
  t.is(fromOci.code, 0, fromOci.stderr);
  // The committed plain manifests are the same rendering (release, namespace, Kubernetes version), after their two header lines.
  const manifests = readFileSync(join(REPO, 'dist/manifests/ebpf-agent.yaml'), 'utf8').split('\n').slice(2).join('\n');
  t.is(fromOci.stdout, manifests);

  const values = await helm(['show', 'values', `${ref}/ebpf-agent`, '--version', VERSION, '--plain-http']);
  t.is(values.code, 0, values.stderr);
  // helm show values prints the file and one newline of its own.
  t.is(values.stdout, `${readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')}\n`);
});
