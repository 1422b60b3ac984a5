// The addon fixes glibc's mmap threshold (memory.cc): large blocks a drain
// frees go back to the kernel, even between small blocks still in use. The
// same process without the addon keeps them: the case is real here.
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CHILD = fileURLToPath(new URL('./fixtures/freed-blocks.mjs', import.meta.url));

async function retainedMiB(withAddon: boolean): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', CHILD, withAddon ? 'addon' : 'plain'], { env: { ...process.env, NODE_OPTIONS: '' } });
  const r = JSON.parse(stdout) as { retainedMiB: number; kept: number };
  if (r.kept !== 32) throw new Error(`child kept ${r.kept} small blocks, expected 32`);
  return r.retainedMiB;
}

test('without the addon, 64 MiB of freed large blocks stay resident (glibc\'s dynamic threshold)', async (t) => {
  t.true(await retainedMiB(false) >= 48);
});

test('with the addon loaded, freed large blocks go back to the kernel', async (t) => {
  t.true(await retainedMiB(true) < 8);
});
