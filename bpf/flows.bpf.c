// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-connection egress accounting at the TC layer.
 *
 * tc_pod_egress sits on TC ingress of the host end of each pod veth: every
 * packet a pod sends passes there exactly once. tc_host_egress sits on TC
 * egress of the node's uplinks and counts only locally originated packets, so
 * a pod's packet that the node forwards is not counted a second time.
 * Neither program changes a packet's fate: they return TC_ACT_UNSPEC
 * (== TCX_NEXT), which lets the next program on the hook decide.
 */
#include "lib/parse.bpf.h"

#ifndef TC_ACT_UNSPEC
#define TC_ACT_UNSPEC (-1)
#endif
#define FLOW_MAP_DEFAULT_ENTRIES 65536

/* Set by the loader before load; the verifier prunes the unused branches. */
const volatile __u8 use_coarse_clock = 0;
/* netns filter mode "disabled": host system traffic on the uplinks counts too. */
const volatile __u8 count_host_system_traffic = 0;
/* index 0 -> the pods' parent cgroup (kubepods), set by the agent from a
 * directory fd. In mode "default" a locally originated packet counts only when
 * its socket is below it (a hostNetwork pod). bpf_skb_under_cgroup needs no
 * level or id, so it holds inside cgroup namespaces too. Empty: no host
 * traffic counts. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pod_cgroup SEC(".maps");

/* Two flow maps, written one at a time (see flow_control.active_slot).
 * key: flow_key; value: flow_stats. Emptied by the agent after it drains the
 * inactive slot: its keys deleted, or the map replaced (flow_slots below). Memory at max_entries (preallocated): about 160 B an entry,
 * ~10 MiB per map at 65536. */
struct flow_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOW_MAP_DEFAULT_ENTRIES);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
};
struct flow_map connection_flows SEC(".maps");
struct flow_map connection_flows_1 SEC(".maps");

/* index: slot -> its flow map. The programs reach the flow maps only through
 * here, so the agent can release a drained slot by putting a fresh map in its
 * place (one syscall) instead of deleting every key (~0.4 us a key); the
 * kernel frees the old map once no program holds it. The two maps above are
 * the initial ones, and their pins follow the swaps, so a previous version's
 * pins load into the slots unchanged. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FLOW_SLOTS);
	__type(key, __u32);
	__array(values, struct flow_map);
} flow_slots SEC(".maps") = {
	.values = { &connection_flows, &connection_flows_1 },
};

/* key 0 -> flow_control. Written by the agent only (the programs read the
 * active slot); pinned so a restarted agent knows which slot is live and
 * finishes the ledger transaction in flight. 24 B (struct flow_control). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_control);
} flow_control SEC(".maps");

/* key: pair_key -> pair_totals. Written and deleted by the agent only (the
 * ledger of exported totals, agent/src/collector/ledger.ts, which expires idle
 * pairs and never asks for more than max_entries); the programs never touch
 * it. max_entries is EBPF_MAX_PAIRS, set by the loader; one entry (family 0)
 * holds the traffic that did not fit. Not preallocated: 16 B of buckets per
 * entry of max_entries plus 120 B per pair in use, 17.0 MiB full at 131072. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pair_key);
	__type(value, struct pair_totals);
} pair_totals SEC(".maps");

/* key: ifindex (__u32) -> 1. The clsact qdiscs the agent created in legacy
 * TC mode, pinned so a later agent or `cleanup` removes only those. Written
 * and deleted by the agent only; the programs never touch it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u32);
} tc_qdiscs SEC(".maps");

/* index 0: service_log_header, 1..count: service_log_record (see flows.h).
 * Written and read by the agent only, through mmap (no syscall per record):
 * the write-ahead log of the service resolution of the transaction in
 * flight. Never deleted; overwritten by the next transaction. Preallocated:
 * 56 B per entry; the loader sizes it for a full slot or a full ring buffer
 * (~3.7 MiB at 65536 flows). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOW_MAP_DEFAULT_ENTRIES + 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct service_log_record);
} service_resolution SEC(".maps");

/* Deltas of flows that did not fit into the active flow map (flow_record).
 * Submitted without a wake-up: the agent consumes it on its own timer, so a
 * full map never costs a context switch per packet. Size set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} overflow_events SEC(".maps");

/* index: enum agent_stat; per-CPU __u64 counters, never deleted. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} agent_stats SEC(".maps");

static __always_inline void stat_add(__u32 index, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&agent_stats, &index);
	if (v)
		*v += n;
}

/* Only an overflow record carries a time (flow_record.seen_ns): the flow
 * maps' first/last seen stay 0, since nothing reads them and the clock was
 * the largest single cost of a packet (bench/, docs/performance.md). */
static __always_inline __u64 now_ns(void)
{
	return use_coarse_clock ? bpf_ktime_get_coarse_ns() : bpf_ktime_get_ns();
}

static __always_inline void overflow(struct parsed_packet *p, __u64 bytes, __u64 packets, __u64 now)
{
	struct flow_record *r = bpf_ringbuf_reserve(&overflow_events, sizeof(*r), 0);
	if (!r) {
		stat_add(STAT_RINGBUF_FULL_PACKETS, packets);
		stat_add(STAT_RINGBUF_FULL_BYTES, bytes);
		return;
	}
	r->key = p->key;
	r->bytes = bytes;
	r->packets = packets;
	r->seen_ns = now;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	stat_add(STAT_OVERFLOW_RECORDS, 1);
}

static __always_inline void account(void *flows, struct parsed_packet *p, __u64 bytes,
				    __u64 packets)
{
	struct flow_stats *v = bpf_map_lookup_elem(flows, &p->key);
	if (v) {
		__sync_fetch_and_add(&v->bytes, bytes);
		__sync_fetch_and_add(&v->packets, packets);
		return;
	}
	struct flow_stats init = { .bytes = bytes, .packets = packets };
	long err = bpf_map_update_elem(flows, &p->key, &init, BPF_NOEXIST);
	if (!err)
		return;
	if (err == -17 /* EEXIST: another CPU inserted it first */) {
		v = bpf_map_lookup_elem(flows, &p->key);
		if (v) {
			__sync_fetch_and_add(&v->bytes, bytes);
			__sync_fetch_and_add(&v->packets, packets);
			return;
		}
	}
	if (err != -7 /* E2BIG: map full */ && err != -17)
		stat_add(STAT_MAP_UPDATE_FAILED, 1);
	overflow(p, bytes, packets, now_ns());
}

/* UDP ports of the tunnels whose outer packets an uplink carries: VXLAN (IANA
 * and Linux/flannel), Geneve. The tunnel device already counted the inner one. */
static __always_inline bool is_tunnel_outer(const struct parsed_packet *p)
{
	if (p->key.protocol != IPPROTO_UDP)
		return false;
	__u16 port = bpf_ntohs(p->key.dst_port);
	return port == 4789 || port == 8472 || port == 6081;
}

/* host: the packet is leaving the node through tc_host_egress; the compiler
 * specializes both callers, so the pod path carries none of these checks. */
static __always_inline void count_packet(struct __sk_buff *skb, const bool host)
{
	struct parsed_packet p = {};
	const bool gso = skb->gso_size != 0;
	int rc = parse_packet((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, gso, &p);
	if (rc == PARSE_NEED_MORE && skb->len > skb->data_end - skb->data) {
		/* Headers split across fragments of a non-linear skb: make the
		 * first 128 bytes linear (content and fate unchanged) and retry. */
		__u32 want = skb->len < 128 ? skb->len : 128;
		if (bpf_skb_pull_data(skb, want) == 0) {
			__builtin_memset(&p, 0, sizeof(p));
			rc = parse_packet((void *)(long)skb->data, (void *)(long)skb->data_end,
					  skb->len, gso, &p);
		}
	}
	if (rc == PARSE_NEED_MORE)
		rc = STAT_IGNORED_TRUNCATED;
	if (host && rc == STAT_IGNORED_OTHER_L4 &&
	    (p.key.protocol == IPPROTO_IPIP || p.key.protocol == IPPROTO_IPV6 ||
	     p.key.protocol == IPPROTO_GRE))
		rc = STAT_SKIPPED_ENCAP;
	if (rc != PARSE_OK) {
		stat_add(rc, 1);
		return;
	}
	/* An in-band VLAN tag on an uplink: the VLAN sub-interface counted it. */
	if (host && (p.l3_offset != sizeof(struct ethhdr) || is_tunnel_outer(&p))) {
		stat_add(STAT_SKIPPED_ENCAP, 1);
		return;
	}

	__u64 bytes = p.l3_len;
	__u64 packets = 1;
	if (skb->gso_segs > 1) {
		/* Every segment repeats the L3+L4 headers. The packet is the
		 * l3_len its IP header declares (the skb's for BIG TCP), not
		 * trailing bytes behind it. */
		packets = skb->gso_segs;
		bytes = p.l3_len + (packets - 1) * p.header_len;
	}

	__u32 slot = 0;
	struct flow_control *ctl = bpf_map_lookup_elem(&flow_control, &slot);
	if (ctl)
		slot = ctl->active_slot;
	void *flows = bpf_map_lookup_elem(&flow_slots, &slot);
	if (flows)
		account(flows, &p, bytes, packets);
	else /* a slot without a map: never left so by the agent; keep the count */
		overflow(&p, bytes, packets, now_ns());
}

SEC("tc")
int tc_pod_egress(struct __sk_buff *skb)
{
	count_packet(skb, false);
	return TC_ACT_UNSPEC;
}

/*
 * TC egress of every other interface (uplinks, bridges, VLAN and tunnel
 * devices, and pod veths for host-to-pod traffic). Each packet is counted once,
 * at the first device it leaves by:
 *  - skb_iif is set when a packet came in through a device: forwarded pod
 *    traffic was counted at its veth;
 *  - a VLAN tag (in-band or offloaded) means the VLAN sub-interface counted it;
 *  - a tunnel's outer packet: the tunnel device counted the inner one (tunnels
 *    clear skb_iif when they encapsulate, so this rule is needed on its own);
 *  - netns filter mode "default": only sockets in the pods' cgroup
 *    (hostNetwork pods), not host system processes.
 */
SEC("tc")
int tc_host_egress(struct __sk_buff *skb)
{
	if (skb->ingress_ifindex != 0) {
		stat_add(STAT_SKIPPED_FORWARDED, 1);
		return TC_ACT_UNSPEC;
	}
	if (skb->vlan_present) {
		stat_add(STAT_SKIPPED_ENCAP, 1);
		return TC_ACT_UNSPEC;
	}
	if (!count_host_system_traffic && bpf_skb_under_cgroup(skb, &pod_cgroup, 0) != 1) {
		stat_add(STAT_SKIPPED_HOST, 1);
		return TC_ACT_UNSPEC;
	}
	count_packet(skb, true);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
