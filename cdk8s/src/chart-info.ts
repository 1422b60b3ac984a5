// Chart identity. The version follows the repository's package.json so the
// chart, the image tag it defaults to and the agent release move together.
import { readFileSync } from 'node:fs';

export const CHART_NAME = 'ebpf-agent';
export const EXAMPLE_RELEASE = 'kubeadapt-ebpf-agent';
export const EXAMPLE_NAMESPACE = 'kubeadapt';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; description: string };
export const CHART_VERSION = pkg.version;
export const APP_VERSION = pkg.version;
export const CHART_DESCRIPTION = pkg.description;
