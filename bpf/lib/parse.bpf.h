/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing for the TC programs: Ethernet (one 802.1Q/802.1ad tag),
 * IPv4 with options, IPv6 with a bounded walk of extension headers, TCP, UDP.
 * Every header is bounds-checked against data_end before it is read.
 */
#ifndef KUBEADAPT_PARSE_BPF_H
#define KUBEADAPT_PARSE_BPF_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../flows.h"

/* Enough for hop-by-hop + routing + fragment + destination options + AH with
 * room to spare; a packet with more is counted as ignored, never guessed. */
#define IPV6_MAX_EXT_HEADERS 6
/* Bounds the variable header offset so the verifier can prove every access. */
#define MAX_L4_OFFSET 512

#define PARSE_OK (-1)
/* A header ran past the linear data: worth pulling more into it and retrying. */
#define PARSE_NEED_MORE (-2)

struct vlan_tag {
	__be16 tci;
	__be16 encapsulated_proto;
};

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
	__be16 frag_off; /* only meaningful in a fragment header */
};

struct parsed_packet {
	struct flow_key key;
	__u32 l3_offset;   /* from the start of the frame */
	__u32 l3_len;      /* IP header + payload, from the IP header itself */
	__u32 header_len;  /* L3 + L4 headers, repeated in every GSO segment */
};

static __always_inline int parse_l4(void *data, void *data_end, __u32 l4_offset,
				    struct parsed_packet *p)
{
	if (l4_offset > MAX_L4_OFFSET)
		return STAT_IGNORED_EXT_LIMIT;
	void *l4 = data + l4_offset;

	if (p->key.protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return PARSE_NEED_MORE;
		/* The data offset is the TCP header's own length claim: shorter
		 * than the fixed header, or ending past the packet the IP header
		 * declares, it is a header shorter than it claims, ignored as an
		 * IPv4 header with ihl < 5 is (and GSO would repeat a wrong
		 * header length per segment). */
		__u32 headers = l4_offset - p->l3_offset + tcp->doff * 4;
		if (tcp->doff < 5 || headers > p->l3_len)
			return STAT_IGNORED_TRUNCATED;
		p->key.src_port = tcp->source;
		p->key.dst_port = tcp->dest;
		p->header_len = headers;
		return PARSE_OK;
	}
	struct udphdr *udp = l4;
	if ((void *)(udp + 1) > data_end)
		return PARSE_NEED_MORE;
	p->key.src_port = udp->source;
	p->key.dst_port = udp->dest;
	p->header_len = l4_offset - p->l3_offset + sizeof(*udp);
	return PARSE_OK;
}

static __always_inline int parse_ipv4(void *data, void *data_end, __u32 skb_len, bool gso,
				      struct parsed_packet *p)
{
	struct iphdr *ip = data + p->l3_offset;
	if ((void *)(ip + 1) > data_end)
		return PARSE_NEED_MORE;
	__u32 ihl = ip->ihl * 4;
	__u32 tot_len = bpf_ntohs(ip->tot_len);
	/* tot_len 0 on a GSO packet is IPv4 BIG TCP (more than 64 KiB, 6.3+):
	 * the skb knows its size, as for an IPv6 jumbogram. Elsewhere a zero
	 * length is a lie, caught below. */
	if (tot_len == 0 && gso)
		tot_len = skb_len - p->l3_offset;
	if (ihl < sizeof(*ip) || tot_len < ihl)
		return STAT_IGNORED_TRUNCATED;
	p->key.protocol = ip->protocol; /* also read for other L4: tunnels */
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return STAT_IGNORED_OTHER_L4;

	p->key.family = FLOW_FAMILY_IPV4;
	p->key.protocol = ip->protocol;
	__builtin_memcpy(p->key.src_addr, &ip->saddr, 4);
	__builtin_memcpy(p->key.dst_addr, &ip->daddr, 4);
	p->l3_len = tot_len;
	p->header_len = ihl;
	/* A non-first fragment carries no L4 header: its bytes still belong to
	 * the pair and protocol, under port 0. */
	if (bpf_ntohs(ip->frag_off) & 0x1fff)
		return PARSE_OK;
	return parse_l4(data, data_end, p->l3_offset + ihl, p);
}

static __always_inline int parse_ipv6(void *data, void *data_end, __u32 skb_len,
				      struct parsed_packet *p)
{
	struct ipv6hdr *ip6 = data + p->l3_offset;
	if ((void *)(ip6 + 1) > data_end)
		return PARSE_NEED_MORE;

	p->key.family = FLOW_FAMILY_IPV6;
	__builtin_memcpy(p->key.src_addr, &ip6->saddr, 16);
	__builtin_memcpy(p->key.dst_addr, &ip6->daddr, 16);
	__u32 payload_len = bpf_ntohs(ip6->payload_len);
	/* payload_len 0 is a jumbogram / BIG TCP packet: the skb knows its size. */
	p->l3_len = payload_len ? payload_len + sizeof(*ip6) : skb_len - p->l3_offset;

	__u8 nexthdr = ip6->nexthdr;
	__u32 offset = p->l3_offset + sizeof(*ip6);
	bool later_fragment = false;

#pragma unroll
	for (int i = 0; i < IPV6_MAX_EXT_HEADERS; i++) {
		if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
		    nexthdr != IPPROTO_DSTOPTS && nexthdr != IPPROTO_FRAGMENT &&
		    nexthdr != IPPROTO_AH)
			break;
		if (offset > MAX_L4_OFFSET)
			return STAT_IGNORED_EXT_LIMIT;
		struct ipv6_ext *ext = data + offset;
		if ((void *)(ext + 1) > data_end)
			return PARSE_NEED_MORE;
		if (nexthdr == IPPROTO_FRAGMENT) {
			later_fragment = bpf_ntohs(ext->frag_off) & 0xfff8;
			offset += 8;
		} else if (nexthdr == IPPROTO_AH) {
			offset += (ext->hdrlen + 2) * 4;
		} else {
			offset += (ext->hdrlen + 1) * 8;
		}
		nexthdr = ext->nexthdr;
	}
	if (nexthdr != IPPROTO_TCP && nexthdr != IPPROTO_UDP) {
		if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
		    nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT ||
		    nexthdr == IPPROTO_AH)
			return STAT_IGNORED_EXT_LIMIT;
		p->key.protocol = nexthdr; /* read for other L4 too: tunnels */
		return STAT_IGNORED_OTHER_L4;
	}
	p->key.protocol = nexthdr;
	p->header_len = offset - p->l3_offset;
	if (later_fragment)
		return PARSE_OK;
	return parse_l4(data, data_end, offset, p);
}

/* Returns PARSE_OK, PARSE_NEED_MORE or the agent_stat to count the packet under.
 * gso: the skb is a GSO packet (its gso_size is set). */
static __always_inline int parse_packet(void *data, void *data_end, __u32 skb_len, bool gso,
					struct parsed_packet *p)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return PARSE_NEED_MORE;
	__be16 proto = eth->h_proto;
	p->l3_offset = sizeof(*eth);
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_tag *tag = data + sizeof(*eth);
		if ((void *)(tag + 1) > data_end)
			return PARSE_NEED_MORE;
		proto = tag->encapsulated_proto;
		p->l3_offset += sizeof(*tag);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(data, data_end, skb_len, gso, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(data, data_end, skb_len, p);
	return STAT_IGNORED_NON_IP;
}

#endif
