import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { argsOf, readStages } from './dockerfile.js';
import { SHIPPED_NODE_FLAGS } from '../../bench/node-flags.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKERFILE = readFileSync(`${ROOT}Dockerfile`, 'utf8');

function problems(text: string): string[] {
  return validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
}

test('dockerfile-utils reports zero problems (errors and warnings) for the Dockerfile', (t) => {
  t.deepEqual(problems(DOCKERFILE), []);
});

test('the linter is live: a duplicated stage name and a lowercase instruction are reported', (t) => {
  const broken = DOCKERFILE.replace('AS runtime', 'AS build').replace(/^ENTRYPOINT/m, 'entrypoint');
  const found = problems(broken);
  t.true(found.some((p) => /duplicate name build/.test(p)), found.join('\n'));
  t.true(found.some((p) => /uppercase/.test(p)), found.join('\n'));
});

test('two stages: a bookworm Node 24 build stage and a slim Node 24 runtime stage', (t) => {
  const stages = readStages(DOCKERFILE);
  t.deepEqual(
    stages.map((s) => [s.from, s.name]),
    [
      ['node:${NODE_MAJOR}-${DEBIAN_RELEASE}', 'build'],
      ['node:${NODE_MAJOR}-${DEBIAN_RELEASE}-slim', 'runtime'],
    ],
  );
  t.true(DOCKERFILE.includes('ARG NODE_MAJOR=24\n'));
  t.true(DOCKERFILE.includes('ARG DEBIAN_RELEASE=bookworm\n'));
});

test('the build stage assembles the app with scripts/image/build-app.sh, the script the local test runs', (t) => {
  const [build] = readStages(DOCKERFILE);
  t.true(argsOf(build!, 'RUN').includes('bash scripts/image/build-app.sh /out'));
});

test('the runtime stage: libbpf1/libelf1/zlib only, no compilers, root user, exec-form node entrypoint', (t) => {
  const runtime = readStages(DOCKERFILE)[1]!;
  const runs = argsOf(runtime, 'RUN').join(' ');
  const installed = /apt-get install -y --no-install-recommends ((?:[a-z0-9.+-]+ ?)+)/.exec(runs)?.[1]?.trim().split(' ');
  t.deepEqual(installed, ['libbpf1', 'libelf1', 'zlib1g']);
  for (const tool of ['clang', 'gcc', 'g++', 'make', 'llvm', '-dev']) t.false(runs.includes(tool), tool);
  t.deepEqual(argsOf(runtime, 'COPY'), ['--from=build /out /app']);
  t.deepEqual(argsOf(runtime, 'USER'), ['root']);
  t.deepEqual(argsOf(runtime, 'ENTRYPOINT'), [JSON.stringify(['node', ...SHIPPED_NODE_FLAGS, '/app/agent/dist/main.js']).replaceAll('","', '", "')]);
  t.deepEqual(argsOf(runtime, 'CMD'), []);
  // Nothing may be written under the image's root at run time: no VOLUME that
  // would need a writable mount, no HEALTHCHECK command (the chart probes HTTP).
  t.deepEqual(argsOf(runtime, 'VOLUME'), []);
  t.deepEqual(argsOf(runtime, 'HEALTHCHECK'), []);
});

test('.dockerignore is an allow-list that keeps host build output and node_modules out of the context', (t) => {
  const lines = readFileSync(`${ROOT}.dockerignore`, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  t.is(lines[0], '*');
  for (const p of ['node_modules', '.git', 'agent/dist', 'dist']) t.false(lines.includes(`!${p}`), p);
  t.true(lines.includes('agent/native/build'));
  t.true(lines.includes('bpf/build'));
});
