// The agent container's environment: one variable per config.* value (from the
// agent's SETTINGS table, so chart and agent cannot drift), the identity the
// agent needs to tell an uninstall from a rolling update, then the user's env.
import type { k8s } from 'cdk8s-plus-28';
import { appendList, expr } from '../helm/sentinels.js';
import { CONFIG_ENV } from '../values/values.js';
import { config, FULLNAME, V } from './refs.js';

const fieldRef = (name: string, fieldPath: string): k8s.EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

export function agentEnv(withUserEnv: boolean): k8s.EnvVar[] {
  return [
    ...CONFIG_ENV.map(({ key, env }) => ({ name: env, value: expr(`${config(key).$ref} | quote`) })),
    fieldRef('EBPF_POD_NAME', 'metadata.name'),
    fieldRef('EBPF_POD_NAMESPACE', 'metadata.namespace'),
    // Where a source address no one is known to own was counted (cost classes).
    fieldRef('EBPF_NODE_NAME', 'spec.nodeName'),
    { name: 'EBPF_DAEMONSET_NAME', value: expr(`${FULLNAME} | quote`) },
    ...(withUserEnv ? [appendList<k8s.EnvVar>(V.env.$ref)] : []),
  ];
}
