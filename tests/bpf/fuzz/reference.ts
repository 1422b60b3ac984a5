// The reference parser the differential fuzzer compares tc_pod_egress with,
// written from the specifications rather than from bpf/lib/parse.bpf.h:
//   IEEE 802.1Q / 802.1ad  VLAN tags (TPID 0x8100 C-tag, 0x88a8 S-tag; QinQ = two tags)
//   RFC 791                IPv4 (version, IHL, total length, fragment offset)
//   RFC 8200 (+ 4302, 2675) IPv6, extension headers, fragments, AH, jumbograms
//   RFC 9293 (793)         TCP data offset
//   RFC 768                UDP header
// and docs/counting.md's rules: what a byte and a packet are, GSO segments,
// and which reason an ignored packet is counted under.
//
// Each frame has exactly one outcome: counted (flow key, bytes, packets),
// ignored (one agent_stat reason), or refused by BPF_PROG_TEST_RUN itself
// (the kernel's own admission checks, before any program runs).

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
const IPPROTO_HOPOPTS = 0;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_AH = 51;
const IPPROTO_DSTOPTS = 60;

/** 802.1ad S-tag + 802.1Q C-tag: the stack a provider bridge builds. A third tag is not walked. */
export const MAX_VLAN_TAGS = 2;
/** docs/counting.md: more than 6 extension headers before TCP/UDP are ignored (ipv6_ext_limit). */
export const MAX_IPV6_EXT_HEADERS = 6;
/** docs/counting.md: a header the walk would start more than 512 B into the frame is past the walk (ipv6_ext_limit). */
export const MAX_L4_OFFSET = 512;
/** Largest frame BPF_PROG_TEST_RUN takes for an skb program (one page minus headroom and skb_shared_info, x86-64). */
export const TEST_RUN_MAX_FRAME = 3712;

export type Reason = 'ignored_non_ip' | 'ignored_other_l4' | 'ignored_truncated' | 'ignored_ext_limit' | 'skipped_encap';
export const REASONS: readonly Reason[] = ['ignored_non_ip', 'ignored_other_l4', 'ignored_truncated', 'ignored_ext_limit', 'skipped_encap'];

export type Outcome =
  | { kind: 'refused'; why: string }
  /** protocol: the L4 protocol an ignored_other_l4 packet carries. */
  | { kind: 'ignored'; reason: Reason; why: string; protocol?: number }
  | { kind: 'counted'; key: Buffer; bytes: number; packets: number };

/** The programs the fuzzer runs: the pod veth's, and the uplink's (host traffic counted). */
export type Program = 'tc_pod_egress' | 'tc_host_egress';

/** The __sk_buff GSO fields a test run passes in its ctx. */
export interface Gso {
  size: number;
  segs: number;
}

const ignored = (reason: Reason, why: string): Outcome => ({ kind: 'ignored', reason, why });
const truncated = (why: string) => ignored('ignored_truncated', why);

const IPV6_EXT = new Set([IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_AH, IPPROTO_DSTOPTS]);

/** A flow_key (bpf/flows.h): family, protocol, pad, ports (network order), 16-byte addresses. */
function flowKey(family: 4 | 6, protocol: number, f: Buffer, src: number, dst: number, sport: number, dport: number): Buffer {
  const k = Buffer.alloc(40);
  const alen = family === 4 ? 4 : 16;
  k[0] = family;
  k[1] = protocol;
  k.writeUInt16BE(sport, 4);
  k.writeUInt16BE(dport, 6);
  f.copy(k, 8, src, src + alen);
  f.copy(k, 24, dst, dst + alen);
  return k;
}

/**
 * docs/counting.md "Bytes: L3" and "Packets: as on the wire": one packet of
 * its L3 length, or a GSO packet's gso_segs segments, each repeating the L3
 * and L4 headers.
 */
function counted(key: Buffer, l3Len: number, headerLen: number, gso: Gso): Outcome {
  if (gso.segs > 1) return { kind: 'counted', key, bytes: l3Len + (gso.segs - 1) * headerLen, packets: gso.segs };
  return { kind: 'counted', key, bytes: l3Len, packets: 1 };
}

/** BPF_PROG_TEST_RUN's own checks (net/bpf/test_run.c), before the program sees the frame. */
export function testRunRefuses(f: Buffer, gso: Gso): string | undefined {
  if (f.length < ETH_HLEN) return 'frame shorter than an Ethernet header';
  if (f.length > TEST_RUN_MAX_FRAME) return 'frame larger than a test run page';
  if (gso.segs > 0xffff || gso.size > 0xffff) return 'gso fields wider than the skb\'s';
  const type = f.readUInt16BE(12);
  if (type === ETH_P_IP && f.length < ETH_HLEN + 20) return 'IPv4 frame shorter than an IPv4 header';
  if (type === ETH_P_IPV6 && f.length < ETH_HLEN + 40) return 'IPv6 frame shorter than an IPv6 header';
  return undefined;
}

export function reference(f: Buffer, gso: Gso): Outcome {
  const refused = testRunRefuses(f, gso);
  if (refused) return { kind: 'refused', why: refused };
  let type = f.readUInt16BE(12);
  let l3 = ETH_HLEN;
  for (let tags = 0; type === ETH_P_8021Q || type === ETH_P_8021AD; tags++) {
    if (tags === MAX_VLAN_TAGS) return ignored('ignored_non_ip', 'more VLAN tags than an 802.1ad stack');
    if (l3 + 4 > f.length) return truncated('VLAN tag cut off');
    type = f.readUInt16BE(l3 + 2);
    l3 += 4;
  }
  if (type === ETH_P_IP) return ipv4(f, l3, gso);
  if (type === ETH_P_IPV6) return ipv6(f, l3, gso);
  return ignored('ignored_non_ip', `ethertype 0x${type.toString(16)}`);
}

function ipv4(f: Buffer, l3: number, gso: Gso): Outcome {
  // A test-run frame is linear: the skb's length is the frame's.
  const avail = f.length - l3;
  if (avail < 20) return truncated('IPv4 header cut off');
  if (f[l3]! >> 4 !== 4) return ignored('ignored_non_ip', 'IPv4 ethertype, version field not 4');
  const ihl = (f[l3]! & 0x0f) * 4;
  let totLen = f.readUInt16BE(l3 + 2);
  // IPv4 BIG TCP: a GSO packet over 64 KiB carries total length 0; the skb knows its length.
  if (totLen === 0 && gso.size !== 0) totLen = avail;
  if (ihl < 20) return truncated('IHL under 5 words');
  if (totLen < ihl) return truncated('total length shorter than the header');
  if (totLen > avail) return truncated('total length past the end of the frame');
  const protocol = f[l3 + 9]!;
  if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return { kind: 'ignored', reason: 'ignored_other_l4', why: `protocol ${protocol}`, protocol };
  // RFC 791: a fragment offset other than 0 means no L4 header here: port 0.
  if ((f.readUInt16BE(l3 + 6) & 0x1fff) !== 0) return counted(flowKey(4, protocol, f, l3 + 12, l3 + 16, 0, 0), totLen, ihl, gso);
  return l4(f, l3, l3 + ihl, totLen, protocol, 4, l3 + 12, l3 + 16, gso);
}

function ipv6(f: Buffer, l3: number, gso: Gso): Outcome {
  const avail = f.length - l3;
  if (avail < 40) return truncated('IPv6 header cut off');
  if (f[l3]! >> 4 !== 6) return ignored('ignored_non_ip', 'IPv6 ethertype, version field not 6');
  const payload = f.readUInt16BE(l3 + 4);
  // Payload length 0: a jumbogram (RFC 2675) / BIG TCP, which only a GSO packet can be on a
  // link whose MTU is under 64 KiB; elsewhere it is what it says: no payload.
  const l3Len = payload === 0 && gso.size !== 0 ? avail : 40 + payload;
  if (l3Len > avail) return truncated('payload length past the end of the frame');
  const end = l3 + l3Len;
  let next = f[l3 + 6]!;
  let off = l3 + 40;
  let laterFragment = false;
  for (let i = 0; IPV6_EXT.has(next); i++) {
    if (i === MAX_IPV6_EXT_HEADERS) return ignored('ignored_ext_limit', 'more extension headers than the walk');
    if (off > MAX_L4_OFFSET) return ignored('ignored_ext_limit', 'extension header past the walk');
    if (off + 8 > end) return truncated('extension header cut off');
    let len: number;
    if (next === IPPROTO_FRAGMENT) {
      laterFragment = (f.readUInt16BE(off + 2) & 0xfff8) !== 0;
      len = 8;
    } else if (next === IPPROTO_AH) {
      len = (f[off + 1]! + 2) * 4; // RFC 4302: in 4-byte units, minus 2
    } else {
      len = (f[off + 1]! + 1) * 8; // RFC 8200: in 8-byte units, not counting the first 8
    }
    if (off + len > end) return truncated('extension header longer than the packet');
    next = f[off]!;
    off += len;
    // RFC 8200 4.5: a non-first fragment carries the fragmentable part's
    // middle, not its headers: nothing after the fragment header is a header.
    if (laterFragment) break;
  }
  if (next !== IPPROTO_TCP && next !== IPPROTO_UDP) return { kind: 'ignored', reason: 'ignored_other_l4', why: `next header ${next}${laterFragment ? ' (non-first fragment)' : ''}`, protocol: next };
  if (laterFragment) return counted(flowKey(6, next, f, l3 + 8, l3 + 24, 0, 0), l3Len, off - l3, gso);
  return l4(f, l3, off, l3Len, next, 6, l3 + 8, l3 + 24, gso);
}

function l4(f: Buffer, l3: number, at: number, l3Len: number, protocol: number, family: 4 | 6, src: number, dst: number, gso: Gso): Outcome {
  if (at > MAX_L4_OFFSET) return ignored('ignored_ext_limit', 'L4 header past the walk');
  const end = l3 + l3Len;
  let headerLen: number;
  if (protocol === IPPROTO_TCP) {
    if (at + 20 > end) return truncated('TCP header cut off');
    const doff = (f[at + 12]! >> 4) * 4;
    if (doff < 20) return truncated('TCP data offset under 5 words');
    if (at + doff > end) return truncated('TCP data offset past the packet');
    headerLen = at - l3 + doff;
  } else {
    if (at + 8 > end) return truncated('UDP header cut off');
    headerLen = at - l3 + 8;
  }
  return counted(flowKey(family, protocol, f, src, dst, f.readUInt16BE(at), f.readUInt16BE(at + 2)), l3Len, headerLen, gso);
}

/** IP-in-IP, IPv6-in-IP and GRE: an uplink's tunnel packet, whose tunnel device counted the inner one. */
const ENCAP_PROTOCOLS = new Set([4, 41, 47]);
/** UDP ports of VXLAN (IANA, Linux/flannel) and Geneve outer packets. */
const TUNNEL_PORTS = new Set([4789, 8472, 6081]);

/**
 * docs/counting.md, on an uplink (tc_host_egress, host traffic counted, a
 * locally sent packet): as on a pod veth, except that what another device
 * already counted is skipped (skipped_encap): a frame with an in-band VLAN
 * tag (the VLAN sub-interface counted it), a tunnel's outer packet (VXLAN,
 * Geneve by UDP port; IP-in-IP, GRE by protocol).
 */
export function referenceHost(f: Buffer, gso: Gso): Outcome {
  const o = reference(f, gso);
  if (o.kind === 'ignored' && o.reason === 'ignored_other_l4' && ENCAP_PROTOCOLS.has(o.protocol!)) return ignored('skipped_encap', `tunnel protocol ${o.protocol}`);
  if (o.kind !== 'counted') return o;
  const type = f.readUInt16BE(12);
  if (type === ETH_P_8021Q || type === ETH_P_8021AD) return ignored('skipped_encap', 'in-band VLAN tag');
  if (o.key[1] === IPPROTO_UDP && TUNNEL_PORTS.has(o.key.readUInt16BE(6))) return ignored('skipped_encap', `tunnel UDP port ${o.key.readUInt16BE(6)}`);
  return o;
}

export function referenceFor(program: Program): (f: Buffer, gso: Gso) => Outcome {
  return program === 'tc_host_egress' ? referenceHost : reference;
}
