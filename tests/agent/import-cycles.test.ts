// Layers import downwards only: any import cycle among agent/src's modules
// fails here, naming the modules around the loop. Type-only imports count
// too: a cycle of types is still two layers that each know the other.
import test from 'ava';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { PROJECT_DIR } from '../../agent/src/addon.js';

const SRC = join(PROJECT_DIR, 'agent', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every relative import of a file (static, re-export, dynamic import()), resolved to a file under agent/src. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const info = ts.preProcessFile(text, true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const base = resolve(dirname(file), fileName).replace(/\.js$/, '');
    const hit = [`${base}.ts`, `${base}.d.ts`, join(base, 'index.ts')].find(existsSync);
    if (hit) out.push(hit);
  }
  return out;
}

/** The cycles of a graph, each once, as module paths around the loop. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

test('the cycle finder finds a loop of three and a self-import, and nothing in a diamond', (t) => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['d']], ['e', ['f', 'g']], ['f', ['h']], ['g', ['h']], ['h', []]]);
  t.deepEqual(findCycles(g), [['a', 'b', 'c', 'a'], ['d', 'd']]);
  t.deepEqual(importsOf(join(SRC, 'x.ts'), "import a from './a.js';\nexport * from './kernel.js';\nconst m = await import('./main.js');\nimport type { B } from 'prom-client';"),
    [join(SRC, 'kernel.ts'), join(SRC, 'main.ts')]);
});

test('no import cycles under agent/src', (t) => {
  const files = sources(SRC);
  t.true(files.length > 30, `found ${files.length} modules`);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const cycles = findCycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(' -> '));
  t.deepEqual(cycles, []);
});
