#!/usr/bin/env bash
# Brings up a single-node Kubernetes on this machine without Docker or a registry:
# etcd (Debian), kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy
# (nftables mode) and the kubelet (built by build-kubernetes.sh), containerd + runc
# (Debian) with the bridge CNI from /usr/lib/cni. Images come from images.sh.
# Every process is recorded by PID in $CLUSTER_RUN/pids; down.sh undoes all of it
# (and is what to run after a failure: up.sh refuses to start over a leftover).
# Usage: up.sh KUBERNETES_BIN_DIR IMAGES_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=env.sh
source "$here/env.sh"
BIN=${1:?usage: up.sh KUBERNETES_BIN_DIR IMAGES_DIR}
IMAGES=${2:?usage: up.sh KUBERNETES_BIN_DIR IMAGES_DIR}
log() { printf '[cluster-up] %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "run as root"
[[ -e $CLUSTER_RUN ]] && fail "$CLUSTER_RUN exists: a cluster is up or was not torn down (scripts/cluster/down.sh)"
for tool in etcd containerd runc ctr openssl nft ip; do command -v "$tool" >/dev/null || fail "$tool is missing (scripts/setup.sh installs it)"; done
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || fail "/usr/lib/cni/bridge is missing (Debian containernetworking-plugins)"
for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do [[ -x $BIN/$c ]] || fail "$BIN/$c is missing (build-kubernetes.sh)"; done
mountpoint -q /sys/fs/bpf || fail "/sys/fs/bpf is not mounted (mount -t bpf bpf /sys/fs/bpf)"

started=$(date +%s)
mkdir -p "$CLUSTER_RUN"/{pids,logs,pki,config} "$CLUSTER_DATA"/{etcd,cni/net.d,cni/ipam,kubelet}
cd "$CLUSTER_RUN"

# What down.sh restores or tells apart from ours.
for s in "${SAVED_SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")"; done >saved-sysctls
findmnt -no PROPAGATION /sys/fs/bpf >saved-bpffs-propagation
ip netns list | awk '{print $1}' | sort >saved-netns
nft list tables >saved-nft-tables
for h in /sys/fs/cgroup/*/; do [[ -d $h/kubepods ]] && echo "$h"; done >saved-kubepods || true

# The chart mounts /sys/fs/bpf with HostToContainer propagation, which the
# kubelet refuses on a private mount ("not a shared or slave mount").
mount --make-shared /sys/fs/bpf
ip addr add "$NODE_IP/32" dev lo label "$NODE_IP_LABEL"

# --- certificates and credentials -------------------------------------------
pki=$CLUSTER_RUN/pki
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kubeadapt-cluster-ca \
  -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
sign() { # name subject [subjectAltName]
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$pki/$1.key" -out "$pki/$1.csr" 2>/dev/null
  local ext=()
  [[ -n ${3:-} ]] && { printf 'subjectAltName=%s\n' "$3" >"$pki/$1.ext"; ext=(-extfile "$pki/$1.ext"); }
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
    "${ext[@]}" -out "$pki/$1.crt" 2>/dev/null
}
sign apiserver /CN=kube-apiserver \
  "IP:$NODE_IP,IP:10.96.0.1,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
token() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# Static tokens keep the set-up short; the kubelet gets a node identity so the
# Node authorizer, not an admin grant, decides what it may read.
declare -A tokens=([admin]=$(token) [kubelet]=$(token) [controller-manager]=$(token) [scheduler]=$(token) [proxy]=$(token))
{
  echo "${tokens[admin]},kubeadapt-admin,admin,system:masters"
  echo "${tokens[kubelet]},system:node:$NODE_NAME,kubelet,system:nodes"
  echo "${tokens[controller-manager]},system:kube-controller-manager,kcm,system:masters"
  echo "${tokens[scheduler]},system:kube-scheduler,scheduler,system:masters"
  echo "${tokens[proxy]},system:kube-proxy,proxy,system:masters"
} >"$pki/tokens.csv"
kubeconfig() { # file token
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: kubeadapt
  cluster: {server: "https://$NODE_IP:$APISERVER_PORT", certificate-authority: "$pki/ca.crt"}
users:
- name: user
  user: {token: "$2"}
contexts:
- name: kubeadapt
  context: {cluster: kubeadapt, user: user}
current-context: kubeadapt
KC
}
kubeconfig "$KUBECONFIG_ADMIN" "${tokens[admin]}"
for c in kubelet controller-manager scheduler proxy; do kubeconfig "config/$c.kubeconfig" "${tokens[$c]}"; done

# --- processes -----------------------------------------------------------------
start() { # name command...
  local name=$1; shift
  setsid "$@" </dev/null >"logs/$name.log" 2>&1 &
  echo $! >"pids/$name"
}
wait_for() { # what seconds command...
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after $secs s waiting for $what (logs in $CLUSTER_RUN/logs)"
    sleep 1
  done
}

start etcd etcd --name kubeadapt --data-dir "$CLUSTER_DATA/etcd" \
  --listen-client-urls "http://$ETCD_CLIENT" --advertise-client-urls "http://$ETCD_CLIENT" \
  --listen-peer-urls "http://$ETCD_PEER" --initial-advertise-peer-urls "http://$ETCD_PEER" \
  --initial-cluster "kubeadapt=http://$ETCD_PEER"
wait_for etcd 30 curl -sf "http://$ETCD_CLIENT/health"

cat >config/containerd.toml <<TOML
version = 2
root = "$CLUSTER_DATA/containerd"
state = "$CLUSTER_RUN/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CLUSTER_DATA/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  # This VM's bounding set lacks CAP_SYS_RESOURCE: without this every sandbox dies in
  # runc ("can't get final child's PID from pipe") as the kubelet asks for oom_score_adj -998.
  restrict_oom_score_adj = true
  sandbox_image = "localhost/kubeadapt/pause:cluster"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_DATA/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
TOML
start containerd containerd --config config/containerd.toml
wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
for image in pause agent traffic; do
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$IMAGES/$image.tar" >/dev/null
done
log "images imported: $(ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -c kubeadapt)"

cat >"$CLUSTER_DATA/cni/net.d/10-kubeadapt.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [{
    "type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
    "ipam": {"type": "host-local", "dataDir": "$CLUSTER_DATA/cni/ipam",
             "ranges": [[{"subnet": "$NODE_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}
  }]
}
JSON

start kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://$ETCD_CLIENT" \
  --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
  --service-cluster-ip-range="$SERVICE_CIDR" --authorization-mode=Node,RBAC --allow-privileged=true \
  --token-auth-file="$pki/tokens.csv" --client-ca-file="$pki/ca.crt" \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP --enable-admission-plugins=NodeRestriction --profiling=false
wait_for kube-apiserver 120 curl -sf --cacert "$pki/ca.crt" -H "Authorization: Bearer ${tokens[admin]}" "https://$NODE_IP:$APISERVER_PORT/readyz"

start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig=config/controller-manager.kubeconfig \
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --allocate-node-cidrs=true --cluster-cidr="$POD_CIDR" --node-cidr-mask-size=24 --service-cluster-ip-range="$SERVICE_CIDR"
start kube-scheduler "$BIN/kube-scheduler" --kubeconfig=config/scheduler.kubeconfig --bind-address=127.0.0.1 --leader-elect=false

cat >config/kube-proxy.yaml <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: "$CLUSTER_RUN/config/proxy.kubeconfig"}
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
# 0 leaves the machine's conntrack settings alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
start kube-proxy "$BIN/kube-proxy" --config=config/kube-proxy.yaml

cat >config/kubelet.yaml <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# This kernel mounts cgroup v1 with the unified (v2) hierarchy beside it: the
# kubelet 1.34 refuses v1 unless told, and cgroupfs is the only driver without systemd.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
resolvConf: /etc/resolv.conf
serializeImagePulls: false
maxPods: 30
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
YAML
start kubelet "$BIN/kubelet" --config=config/kubelet.yaml --kubeconfig=config/kubelet.kubeconfig \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --root-dir="$CLUSTER_DATA/kubelet" --cert-dir="$CLUSTER_DATA/kubelet/pki"

kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
wait_for "node $NODE_NAME registered" 120 kubectl get node "$NODE_NAME"
kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=120s >/dev/null || fail "node $NODE_NAME not Ready"
wait_for "the default ServiceAccount" 60 kubectl -n default get serviceaccount default
log "node $NODE_NAME Ready in $(($(date +%s) - started)) s; KUBECONFIG=$KUBECONFIG_ADMIN"
