/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The structs shared by the TC programs (flows.bpf.c) and the addon
 * (agent/native). Fixed-width fields, explicit padding and size asserts: the
 * TypeScript decoder (agent/src/bpf/records.ts) reads the same offsets.
 */
#ifndef KUBEADAPT_FLOWS_H
#define KUBEADAPT_FLOWS_H

#include <linux/types.h>

#define FLOW_FAMILY_IPV4 4
#define FLOW_FAMILY_IPV6 6

/* One connection as seen leaving a pod. IPv4 addresses sit in the first four
 * bytes of the 16-byte fields, the rest zero. Ports in network byte order. */
struct flow_key {
	__u8 family;
	__u8 protocol;
	__u16 pad;
	__u16 src_port;
	__u16 dst_port;
	__u8 src_addr[16];
	__u8 dst_addr[16];
};

/* bytes are L3 bytes (IP header + payload) of the packets as they go on the
 * wire: a GSO super-packet counts as its gso_segs segments. Times are the
 * kernel's monotonic clock (coarse where the kernel has it). */
struct flow_stats {
	__u64 bytes;
	__u64 packets;
	/* Reserved, always 0: the programs stopped reading the clock per packet
	 * (docs/performance.md); kept so pinned maps of earlier versions fit. */
	__u64 first_seen_ns;
	__u64 last_seen_ns;
};

/* Written to the overflow ring buffer when the active flow map is full:
 * one delta that user space folds into the same series. */
struct flow_record {
	struct flow_key key;
	__u64 bytes;
	__u64 packets;
	__u64 seen_ns;
};

/* Slot 0 of flow_control. active_slot picks which flow map the programs write;
 * the agent flips it, waits for one RCU grace period and drains the other one, so
 * a drain never races a writer. The txn_* fields belong to user space: the
 * ledger transaction in flight (pinned, so a restarted agent finishes it). */
struct flow_control {
	__u32 active_slot;
	__u32 txn_kind;      /* enum ledger_txn: what the transaction in flight drains */
	__u64 txn_epoch;     /* its epoch: a pair whose ledger entry has it is done */
	__u64 txn_ring_end;  /* ring transactions: consumer position they end at */
};

enum ledger_txn {
	TXN_NONE = 0,
	TXN_SLOT = 1, /* draining the idle flow map slot */
	TXN_RING = 2, /* folding overflow ring buffer records */
};

/* The exported totals of one series, kept in the pinned pair_totals map so a
 * byte drained from the kernel is never only in process memory. */
struct pair_key {
	__u8 family;
	__u8 protocol;
	__u16 pad;
	__u8 src_addr[16];
	__u8 dst_addr[16];
};

struct pair_totals {
	__u64 bytes;
	__u64 packets;
	__u64 epoch; /* the last transaction applied to this pair */
};

/* The service resolution log (map service_resolution): before a transaction
 * folds anything into pair_totals, the agent writes there where each
 * translated connection of it went (the backend conntrack gave for its
 * ClusterIP or NodePort), so an agent that dies mid-transaction and the one that
 * finishes it fold every byte under the same pair. Entry 0 is the header;
 * entries 1..count the records. User space only; the programs never touch it. */
struct service_log_header {
	__u64 epoch;  /* the transaction the records belong to; written last */
	__u32 count;  /* records in entries 1..count */
	__u32 pad;
	__u8 reserved[40];
};

struct service_log_record {
	struct flow_key key; /* as the pod sent it: dst is the ClusterIP */
	__u8 dst_addr[16];   /* the backend that received it */
};

/* Indices of the per-CPU agent_stats array: every packet the programs see and
 * do not put into a flow map lands in exactly one of these. */
enum agent_stat {
	STAT_IGNORED_NON_IP = 0,    /* ARP, LLDP, ... */
	STAT_IGNORED_OTHER_L4,      /* ICMP, SCTP, ESP, ... */
	STAT_IGNORED_TRUNCATED,     /* headers cut off or longer than they claim (IPv4 ihl, TCP doff) */
	STAT_IGNORED_EXT_LIMIT,     /* more IPv6 extension headers than we walk */
	STAT_OVERFLOW_RECORDS,      /* flow map full: delta sent to the ring buffer */
	STAT_RINGBUF_FULL_PACKETS,  /* flow map and ring buffer full: packets lost */
	STAT_RINGBUF_FULL_BYTES,    /* ... and their bytes */
	STAT_MAP_UPDATE_FAILED,     /* update failed for a reason other than full */
	STAT_SKIPPED_FORWARDED,     /* uplink egress: forwarded, counted at the pod */
	STAT_SKIPPED_HOST,          /* uplink egress: host system traffic (filter mode) */
	STAT_SKIPPED_ENCAP,         /* uplink egress: VLAN-tagged or a tunnel's outer packet */
	STAT_COUNT,
};

#define FLOW_SLOTS 2

#ifndef __bpf__
#ifdef __cplusplus
#define FLOWS_STATIC_ASSERT static_assert
#else
#define FLOWS_STATIC_ASSERT _Static_assert
#endif
FLOWS_STATIC_ASSERT(sizeof(struct flow_key) == 40, "flow_key layout");
FLOWS_STATIC_ASSERT(sizeof(struct flow_stats) == 32, "flow_stats layout");
FLOWS_STATIC_ASSERT(sizeof(struct flow_record) == 64, "flow_record layout");
FLOWS_STATIC_ASSERT(sizeof(struct flow_control) == 24, "flow_control layout");
FLOWS_STATIC_ASSERT(sizeof(struct pair_key) == 36, "pair_key layout");
FLOWS_STATIC_ASSERT(sizeof(struct pair_totals) == 24, "pair_totals layout");
FLOWS_STATIC_ASSERT(sizeof(struct service_log_record) == 56, "service_log_record layout");
FLOWS_STATIC_ASSERT(sizeof(struct service_log_header) == sizeof(struct service_log_record), "service_log_header layout");
#endif

#endif
