// Every relative link in docs/ and the top-level README resolves: the file
// exists and, for a #fragment into Markdown, the heading does (GitHub's anchors).
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { anchorsOf, brokenLinks, REPO } from './markdown.js';

function markdownUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const FILES = [join(REPO, 'README.md'), ...markdownUnder(join(REPO, 'docs'))];

for (const file of FILES) {
  test(`every relative link in ${relative(REPO, file)} resolves`, (t) => {
    t.deepEqual(brokenLinks(file), []);
  });
}

test('the checker itself finds a missing file and a missing heading', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kalinks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const page = join(dir, 'page.md');
  writeFileSync(page, '# Here\n[a](gone.md) [b](#here) [c](#nowhere) [d](page.md#here) `[e](gone.md)` [f](https://x.invalid/)\n');
  t.deepEqual(brokenLinks(page), ['gone.md: ' + relative(REPO, join(dir, 'gone.md')) + ' does not exist', '#nowhere: no heading #nowhere in ' + relative(REPO, page)]);
  const runbook = join(REPO, 'docs/runbook.md');
  t.true(anchorsOf(readFileSync(runbook, 'utf8')).has('collection-slower-than-interval'));
  t.true(anchorsOf('# A `code` Title: yes?\n# A code title yes\n').has('a-code-title-yes-1'));
  t.false(anchorsOf('```\n# not a heading\n```\n').has('not-a-heading'));
});

test('docs/README.md indexes every hand-written and generated page of docs/', (t) => {
  const index = readFileSync(join(REPO, 'docs/README.md'), 'utf8');
  const pages = readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md') && f !== 'README.md');
  t.deepEqual(pages.filter((p) => !index.includes(`](${p}`)), []);
});
