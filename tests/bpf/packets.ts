// Hand-built frames for BPF_PROG_TEST_RUN: each builder writes exactly the
// headers a test names, so expected byte counts follow from the layout alone.
import { parseIP } from '../../agent/src/bpf/ip.js';

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;

export const IPPROTO = { hopopts: 0, tcp: 6, udp: 17, routing: 43, fragment: 44, icmp: 1, dstopts: 60, ah: 51 } as const;

const ipv4Bytes = parseIP;
const ipv6Bytes = parseIP;

export function ethernet(etherType: number, vlanId?: number): Buffer {
  const b = Buffer.alloc(vlanId === undefined ? 14 : 18);
  b.set([0x02, 0, 0, 0, 0, 2], 0);
  b.set([0x02, 0, 0, 0, 0, 1], 6);
  if (vlanId === undefined) {
    b.writeUInt16BE(etherType, 12);
  } else {
    b.writeUInt16BE(ETH_P_8021Q, 12);
    b.writeUInt16BE(vlanId, 14);
    b.writeUInt16BE(etherType, 16);
  }
  return b;
}

export function udp(sport: number, dport: number, payload: number): Buffer {
  const b = Buffer.alloc(8 + payload, 0x75);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE(8 + payload, 4);
  b.writeUInt16BE(0, 6);
  return b;
}

/** optionWords: 32-bit words of TCP options (doff = 5 + optionWords). */
export function tcp(sport: number, dport: number, payload: number, optionWords = 0): Buffer {
  const hl = 20 + optionWords * 4;
  const b = Buffer.alloc(hl + payload, 0x74);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt32BE(1, 4);
  b.writeUInt32BE(0, 8);
  b[12] = (hl / 4) << 4;
  b[13] = 0x18;
  b.writeUInt16BE(65535, 14);
  b.fill(1, 20, hl); // NOP options
  return b;
}

export interface Ipv4Options {
  protocol: number;
  optionWords?: number;
  fragOffset?: number; // in 8-byte units
  moreFragments?: boolean;
  /** Overrides total length (to build lying headers). */
  totalLength?: number;
}

export function ipv4(src: string, dst: string, l4: Buffer, o: Ipv4Options): Buffer {
  const hl = 20 + (o.optionWords ?? 0) * 4;
  const b = Buffer.alloc(hl);
  b[0] = 0x40 | (hl / 4);
  b.writeUInt16BE(o.totalLength ?? hl + l4.length, 2);
  b.writeUInt16BE(0x1234, 4);
  b.writeUInt16BE(((o.moreFragments ? 1 : 0) << 13) | (o.fragOffset ?? 0), 6);
  b[8] = 64;
  b[9] = o.protocol;
  b.set(ipv4Bytes(src), 12);
  b.set(ipv4Bytes(dst), 16);
  b.fill(1, 20, hl); // NOP options
  return Buffer.concat([b, l4]);
}

export interface Ipv6Ext {
  type: 'hopopts' | 'routing' | 'dstopts' | 'fragment' | 'ah';
  /** fragment only: offset in 8-byte units. */
  fragOffset?: number;
}

/** Builds the IPv6 header and extension chain in front of an L4 header of `protocol`. */
export function ipv6(src: string, dst: string, l4: Buffer, protocol: number, exts: Ipv6Ext[] = []): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i]!;
    const next = i + 1 < exts.length ? IPPROTO[exts[i + 1]!.type] : protocol;
    let h: Buffer;
    if (e.type === 'fragment') {
      h = Buffer.alloc(8);
      h.writeUInt16BE((e.fragOffset ?? 0) << 3 | 1, 2);
    } else if (e.type === 'ah') {
      h = Buffer.alloc(16); // hdrlen 2 -> (2 + 2) * 4 bytes
      h[1] = 2;
    } else {
      h = Buffer.alloc(16); // hdrlen 1 -> (1 + 1) * 8 bytes
      h[1] = 1;
      if (e.type === 'routing') h[3] = 0; // segments left 0
    }
    h[0] = next;
    parts.push(h);
  }
  const body = Buffer.concat([...parts, l4]);
  const b = Buffer.alloc(40);
  b[0] = 0x60;
  b.writeUInt16BE(body.length, 4);
  b[6] = exts.length ? IPPROTO[exts[0]!.type] : protocol;
  b[7] = 64;
  b.set(ipv6Bytes(src), 8);
  b.set(ipv6Bytes(dst), 24);
  return Buffer.concat([b, body]);
}

export function frame(etherType: number, l3: Buffer, vlanId?: number): Buffer {
  return Buffer.concat([ethernet(etherType, vlanId), l3]);
}
