// The packet kinds of the per-packet benchmark, built with the same frame
// builders as the BPF unit tests so both describe packets one way.
import { ETH_P_IP, ETH_P_IPV6, IPPROTO, frame, ipv4, ipv6, tcp, udp } from '../tests/bpf/packets.js';

export interface PacketKind {
  name: string;
  packet: Buffer;
  /** Byte offset of the L4 source port: rewritten to make a new flow. */
  srcPortOffset: number;
}

const V4 = ['10.244.1.10', '10.244.2.20'] as const;
const V6 = ['fd00:10:244:1::10', 'fd00:10:244:2::20'] as const;

export function packetKinds(): PacketKind[] {
  return [
    // 14 + 20 + 20 + 10 = 64-byte frame
    { name: 'ipv4-tcp-64B', packet: frame(ETH_P_IP, ipv4(V4[0], V4[1], tcp(40000, 80, 10), { protocol: IPPROTO.tcp })), srcPortOffset: 34 },
    // 14 + 20 + 8 + 470 = 512-byte frame
    { name: 'ipv4-udp-512B', packet: frame(ETH_P_IP, ipv4(V4[0], V4[1], udp(40000, 53, 470), { protocol: IPPROTO.udp })), srcPortOffset: 34 },
    { name: 'ipv6-tcp-128B', packet: frame(ETH_P_IPV6, ipv6(V6[0], V6[1], tcp(40000, 80, 54), IPPROTO.tcp)), srcPortOffset: 54 },
    { name: 'ipv6-udp-128B', packet: frame(ETH_P_IPV6, ipv6(V6[0], V6[1], udp(40000, 53, 66), IPPROTO.udp)), srcPortOffset: 54 },
    { name: 'vlan-ipv4-udp-128B', packet: frame(ETH_P_IP, ipv4(V4[0], V4[1], udp(40000, 53, 82), { protocol: IPPROTO.udp }), 100), srcPortOffset: 38 },
  ];
}
