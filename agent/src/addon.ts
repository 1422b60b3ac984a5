import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './native.js';

// agent/src (tsx) and agent/dist (compiled) sit at the same depth.
const AGENT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PROJECT_DIR = resolve(AGENT_DIR, '..');

const ADDON_PATH = join(AGENT_DIR, 'native', 'build', 'Release', 'ebpf_agent.node');
export const DEFAULT_OBJECT_PATH = join(PROJECT_DIR, 'bpf', 'build', 'flows.bpf.o');

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  if (!existsSync(ADDON_PATH)) {
    throw new Error(`native addon not built: ${ADDON_PATH} is missing (run: npm run build)`);
  }
  cached = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  return cached;
}
