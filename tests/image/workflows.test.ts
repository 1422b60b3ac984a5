import test from 'ava';
import { Ajv } from 'ajv';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { E2E_ENV } from '../e2e/kind/env.js';
import { WORKFLOW_SCHEMA } from './workflow-schema.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = `${ROOT}.github/workflows/`;

interface Step { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, unknown>; if?: string }
interface Job {
  'runs-on': string;
  container?: { image: string; options?: string };
  strategy?: { matrix: Record<string, unknown[]> & { include?: Record<string, string>[] } };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow { name: string; on: Record<string, { tags?: string[]; branches?: string[] } | null>; env?: Record<string, string>; permissions: Record<string, string>; jobs: Record<string, Job> }

function load(file: string): Workflow {
  const doc = parseDocument(readFileSync(DIR + file, 'utf8'), { uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
  // YAML 1.1 readers (GitHub's) turn a bare `on` into true; keep it a string key.
  return doc.toJS() as Workflow;
}

const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(WORKFLOW_SCHEMA);
const FILES = ['ci.yaml', 'e2e-kind.yaml', 'release.yaml'];

test('the workflow folder holds exactly ci, e2e-kind and release', (t) => {
  t.deepEqual(readdirSync(DIR).sort(), FILES);
});

for (const file of FILES) {
  test(`${file} parses as YAML and matches the workflow schema`, (t) => {
    const wf = load(file);
    t.true(validate(wf), JSON.stringify(validate.errors, null, 2));
  });

  test(`${file}: every matrix and step-output reference resolves`, (t) => {
    const unresolved: string[] = [];
    for (const [id, job] of Object.entries(load(file).jobs)) {
      const text = JSON.stringify(job);
      const matrixKeys = new Set([
        ...Object.keys(job.strategy?.matrix ?? {}).filter((k) => k !== 'include'),
        ...(job.strategy?.matrix.include ?? []).flatMap((row) => Object.keys(row)),
      ]);
      for (const [, key] of text.matchAll(/matrix\.([A-Za-z0-9_-]+)/g)) if (!matrixKeys.has(key!)) unresolved.push(`${id}: matrix.${key}`);
      const stepIds = new Set(job.steps.map((s) => (s as { id?: string }).id).filter(Boolean));
      for (const [, key] of text.matchAll(/steps\.([A-Za-z0-9_-]+)\.outputs/g)) if (!stepIds.has(key!)) unresolved.push(`${id}: steps.${key}`);
    }
    t.deepEqual(unresolved, []);
  });
}

test('the schema rejects a misspelt key and a step that neither runs nor uses', (t) => {
  const wf = load('ci.yaml');
  const job = wf.jobs.test!;
  t.false(validate({ ...wf, jobs: { test: { ...job, 'runs_on': job['runs-on'] } } }));
  t.false(validate({ ...wf, jobs: { test: { ...job, steps: [{ name: 'nothing' }] } } }));
  t.false(validate({ ...wf, jobs: { test: { ...job, 'runs-on': 'ubuntu-20.04' } } }));
});

test('ci.yaml runs the README test command as root in Debian 12 with Node 24', (t) => {
  const job = load('ci.yaml').jobs.test!;
  t.deepEqual(job.container, { image: 'node:24-bookworm', options: '--privileged' });
  t.is(job.steps.at(-1)?.run, 'npm test');
});

test('e2e-kind.yaml: Kubernetes 1.24 and the newest, each with the kind release its node image was built for', (t) => {
  const wf = load('e2e-kind.yaml');
  const job = wf.jobs.kind!;
  t.deepEqual(job.strategy?.matrix.kubernetes, ['1.24', 'newest']);
  t.deepEqual(job.strategy?.matrix.ipFamily, ['ipv4', 'dual']);
  const rows = Object.fromEntries((job.strategy?.matrix.include ?? []).map((r) => [r.kubernetes, r]));
  t.regex(rows['1.24']!.nodeImage!, /^kindest\/node:v1\.24\.\d+$/);
  t.regex(rows.newest!.nodeImage!, /^kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
  t.regex(rows['1.24']!.kind!, /^v0\.\d+\.\d+$/);
  t.regex(rows.newest!.kind!, /^v0\.\d+\.\d+$/);
});

test('e2e-kind.yaml sets the variables the kind suite reads and runs a suite file that exists', (t) => {
  const wf = load('e2e-kind.yaml');
  const steps = wf.jobs.kind!.steps;
  const suite = steps.find((s) => s.run?.includes('tests/e2e/kind/'))!;
  const file = /tests\/e2e\/kind\/\S+\.test\.ts/.exec(suite.run!)![0];
  t.true(existsSync(ROOT + file), file);
  const env = { ...wf.env, ...suite.env };
  for (const name of [E2E_ENV.nodeImage, E2E_ENV.ipFamily, E2E_ENV.agentImage, E2E_ENV.require, E2E_ENV.logsDir]) {
    t.true(name in env, name);
  }
  t.is(env[E2E_ENV.require], '1');
  const build = steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
  t.is(build.with?.tags, `\${{ env.${E2E_ENV.agentImage} }}`);
  t.is(build.with?.load, true);
});

test('release.yaml: on v* tags, pushes the image with buildx and the chart with helm to the OCI registry', (t) => {
  const wf = load('release.yaml');
  t.deepEqual(Object.keys(wf.on), ['push']);
  t.deepEqual(wf.on.push, { tags: ['v*'] });
  t.is(wf.permissions.packages, 'write');
  const steps = wf.jobs.release!.steps;
  const build = steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
  t.is(build.with?.push, true);
  const login = steps.find((s) => s.uses?.startsWith('docker/login-action@'))!;
  t.is(login.with?.password, '${{ secrets.GITHUB_TOKEN }}');
  const chart = steps.find((s) => s.run?.includes('helm push'))!.run!;
  t.regex(chart, /helm package dist\/charts\/ebpf-agent --version "\$VERSION" --app-version "\$VERSION"/);
  t.regex(chart, /helm push "\$RUNNER_TEMP\/charts\/ebpf-agent-\$VERSION\.tgz" "\$CHARTS"/);
});

test('every action is pinned to a version tag or commit', (t) => {
  for (const file of FILES) {
    for (const job of Object.values(load(file).jobs)) {
      for (const s of job.steps.filter((s) => s.uses)) t.regex(s.uses!, /@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/, `${file}: ${s.uses}`);
    }
  }
});
