// Decides whether the kind suite can run on this machine, and if not, says why
// in one line.
import { works } from './command.js';

/** The reason the suite cannot run, or undefined when every tool it needs works. */
export function missingPrerequisite(): string | undefined {
  if (!works('docker', ['--version'])) return 'no docker CLI on PATH (docker --version failed)';
  if (!works('docker', ['info'])) return 'no Docker engine (docker info failed)';
  if (!works('kind', ['version'])) return 'no kind binary on PATH (kind version failed)';
  if (!works('helm', ['version', '--short'])) return 'no helm binary on PATH (helm version failed)';
  if (!works('docker-registry', ['--version'])) return 'no docker-registry binary for the local OCI chart registry';
  return undefined;
}
