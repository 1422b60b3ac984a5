// Every relative link in docs/ and the top-level README resolves: the file
// exists and, for a #fragment into Markdown, the heading does (GitHub's anchors).
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function markdownUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** Text outside fenced code blocks and inline code, where a link is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
export function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = heading[1]!.replace(/`/g, '').toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replaceAll(' ', '-');
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]!);
  }
  return out;
}

export function brokenLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const broken: string[] = [];
  for (const m of prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...
    const [path = '', fragment] = target.split('#', 2);
    const dest = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    if (!existsSync(dest)) {
      broken.push(`${target}: ${relative(REPO, dest)} does not exist`);
      continue;
    }
    if (fragment !== undefined && dest.endsWith('.md') && !anchorsOf(readFileSync(dest, 'utf8')).has(fragment)) {
      broken.push(`${target}: no heading #${fragment} in ${relative(REPO, dest)}`);
    }
  }
  return broken;
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
