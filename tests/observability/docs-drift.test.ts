// The generated reference docs must be what scripts/gen-docs.ts produces from
// the current definitions: a metric, setting, panel or alert changed without
// `npm run docs` fails here.

import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { METRIC_LIST } from '../../agent/src/metrics/definitions.js';
import { SETTINGS } from '../../agent/src/config/settings.js';
import { generatedDocs, REPO_ROOT } from '../../scripts/gen-docs.js';

const docs = generatedDocs();

for (const [path, expected] of Object.entries(docs)) {
  test(`${path} is up to date (npm run docs)`, async (t) => {
    const actual = await readFile(join(REPO_ROOT, path), 'utf8').catch(() => '(missing)');
    t.is(actual, expected, `${path} differs from the generator: run npm run docs and commit`);
  });
}

test('docs/dashboards and docs/alerts hold only generated files', async (t) => {
  for (const dir of ['docs/dashboards', 'docs/alerts']) {
    const files = (await readdir(join(REPO_ROOT, dir))).map((f) => `${dir}/${f}`).sort();
    t.deepEqual(files, Object.keys(docs).filter((p) => p.startsWith(`${dir}/`)).sort());
  }
});

test('metrics.md has one row per metric and configuration.md one per setting', (t) => {
  const metricRows = docs['docs/metrics.md']!.split('\n').filter((l) => l.startsWith('| `kubeadapt_'));
  t.deepEqual(metricRows.map((l) => l.split('`')[1]), METRIC_LIST.map((m) => m.name));
  const settingRows = docs['docs/configuration.md']!.split('\n').filter((l) => l.startsWith('| `EBPF_'));
  t.deepEqual(settingRows.map((l) => l.split('`')[1]), Object.values(SETTINGS).map((s) => s.env));
  t.true(settingRows.includes('| `EBPF_COLLECTION_INTERVAL` | `--collection-interval` | `config.collectionInterval` | `25s` | a duration from 100ms to 1h such as 500ms, 1s, 25s or 1m | How often the flow maps are drained into the counters |'));
});

test('npm run docs runs the generator', async (t) => {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.is(pkg.scripts.docs, 'tsx scripts/gen-docs.ts');
});
