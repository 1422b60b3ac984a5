// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A stand-in for a CNI's TC program on a pod veth's host end (TC ingress:
 * what the pod sends), for the coexistence tests. It behaves like Cilium's
 * from-container program in the ways that matter to a program sharing the
 * hook: direct action, and a terminal verdict for every packet (TC_ACT_OK
 * for what it lets through), so nothing after it on the hook ever runs.
 *
 *   UDP to port 9 (IPv4, IPv6)  dropped (TC_ACT_SHOT)
 *   UDP to port 7 (IPv4)        DNAT to the configured pod and redirected to
 *                               that pod's host veth (bpf_redirect to its
 *                               egress), skipping the node's IP stack
 *   UDP to port 5 (IPv4)        DSCP set to EF (TOS 0xb8), checksum fixed
 *   anything else               TC_ACT_OK
 */
#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PORT_DROP 9
#define PORT_REDIRECT 7
#define PORT_REWRITE 5
#define TOS_EF 0xb8

/* Where UDP to PORT_REDIRECT goes; all zero: passed like any packet. */
struct stand_in_config {
	__u32 redirect_ifindex;
	__be32 redirect_daddr;
	__u8 redirect_mac[ETH_ALEN];
	__u8 pad[2];
};
_Static_assert(sizeof(struct stand_in_config) == 16, "stand_in_config layout");

/* key 0 -> stand_in_config, written by the test. 16 B. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stand_in_config);
} stand_in_config SEC(".maps");

enum stand_in_action { ACT_PASSED, ACT_DROPPED, ACT_REDIRECTED, ACT_REWRITTEN, ACT_MAX };

/* index: stand_in_action -> packets; lets a test see that the stand-in ran. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stand_in_actions SEC(".maps");

static __always_inline int verdict(__u32 action, int ret)
{
	__u64 *n = bpf_map_lookup_elem(&stand_in_actions, &action);

	if (n)
		__sync_fetch_and_add(n, 1);
	return ret;
}

static __always_inline int udp_dport(void *data, void *data_end, __u64 l4_off)
{
	struct udphdr *udp = data + l4_off;

	if ((void *)(udp + 1) > data_end)
		return -1;
	return bpf_ntohs(udp->dest);
}

static __always_inline int handle_ipv4(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	const __u32 zero = 0;
	struct stand_in_config *cfg;
	__u64 l4_off;
	int port;

	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return verdict(ACT_PASSED, TC_ACT_OK);
	l4_off = sizeof(struct ethhdr) + sizeof(*ip);
	port = udp_dport(data, data_end, l4_off);
	if (port == PORT_DROP)
		return verdict(ACT_DROPPED, TC_ACT_SHOT);
	if (port == PORT_REWRITE) {
		__u8 old_tos = ip->tos, new_tos = TOS_EF;
		/* The checksum covers 16-bit words: TOS is the low byte of the first. */
		__be16 old_word = bpf_htons(0x4500 | old_tos), new_word = bpf_htons(0x4500 | new_tos);

		bpf_l3_csum_replace(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, check), old_word, new_word, 2);
		bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, tos), &new_tos, 1, 0);
		return verdict(ACT_REWRITTEN, TC_ACT_OK);
	}
	if (port != PORT_REDIRECT)
		return verdict(ACT_PASSED, TC_ACT_OK);
	cfg = bpf_map_lookup_elem(&stand_in_config, &zero);
	if (!cfg || !cfg->redirect_ifindex)
		return verdict(ACT_PASSED, TC_ACT_OK);
	{
		__be32 old_daddr = ip->daddr, new_daddr = cfg->redirect_daddr;
		__u32 ifindex = cfg->redirect_ifindex;
		__u8 mac[ETH_ALEN];

		__builtin_memcpy(mac, cfg->redirect_mac, ETH_ALEN);
		bpf_l4_csum_replace(skb, l4_off + offsetof(struct udphdr, check), old_daddr, new_daddr,
				    BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | sizeof(new_daddr));
		bpf_l3_csum_replace(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, check), old_daddr, new_daddr,
				    sizeof(new_daddr));
		bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, daddr), &new_daddr,
				    sizeof(new_daddr), 0);
		bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), mac, ETH_ALEN, 0);
		return verdict(ACT_REDIRECTED, bpf_redirect(ifindex, 0));
	}
}

static __always_inline int handle_ipv6(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

	if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
		return verdict(ACT_PASSED, TC_ACT_OK);
	if (udp_dport(data, data_end, sizeof(struct ethhdr) + sizeof(*ip6)) == PORT_DROP)
		return verdict(ACT_DROPPED, TC_ACT_SHOT);
	return verdict(ACT_PASSED, TC_ACT_OK);
}

SEC("tc")
int stand_in_cni(struct __sk_buff *skb)
{
	/* UDP headers of small test packets are in the linear data. */
	bpf_skb_pull_data(skb, sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + sizeof(struct udphdr));
	if (skb->protocol == bpf_htons(ETH_P_IP))
		return handle_ipv4(skb);
	if (skb->protocol == bpf_htons(ETH_P_IPV6))
		return handle_ipv6(skb);
	return verdict(ACT_PASSED, TC_ACT_OK);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
