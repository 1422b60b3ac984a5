// A pod's workload: the object a user deploys and is billed by. The agent may
// read only Pods, Nodes and Services, so the two steps the pod's owner
// reference does not show are taken from the names the controllers give:
// a ReplicaSet named <deployment>-<pod-template-hash> (the pod carries the
// hash as a label) belongs to that Deployment, and a Job named
// <cronjob>-<scheduled time in minutes> belongs to that CronJob.

export interface OwnerReference {
  readonly kind?: string;
  readonly name?: string;
  readonly controller?: boolean;
}

export interface PodMeta {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
}

export interface Workload {
  readonly kind: string;
  readonly name: string;
}

/** The CronJob controller names its Jobs <cronjob>-<minutes since the epoch>: 8 digits until 2160. */
const CRONJOB_SUFFIX = /^(.+)-(\d{8,10})$/;

export function workloadOf(pod: PodMeta): Workload {
  const refs = pod.ownerReferences ?? [];
  const owner = refs.find((r) => r.controller) ?? refs[0];
  if (!owner?.kind || !owner.name) return { kind: 'Pod', name: pod.name };
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.labels?.['pod-template-hash'];
    if (hash && owner.name.endsWith(`-${hash}`)) return { kind: 'Deployment', name: owner.name.slice(0, -hash.length - 1) };
    return { kind: 'ReplicaSet', name: owner.name };
  }
  if (owner.kind === 'Job') {
    const m = CRONJOB_SUFFIX.exec(owner.name);
    if (m) return { kind: 'CronJob', name: m[1]! };
    return { kind: 'Job', name: owner.name };
  }
  // StatefulSet, DaemonSet, and custom controllers (a rollout, an operator's kind) as they are.
  return { kind: owner.kind, name: owner.name };
}
