# Shared by up.sh and down.sh (sourced): where the single-node cluster keeps its
# state and which addresses it uses. Everything stays inside this machine: the
# node address is a /32 on lo, pods and Services use private ranges.
CLUSTER_RUN=${CLUSTER_RUN:-/run/kubeadapt-cluster}        # sockets, PIDs, kubeconfig, logs
CLUSTER_DATA=${CLUSTER_DATA:-/var/lib/kubeadapt-cluster}  # etcd, containerd root, kubelet root
NODE_NAME=${NODE_NAME:-kubeadapt-node}
# The kubelet refuses a loopback node IP and the API server a loopback advertise
# address, so the node gets a /32 of its own on lo (this kernel has no dummy
# links), labelled so it is recognisable; nobody outside can route to it.
NODE_IP=10.245.0.1
NODE_IP_LABEL=lo:kubeadapt
POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
CNI_BRIDGE=kacni0
CNI_NETWORK=kubeadapt-cluster
APISERVER_PORT=6443
ETCD_CLIENT=127.0.0.1:23790
ETCD_PEER=127.0.0.1:23800
CONTAINERD_SOCK=$CLUSTER_RUN/containerd/containerd.sock
KUBECONFIG_ADMIN=$CLUSTER_RUN/admin.kubeconfig
# Kernel settings the kubelet, kube-proxy or the bridge plugin change; up.sh saves them, down.sh restores them.
SAVED_SYSCTLS=(net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet)
