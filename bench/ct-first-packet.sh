#!/usr/bin/env bash
# Shows what the in-kernel alternative to service resolution would see (docs/architecture.md):
# bpf_skb_ct_lookup (bench/ct_lookup.bpf.c) on a pod veth's TC ingress finds no conntrack entry for
# the first datagram of a connection to a ClusterIP, and finds it for the second. Needs root and
# bench/build/ct_lookup.bpf.o (make -C bench); makes and removes its own namespaces and pins.
# Run from the repository root.
set -e
N=kasvfp
cleanup() { ip netns del ${N}n 2>/dev/null || true; ip netns del ${N}p 2>/dev/null || true; rm -rf /sys/fs/bpf/${N}; }
trap cleanup EXIT
ip netns add ${N}n; ip netns add ${N}p
ip -n ${N}n link add vh type veth peer name eth0 netns ${N}p
ip -n ${N}n addr add 10.244.99.1/24 dev vh; ip -n ${N}n link set vh up; ip -n ${N}n link set lo up
ip -n ${N}p addr add 10.244.99.2/24 dev eth0; ip -n ${N}p link set eth0 up; ip -n ${N}p link set lo up
ip -n ${N}p route add default via 10.244.99.1
ip netns exec ${N}n sysctl -qw net.ipv4.ip_forward=1
# a ClusterIP DNATed to a blackhole-free local address: the node itself answers nothing, fine
ip -n ${N}n addr add 10.244.98.1/32 dev lo
ip netns exec ${N}n nft -f - <<NFT
table ip s { chain pre { type nat hook prerouting priority dstnat; ip daddr 10.96.9.9 udp dport 53 dnat to 10.244.98.1:5353
}
}
NFT
mkdir -p /sys/fs/bpf/${N}
bpftool prog loadall bench/build/ct_lookup.bpf.o /sys/fs/bpf/${N} pinmaps /sys/fs/bpf/${N}/maps
nsenter --net=/run/netns/${N}n tc qdisc add dev vh clsact
nsenter --net=/run/netns/${N}n tc filter add dev vh ingress bpf da pinned /sys/fs/bpf/${N}/tc_ct_lookup
dump() { bpftool -j map dump pinned /sys/fs/bpf/${N}/maps/ct_results | python3 -c "import json,sys; r=json.load(sys.stdin); print('found', sum(v['value'] for x in r if x['formatted']['key']==0 for v in x['formatted']['values']), 'not found', sum(v['value'] for x in r if x['formatted']['key']==1 for v in x['formatted']['values']))"; }
echo "after the first datagram of a connection:"
ip netns exec ${N}p python3 -c "
import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('10.244.99.2',40001)); s.sendto(b'x'*50,('10.96.9.9',53))"
dump
echo "after a second datagram of the same connection:"
ip netns exec ${N}p python3 -c "
import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('10.244.99.2',40001)); s.sendto(b'x'*50,('10.96.9.9',53))"
dump
ip netns exec ${N}n conntrack -L 2>/dev/null | grep 10.96.9.9 || true
