// A stand-in Kubernetes API for the informer memory bench: paged lists of
// generated Pods, Nodes and Services shaped like a real cluster's (managed
// fields, conditions, container statuses: ~5 KiB of JSON per pod), and watches
// that stay open with a bookmark now and then. Plain HTTP on 127.0.0.1.
// Usage: node fake-apiserver.mjs <pods> <nodes> <services>; prints "ready <port>".
import { createServer } from 'node:http';

const [pods, nodes, services] = process.argv.slice(2).map(Number);
const zones = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const ts = '2026-12-01T10:00:00Z';

function managedFields(manager) {
  return [{ manager, operation: 'Update', apiVersion: 'v1', time: ts, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} }, 'f:ownerReferences': { '.': {}, 'k:{"uid":"x"}': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': {}, 'f:resources': {} } }, 'f:dnsPolicy': {}, 'f:restartPolicy': {} } } }];
}

function pod(i) {
  const wl = `app-${i % 500}`;
  const hash = `${(i % 500).toString(16).padStart(4, '0')}5c7d9`;
  const node = `node-${i % nodes}`;
  const ip = `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  return {
    metadata: {
      name: `${wl}-${hash}-${i.toString(36).padStart(5, 'x')}`, generateName: `${wl}-${hash}-`, namespace: `ns-${i % 50}`,
      uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, resourceVersion: String(1000 + i), creationTimestamp: ts,
      labels: { app: wl, 'pod-template-hash': hash, 'app.kubernetes.io/part-of': 'shop', team: `team-${i % 20}` },
      annotations: { 'kubectl.kubernetes.io/restartedAt': ts, 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${wl}-${hash}`, uid: `rs-${i % 500}`, controller: true, blockOwnerDeletion: true }],
      managedFields: [...managedFields('kube-controller-manager'), ...managedFields('kubelet')],
    },
    spec: {
      volumes: [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }], defaultMode: 420 } }],
      containers: [{ name: 'app', image: `registry.example.com/shop/${wl}:1.2.${i % 7}`, ports: [{ containerPort: 8080, protocol: 'TCP' }],
        env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
        resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
        volumeMounts: [{ name: 'kube-api-access', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }],
      restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', serviceAccountName: 'default', nodeName: node,
      securityContext: {}, schedulerName: 'default-scheduler', tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      priority: 0, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: ts })),
      hostIP: `172.20.${(i % nodes) >> 8}.${(i % nodes) & 255}`, hostIPs: [{ ip: `172.20.${(i % nodes) >> 8}.${(i % nodes) & 255}` }],
      podIP: ip, podIPs: [{ ip }], startTime: ts,
      containerStatuses: [{ name: 'app', state: { running: { startedAt: ts } }, lastState: {}, ready: true, restartCount: 0, image: `registry.example.com/shop/${wl}:1.2.${i % 7}`, imageID: `registry.example.com/shop/${wl}@sha256:${'ab'.repeat(32)}`, containerID: `containerd://${'cd'.repeat(32)}`, started: true }],
      qosClass: 'Burstable',
    },
  };
}

function node(i) {
  return {
    metadata: { name: `node-${i}`, uid: `node-${i}`, resourceVersion: String(i + 1), labels: { 'topology.kubernetes.io/zone': zones[i % 3], 'topology.kubernetes.io/region': 'eu-west-1', 'kubernetes.io/hostname': `node-${i}`, 'node.kubernetes.io/instance-type': 'm6i.xlarge' }, managedFields: managedFields('kubelet') },
    spec: { podCIDR: `10.${64 + (i >> 8)}.${i & 255}.0/24`, podCIDRs: [`10.${64 + (i >> 8)}.${i & 255}.0/24`], providerID: `aws:///eu-west-1a/i-${i.toString(16).padStart(17, '0')}` },
    status: { addresses: [{ type: 'InternalIP', address: `172.20.${i >> 8}.${i & 255}` }, { type: 'Hostname', address: `node-${i}` }], capacity: { cpu: '4', memory: '16Gi', pods: '110' }, allocatable: { cpu: '3920m', memory: '15Gi', pods: '110' },
      conditions: ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((type) => ({ type, status: type === 'Ready' ? 'True' : 'False', lastHeartbeatTime: ts, lastTransitionTime: ts, reason: 'x', message: 'y' })),
      nodeInfo: { kubeletVersion: 'v1.34.4', containerRuntimeVersion: 'containerd://1.7.0', osImage: 'Debian', kernelVersion: '6.1.0', architecture: 'amd64', operatingSystem: 'linux' },
      images: Array.from({ length: 20 }, (_, k) => ({ names: [`registry.example.com/img-${k}@sha256:${'ef'.repeat(32)}`], sizeBytes: 1e8 })) },
  };
}

function service(i) {
  return { metadata: { name: `svc-${i}`, namespace: `ns-${i % 50}`, uid: `svc-${i}`, resourceVersion: String(i + 1), labels: { app: `app-${i % 500}` } },
    spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, clusterIPs: [`10.96.${i >> 8}.${i & 255}`], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: `app-${i % 500}` }, type: 'ClusterIP' } };
}

const kinds = { pods: [pods, pod], nodes: [nodes, node], services: [services, service] };

createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const kind = url.pathname.split('/').pop();
  const entry = kinds[kind];
  if (!entry) return void res.writeHead(404).end('{}');
  if (url.searchParams.get('watch') === 'true') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const t = setInterval(() => res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '999999' } } })}\n`), 10_000);
    req.on('close', () => clearInterval(t));
    return;
  }
  const [count, make] = entry;
  const limit = Number(url.searchParams.get('limit') ?? count);
  const from = Number(url.searchParams.get('continue') ?? 0);
  const items = [];
  for (let i = from; i < Math.min(count, from + limit); i++) items.push(make(i));
  const next = from + limit < count ? String(from + limit) : undefined;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '999999', ...(next ? { continue: next } : {}) }, items }));
}).listen(0, '127.0.0.1', function () {
  process.stdout.write(`ready ${this.address().port}\n`);
});
