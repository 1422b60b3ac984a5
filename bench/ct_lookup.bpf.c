// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The in-kernel alternative to the agent's service resolution, measured and not
 * shipped (bench/service.ts, docs/architecture.md): tc_ct_lookup looks the
 * packet's connection up with the bpf_skb_ct_lookup kfunc (Linux 6.0+, needs
 * nf_conntrack) and releases it, nothing else; tc_ct_none is the same program
 * without the lookup. Their difference is what a lookup per new flow entry
 * would add to the hot path.
 */
#include "../bpf/lib/parse.bpf.h"

#define TC_ACT_UNSPEC (-1)

/* Complete, not forward-declared: libbpf 1.1 refuses a kfunc whose pointer
 * argument is a FWD where the kernel has a STRUCT ("func_proto incompatible"). */
struct nf_conn {
	__u64 unused;
};
/* The kernel's struct bpf_ct_opts (NF_BPF_CT_OPTS_SZ = 16 since 6.5). */
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple, __u32 tuple_sz,
					 struct bpf_ct_opts *opts, __u32 opts_sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

/* index 0: lookups that found an entry, 1: that did not. Per CPU, never deleted. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} ct_results SEC(".maps");

static __always_inline int parse(struct __sk_buff *skb, struct parsed_packet *p)
{
	return parse_packet((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, skb->gso_size != 0, p);
}

SEC("tc")
int tc_ct_none(struct __sk_buff *skb)
{
	struct parsed_packet p = {};
	if (parse(skb, &p) != PARSE_OK)
		return TC_ACT_UNSPEC;
	__u32 k = p.key.family == FLOW_FAMILY_IPV4 ? 0 : 1;
	__u64 *v = bpf_map_lookup_elem(&ct_results, &k);
	if (v)
		*v += 1;
	return TC_ACT_UNSPEC;
}

SEC("tc")
int tc_ct_lookup(struct __sk_buff *skb)
{
	struct parsed_packet p = {};
	if (parse(skb, &p) != PARSE_OK || p.key.family != FLOW_FAMILY_IPV4)
		return TC_ACT_UNSPEC;
	struct bpf_sock_tuple t = {};
	__builtin_memcpy(&t.ipv4.saddr, p.key.src_addr, 4);
	__builtin_memcpy(&t.ipv4.daddr, p.key.dst_addr, 4);
	t.ipv4.sport = p.key.src_port;
	t.ipv4.dport = p.key.dst_port;
	struct bpf_ct_opts opts = { .netns_id = -1, .l4proto = p.key.protocol };
	struct nf_conn *ct = bpf_skb_ct_lookup(skb, &t, sizeof(t.ipv4), &opts, sizeof(opts));
	__u32 k = ct ? 0 : 1;
	if (ct)
		bpf_ct_release(ct);
	__u64 *v = bpf_map_lookup_elem(&ct_results, &k);
	if (v)
		*v += 1;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
