#!/usr/bin/env bash
# Undoes up.sh, also after a failed or half-finished run: workloads deleted through
# the API while it answers (so the kubelet and CNI release every sandbox), then
# each recorded process stopped by PID, then whatever a crash left: containers,
# pod network namespaces, mounts, cgroups, the CNI bridge, kube-proxy's and the
# kubelet's nftables state, kernel settings. Idempotent; exits 0 when nothing is up.
# Usage: down.sh [KUBERNETES_BIN_DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=env.sh
source "$here/env.sh"
BIN=${1:-}
log() { printf '[cluster-down] %s\n' "$*" >&2; }
[[ -d $CLUSTER_RUN || -d $CLUSTER_DATA ]] || exit 0
cd / || exit 1

alive() { # pid expected-binary-name
  [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"
}
stop() { # name [seconds]
  local f=$CLUSTER_RUN/pids/$1 pid
  [[ -f $f ]] || return 0
  pid=$(<"$f")
  # The PID is checked against the command so a reused PID is never signalled.
  if alive "$pid" "$1"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq $((${2:-15} * 5))); do alive "$pid" "$1" || break; sleep 0.2; done
    alive "$pid" "$1" && { log "$1 ($pid) ignored SIGTERM: SIGKILL"; kill -KILL "$pid" 2>/dev/null; sleep 0.5; }
  fi
  rm -f "$f"
}

if [[ -n $BIN && -x $BIN/kubectl && -f $KUBECONFIG_ADMIN ]] && alive "$(cat "$CLUSTER_RUN/pids/kube-apiserver" 2>/dev/null)" kube-apiserver \
  && alive "$(cat "$CLUSTER_RUN/pids/kubelet" 2>/dev/null)" kubelet; then
  k() { timeout 90 "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" --request-timeout=20s "$@"; }
  # Controllers first, so nothing recreates the pods; then the pods, which the kubelet stops through CNI DEL.
  k delete daemonsets,deployments,replicasets,jobs --all --all-namespaces --wait=false >/dev/null 2>&1
  k delete pods --all --all-namespaces --grace-period=5 --timeout=60s >/dev/null 2>&1
  for _ in $(seq 60); do
    [[ -z $(ctr --address "$CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null) ]] && break
    sleep 1
  done
fi

for p in kubelet kube-proxy kube-scheduler kube-controller-manager kube-apiserver; do stop "$p"; done
if [[ -n $BIN && -x $BIN/kube-proxy ]]; then
  "$BIN/kube-proxy" --cleanup --proxy-mode=nftables >/dev/null 2>&1
fi
nft delete table ip kube-proxy 2>/dev/null
nft delete table ip6 kube-proxy 2>/dev/null

# Containers a crash left running: through our containerd, which knows them.
if [[ -S $CONTAINERD_SOCK ]]; then
  c() { timeout 30 ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }
  for id in $(c tasks ls -q 2>/dev/null); do c tasks kill -s SIGKILL "$id" >/dev/null 2>&1; done
  sleep 1
  for id in $(c tasks ls -q 2>/dev/null); do c tasks delete -f "$id" >/dev/null 2>&1; done
  for id in $(c containers ls -q 2>/dev/null); do c containers delete "$id" >/dev/null 2>&1; done
fi
stop containerd
# Shims of our containerd name its socket on their command line.
for pid in $(pgrep -f "containerd-shim.*-address $CONTAINERD_SOCK" 2>/dev/null); do
  log "stopping leftover shim $pid"; kill -KILL "$pid" 2>/dev/null
done
stop etcd

# Pod network namespaces our containerd made (not in the list taken before up.sh).
if [[ -f $CLUSTER_RUN/saved-netns ]]; then
  for ns in $(comm -13 "$CLUSTER_RUN/saved-netns" <(ip netns list | awk '{print $1}' | sort) | grep '^cni-'); do
    ip netns del "$ns" 2>/dev/null && log "removed pod netns $ns"
  done
fi
# Mounts below our directories (kubelet volumes, its rshared root, containerd rootfs, netns), deepest first.
for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^($CLUSTER_RUN|$CLUSTER_DATA)(/|$)" | sort -r); do
  umount -l "$m" 2>/dev/null
done
ip link del "$CNI_BRIDGE" 2>/dev/null
ip addr del "$NODE_IP/32" dev lo 2>/dev/null

# The kubelet's iptables-nft chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT)
# and the jumps to them from INPUT/OUTPUT; a table only the kubelet created goes whole.
for fam in ip ip6; do
  for table in mangle nat filter; do
    nft list table "$fam" "$table" >/dev/null 2>&1 || continue
    if [[ -f $CLUSTER_RUN/saved-nft-tables ]] && ! grep -qx "table $fam $table" "$CLUSTER_RUN/saved-nft-tables"; then
      nft delete table "$fam" "$table" 2>/dev/null
      continue
    fi
    current=""
    while read -r line; do
      [[ $line =~ ^chain\ ([^ ]+) ]] && current=${BASH_REMATCH[1]}
      if [[ $line =~ (jump|goto)\ KUBE- && $line =~ \#\ handle\ ([0-9]+)$ ]]; then
        nft delete rule "$fam" "$table" "$current" handle "${BASH_REMATCH[1]}" 2>/dev/null
      fi
    done < <(nft -a list table "$fam" "$table" 2>/dev/null)
    for chain in $(nft list table "$fam" "$table" 2>/dev/null | awk '/^\tchain KUBE-/{print $2}'); do
      nft flush chain "$fam" "$table" "$chain" 2>/dev/null
      nft delete chain "$fam" "$table" "$chain" 2>/dev/null
    done
  done
done

# cgroups the kubelet created (kubepods), deepest first; left alone if they predate us.
for h in /sys/fs/cgroup/*/; do
  [[ -d $h/kubepods ]] || continue
  grep -qx "$h" "$CLUSTER_RUN/saved-kubepods" 2>/dev/null && continue
  find "$h/kubepods" -depth -type d -exec rmdir {} + 2>/dev/null
done

# The agent's pinned programs and maps outlive its pods when an uninstall could not
# clean up (issue 17); the agent's own cleanup command removes them.
pins=/sys/fs/bpf/kubeadapt
if [[ -d $pins ]]; then
  log "agent state left in $pins: running the agent's cleanup"
  EBPF_BPF_PIN_PATH=$pins node "$here/../../agent/dist/main.js" cleanup >&2 || rm -rf "$pins"
fi

if [[ -f $CLUSTER_RUN/saved-sysctls ]]; then
  while IFS='=' read -r key value; do sysctl -qw "$key=$value" 2>/dev/null; done <"$CLUSTER_RUN/saved-sysctls"
fi
[[ $(cat "$CLUSTER_RUN/saved-bpffs-propagation" 2>/dev/null) == private ]] && mount --make-private /sys/fs/bpf

rm -rf "$CLUSTER_RUN" "$CLUSTER_DATA"
log "cluster torn down"
