// The runbook carries the published README's troubleshooting steps, every
// preflight check and every alert, so an operator finds each in one place.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNBOOK_ANCHORS } from '../../cdk8s/src/observability/rules.js';
import { CHECK_NAMES, parseText } from '../preflight/run-check.js';
import { anchorsOf } from './markdown.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const runbook = readFileSync(join(REPO, 'docs/runbook.md'), 'utf8');
const SEED = join(REPO, 'cdk8s/src/readme/seed.README.md.gotmpl');

/**
 * One seed step is corrected on purpose: the kernel keeps 15 characters of a
 * map name (BPF_OBJ_NAME_LEN), so `grep connection_flows` never matches what
 * bpftool prints ("connection_flow").
 */
const CORRECTED: Record<string, string> = {
  'sudo bpftool map list | grep connection_flows': 'sudo bpftool map list | grep connection_flow ',
};

test('every command of the published README\'s Troubleshooting section is in the runbook', (t) => {
  const seed = readFileSync(SEED, 'utf8');
  const section = seed.slice(seed.indexOf('## Troubleshooting'));
  const commands = [...section.matchAll(/^```\w*\n([\s\S]*?)^```/gm)]
    .flatMap((m) => m[1]!.split('\n'))
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  t.true(commands.length >= 7, `found only ${commands.length} commands in the seed's Troubleshooting section`);
  t.deepEqual(commands.filter((c) => !runbook.includes(CORRECTED[c] ?? c)), []);
});

test('every preflight check has its own section in the runbook', (t) => {
  const anchors = anchorsOf(runbook);
  t.deepEqual(CHECK_NAMES.filter((n) => !anchors.has(n)), []);
});

test('every alert\'s runbook section exists', (t) => {
  const anchors = anchorsOf(runbook);
  t.deepEqual(Object.values(RUNBOOK_ANCHORS).filter((a) => !anchors.has(a)), []);
});

test('the runbook\'s sample of a healthy node shows every check, in the order the command prints them', (t) => {
  const sample = /A healthy node[^\n]*\n\n```\n([\s\S]*?)```/.exec(runbook)?.[1] ?? '';
  t.deepEqual(parseText(sample).map((l) => `${l.status} ${l.name}`), CHECK_NAMES.map((n) => `pass ${n}`));
  t.regex(sample, /^preflight: ok$/m);
});
