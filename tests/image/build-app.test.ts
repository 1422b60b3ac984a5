// Runs the Dockerfile's build step (scripts/image/build-app.sh) on this machine,
// from a copy of the Docker build context, then starts the agent from the output
// folder the way the image's ENTRYPOINT does.
import test from 'ava';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../../agent/src/config/settings.js';
import { copyContext } from './docker-context.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ebpf-agent-image-'));
const context = join(work, 'context');
const out = join(work, 'app');
let build: SpawnSyncReturns<string> | undefined;
let buildSeconds = 0;

test.before(() => {
  copyContext(ROOT, context);
  // The image build runs `npm ci` before build-app.sh; reuse the checkout's
  // installed tree instead of a second install.
  symlinkSync(join(ROOT, 'node_modules'), join(context, 'node_modules'));
  const started = Date.now();
  build = spawnSync('bash', [join(context, 'scripts/image/build-app.sh'), out], {
    // A hang guard, not a speed check (a loaded 2-core machine took 154 s;
    // speed belongs to bench/): the image build has no time limit of its own.
    cwd: context, encoding: 'utf8', timeout: 600_000,
  });
  buildSeconds = (Date.now() - started) / 1000;
});

test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** Later checks read the build's output; say so once instead of cascading errors. */
function built(t: { fail: (m: string) => void }): boolean {
  if (build?.status === 0) return true;
  t.fail('build-app.sh failed (see the first test); nothing to check');
  return false;
}

function agent(args: string[]): SpawnSyncReturns<string> {
  // cwd is the output folder and the path is absolute: nothing from the checkout
  // can be picked up by accident.
  return spawnSync('node', [join(out, 'agent/dist/main.js'), ...args], { cwd: out, encoding: 'utf8', timeout: 30_000 });
}

test.serial('build-app.sh succeeds from the Docker build context', (t) => {
  t.is(build?.status, 0, `stdout:\n${build?.stdout}\nstderr:\n${build?.stderr}\n${build?.error ?? ''}`);
  t.log(`build-app.sh took ${buildSeconds.toFixed(1)} s`);
});

test.serial('the output tree holds the runtime files and nothing else', (t) => {
  if (!built(t)) return;
  t.deepEqual(readdirSync(out).sort(), ['agent', 'bpf', 'node_modules', 'package.json']);
  t.deepEqual(readdirSync(join(out, 'agent')).sort(), ['dist', 'native']);
  t.deepEqual(readdirSync(join(out, 'agent/native/build/Release')), ['ebpf_agent.node']);
  const objects = readdirSync(join(out, 'bpf/build'));
  t.deepEqual(objects, readdirSync(join(context, 'bpf/build')).filter((f) => f.endsWith('.o')));
  t.true(objects.length > 0);
  t.true(existsSync(join(out, 'agent/dist/main.js')));
  const leftovers = (readdirSync(join(out, 'agent/dist'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.map') || f.endsWith('.ts'));
  t.deepEqual(leftovers, []);
});

test.serial('node_modules holds exactly the lockfile\'s production packages', (t) => {
  if (!built(t)) return;
  // package-lock marks packages only dev dependencies reach with dev: true.
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
  };
  const topLevel = Object.entries(lock.packages).filter(([path]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path));
  const present = (path: string) => existsSync(join(out, path, 'package.json'));
  const devOnly = topLevel.filter(([, p]) => p.dev).map(([path]) => path);
  const production = topLevel.filter(([, p]) => !p.dev && !p.optional && !p.devOptional).map(([path]) => path);
  t.true(devOnly.includes('node_modules/typescript') && devOnly.includes('node_modules/ava'));
  t.deepEqual(devOnly.filter(present), []);
  t.deepEqual(production.filter((p) => !present(p)), []);
  t.true(present('node_modules/prom-client'));
});

test.serial('the built agent starts from the output folder: --help lists its settings', (t) => {
  if (!built(t)) return;
  const r = agent(['--help']);
  t.is(r.status, 0, r.stderr);
  for (const s of Object.values(SETTINGS)) t.true(r.stdout.includes(s.env), s.env);
  t.true(r.stdout.includes('EBPF_METRICS_PORT'));
});

test.serial('the built agent runs its preflight check from the output folder and prints JSON', (t) => {
  if (!built(t)) return;
  const r = agent(['check', '--output', 'json']);
  t.is(r.error, undefined);
  let report: { ok?: unknown; checks?: Array<{ name?: unknown; status?: unknown }> } = {};
  t.notThrows(() => { report = JSON.parse(r.stdout) as typeof report; }, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  t.is(typeof report.ok, 'boolean');
  t.true(Array.isArray(report.checks) && report.checks.length > 0);
  for (const c of report.checks ?? []) t.true(typeof c.name === 'string' && ['pass', 'warn', 'fail'].includes(String(c.status)), JSON.stringify(c));
  // Documented exit codes: 0 when every check passes, 1 when one failed.
  t.is(r.status, report.ok ? 0 : 1);
});
