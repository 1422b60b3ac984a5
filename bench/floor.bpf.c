// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Floors for the per-packet benchmark (bench/perpacket.ts). Each program does
 * strictly less than tc_pod_egress, so the ratio ours/floor is the price of
 * what the product adds (IPv6 extension walk, fragments, GSO, dedup across
 * CPUs, overflow, the slot flip).
 *
 * tc_empty:         the cost of BPF_PROG_TEST_RUN itself.
 * tc_floor_percpu:  parse Ethernet/VLAN/IPv4/IPv6/TCP/UDP into the same
 *                   40-byte flow_key and do one per-CPU hash update.
 * tc_floor_shared:  the same parse, one shared hash with atomic adds (what a
 *                   correct multi-CPU counter without per-CPU memory costs).
 */
#include "../bpf/lib/parse.bpf.h"

#define TC_ACT_UNSPEC (-1)

struct floor_value {
	__u64 bytes;
	__u64 packets;
};

/* key: flow_key; value: per-CPU floor_value; emptied by the benchmark between
 * rounds; sized like the agent's default flow map. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct floor_value);
} floor_percpu SEC(".maps");

/* key: flow_key; value: floor_value shared by all CPUs (atomic adds). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct floor_value);
} floor_shared SEC(".maps");

/* The minimum parse: no IPv6 extension headers, no fragments, no GSO. */
static __always_inline int floor_parse(struct __sk_buff *skb, struct flow_key *key, __u64 *len)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__be16 proto = eth->h_proto;
	__u32 off = sizeof(*eth);
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_tag *tag = data + off;
		if ((void *)(tag + 1) > data_end)
			return -1;
		proto = tag->encapsulated_proto;
		off += sizeof(*tag);
	}
	__u8 l4proto;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;
		if ((void *)(ip + 1) > data_end)
			return -1;
		l4proto = ip->protocol;
		key->family = 4;
		__builtin_memcpy(key->src_addr, &ip->saddr, 4);
		__builtin_memcpy(key->dst_addr, &ip->daddr, 4);
		*len = bpf_ntohs(ip->tot_len);
		off += (ip->ihl & 0xf) * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		if ((void *)(ip6 + 1) > data_end)
			return -1;
		l4proto = ip6->nexthdr;
		key->family = 6;
		__builtin_memcpy(key->src_addr, &ip6->saddr, 16);
		__builtin_memcpy(key->dst_addr, &ip6->daddr, 16);
		*len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		off += sizeof(*ip6);
	} else {
		return -1;
	}
	if (l4proto != IPPROTO_TCP && l4proto != IPPROTO_UDP)
		return -1;
	/* TCP and UDP both start with the two ports. */
	__be16 *ports = data + off;
	if ((void *)(ports + 2) > data_end)
		return -1;
	key->protocol = l4proto;
	key->src_port = ports[0];
	key->dst_port = ports[1];
	return 0;
}

SEC("tc")
int tc_empty(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

SEC("tc")
int tc_floor_percpu(struct __sk_buff *skb)
{
	struct flow_key key = {};
	__u64 len = 0;
	if (floor_parse(skb, &key, &len))
		return TC_ACT_UNSPEC;
	struct floor_value *v = bpf_map_lookup_elem(&floor_percpu, &key);
	if (v) {
		v->bytes += len;
		v->packets++;
	} else {
		struct floor_value init = {.bytes = len, .packets = 1};
		bpf_map_update_elem(&floor_percpu, &key, &init, BPF_NOEXIST);
	}
	return TC_ACT_UNSPEC;
}

SEC("tc")
int tc_floor_shared(struct __sk_buff *skb)
{
	struct flow_key key = {};
	__u64 len = 0;
	if (floor_parse(skb, &key, &len))
		return TC_ACT_UNSPEC;
	struct floor_value *v = bpf_map_lookup_elem(&floor_shared, &key);
	if (v) {
		__sync_fetch_and_add(&v->bytes, len);
		__sync_fetch_and_add(&v->packets, 1);
	} else {
		struct floor_value init = {.bytes = len, .packets = 1};
		bpf_map_update_elem(&floor_shared, &key, &init, BPF_NOEXIST);
	}
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
