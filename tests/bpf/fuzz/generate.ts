// Frames for the differential fuzzer: well-formed packets from random
// parameters, then bent the way malformed input is bent (cut at every byte,
// lying length fields, bad IHL and data offsets, long extension chains, stacked
// tags, GSO metadata, garbage). Everything comes from one seeded generator, so
// a seed names a run exactly.
import type { Gso } from './reference.js';
import { ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, IPPROTO_TCP, IPPROTO_UDP } from './reference.js';

export interface Case {
  category: Category;
  frame: Buffer;
  gso: Gso;
}

/** sfc32: small, fast, and the same sequence for a seed on every machine. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** 0 <= n < max */
  int(max: number): number {
    return this.u32() % max;
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() < p * 0x1_0000_0000;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  fill(b: Buffer, from = 0, to = b.length): void {
    for (let i = from; i < to; i++) b[i] = this.u32() & 0xff;
  }
}

const EXT_TYPES = ['hopopts', 'routing', 'dstopts', 'fragment', 'ah'] as const;
type ExtType = (typeof EXT_TYPES)[number];
const EXT_NUMBER: Record<ExtType, number> = { hopopts: 0, routing: 43, fragment: 44, ah: 51, dstopts: 60 };

interface Ext {
  type: ExtType;
  /** hdrlen byte (units per type); fragment: ignored. */
  hdrlen: number;
  fragOffset?: number;
}

export interface Spec {
  family: 4 | 6;
  protocol: number;
  sport: number;
  dport: number;
  /** TPIDs of the tags in front of the IP header, outermost first. */
  tags: number[];
  ipOptionWords: number;
  tcpOptionWords: number;
  payload: number;
  fragOffset: number;
  moreFragments: boolean;
  exts: Ext[];
  /** Bytes after the IP packet's end (link padding, or garbage). */
  trailer: number;
  /** IPv4 tot_len / IPv6 payload_len as written: undefined = the true value. */
  lengthField?: number;
  version?: number;
  gso: Gso;
}

function address(r: Rng, family: 4 | 6, out: Buffer, at: number): void {
  // Few addresses, so flows repeat and the map's per-key sums get exercised.
  if (family === 4) out.set([10, 244, r.int(4), 1 + r.int(6)], at);
  else {
    out.set([0xfd, 0, 0, 0x10, 0x02, 0x44], at);
    out[at + 7] = r.int(4);
    out[at + 15] = 1 + r.int(6);
  }
}

export function randomSpec(r: Rng): Spec {
  const family = r.chance(0.5) ? 4 : 6;
  const protocol = r.chance(0.9) ? r.pick([IPPROTO_TCP, IPPROTO_UDP]) : r.pick([1, 58, 132, 50, 47, 4, 41, 59, r.int(256)]);
  const exts: Ext[] = [];
  if (family === 6 && r.chance(0.3)) {
    const n = r.range(1, 4);
    for (let i = 0; i < n; i++) exts.push({ type: r.pick(EXT_TYPES), hdrlen: r.int(3) });
  }
  return {
    family, protocol,
    sport: r.chance(0.5) ? r.range(1024, 65535) : r.pick([53, 80, 443, 8080, 0, 65535]),
    dport: r.chance(0.5) ? r.pick([53, 80, 443, 6443, 9090]) : r.int(65536),
    tags: r.chance(0.15) ? [r.pick([ETH_P_8021Q, ETH_P_8021AD])] : [],
    ipOptionWords: family === 4 && r.chance(0.2) ? r.range(1, 10) : 0,
    tcpOptionWords: r.chance(0.5) ? r.range(0, 10) : 0,
    payload: r.chance(0.7) ? r.int(200) : r.int(1400),
    fragOffset: 0, moreFragments: false, exts, trailer: 0,
    gso: { size: 0, segs: 0 },
  };
}

/** A frame exactly as the spec says (lengths true unless the spec overrides them). */
export function build(s: Spec, r: Rng): Buffer {
  let l4: Buffer;
  if (s.protocol === IPPROTO_TCP) {
    const hl = 20 + s.tcpOptionWords * 4;
    l4 = Buffer.alloc(hl + s.payload, 0x74);
    l4.writeUInt16BE(s.sport, 0);
    l4.writeUInt16BE(s.dport, 2);
    l4.writeUInt32BE(r.u32(), 4);
    l4[12] = (hl / 4) << 4;
    l4[13] = 0x18;
    l4.fill(1, 20, hl);
  } else if (s.protocol === IPPROTO_UDP) {
    l4 = Buffer.alloc(8 + s.payload, 0x75);
    l4.writeUInt16BE(s.sport, 0);
    l4.writeUInt16BE(s.dport, 2);
    l4.writeUInt16BE((8 + s.payload) & 0xffff, 4);
  } else {
    l4 = Buffer.alloc(8 + s.payload, 0x6f);
  }
  const tagBytes = s.tags.length * 4;
  let l3: Buffer;
  if (s.family === 4) {
    const hl = 20 + s.ipOptionWords * 4;
    l3 = Buffer.alloc(hl + l4.length);
    l3[0] = ((s.version ?? 4) << 4) | (hl / 4);
    l3.writeUInt16BE(s.lengthField ?? (hl + l4.length) & 0xffff, 2);
    l3.writeUInt16BE(r.int(65536), 4);
    l3.writeUInt16BE(((s.moreFragments ? 1 : 0) << 13) | s.fragOffset, 6);
    l3[8] = 64;
    l3[9] = s.protocol;
    address(r, 4, l3, 12);
    address(r, 4, l3, 16);
    l3.fill(1, 20, hl);
    l4.copy(l3, hl);
  } else {
    const parts: Buffer[] = [];
    for (let i = 0; i < s.exts.length; i++) {
      const e = s.exts[i]!;
      const next = i + 1 < s.exts.length ? EXT_NUMBER[s.exts[i + 1]!.type] : s.protocol;
      const len = e.type === 'fragment' ? 8 : e.type === 'ah' ? (e.hdrlen + 2) * 4 : (e.hdrlen + 1) * 8;
      const h = Buffer.alloc(len);
      h[0] = next;
      if (e.type === 'fragment') h.writeUInt16BE(((e.fragOffset ?? 0) << 3) | 1, 2);
      else {
        h[1] = e.hdrlen;
        if (e.type !== 'ah') h.fill(0, 2); // Pad1 options
      }
      parts.push(h);
    }
    const body = Buffer.concat([...parts, l4]);
    l3 = Buffer.alloc(40 + body.length);
    l3[0] = (s.version ?? 6) << 4;
    l3.writeUInt16BE(s.lengthField ?? body.length & 0xffff, 4);
    l3[6] = s.exts.length ? EXT_NUMBER[s.exts[0]!.type] : s.protocol;
    l3[7] = 64;
    address(r, 6, l3, 8);
    address(r, 6, l3, 24);
    body.copy(l3, 40);
  }
  const f = Buffer.alloc(14 + tagBytes + l3.length + s.trailer);
  f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  let at = 12;
  for (const tpid of s.tags) {
    f.writeUInt16BE(tpid, at);
    f.writeUInt16BE(r.int(4096), at + 2);
    at += 4;
  }
  f.writeUInt16BE(s.family === 4 ? ETH_P_IP : ETH_P_IPV6, at);
  l3.copy(f, at + 2);
  r.fill(f, f.length - s.trailer);
  return f;
}

const c = (category: Category, frame: Buffer, gso: Gso = { size: 0, segs: 0 }): Case => ({ category, frame, gso });

/** Each generator returns one or more cases (truncation returns every cut of one frame). */
const generators = {
  /** Well-formed packets: the parser must count them all. */
  valid(r: Rng): Case[] {
    const s = randomSpec(r);
    if (r.chance(0.3)) s.tags = Array.from({ length: r.range(1, 2) }, () => r.pick([ETH_P_8021Q, ETH_P_8021AD]));
    return [c('valid', build(s, r))];
  },
  /** One packet cut at every byte from the Ethernet header to its end. */
  truncated(r: Rng): Case[] {
    const s = randomSpec(r);
    s.payload = r.int(24);
    if (r.chance(0.5)) s.tags = [ETH_P_8021Q]; // test runs refuse untagged IP frames under an IP header
    const f = build(s, r);
    return Array.from({ length: f.length + 1 }, (_, n) => c('truncated', Buffer.from(f.subarray(0, n))));
  },
  /** IHL from 0 to 15 words against the options actually present. */
  ihl(r: Rng): Case[] {
    const s = randomSpec(r);
    s.family = 4;
    s.exts = [];
    const f = build(s, r);
    const l3 = 14 + s.tags.length * 4;
    f[l3] = 0x40 | r.int(16);
    return [c('ihl', f)];
  },
  /** TCP data offset 0..15 against the segment actually present. */
  tcp_doff(r: Rng): Case[] {
    const s = randomSpec(r);
    s.protocol = IPPROTO_TCP;
    s.payload = r.int(60);
    const f = build(s, r);
    const l4 = tcpOffset(f, s);
    if (l4 < f.length) f[l4 + 12] = (r.int(16) << 4) | (f[l4 + 12]! & 0x0f);
    return [c('tcp_doff', f)];
  },
  /** IPv6 extension chains from 0 to 9 headers, some long enough to pass the walk's 512 B. */
  ipv6_ext(r: Rng): Case[] {
    const s = randomSpec(r);
    s.family = 6;
    s.exts = Array.from({ length: r.int(10) }, () => ({
      type: r.pick(EXT_TYPES), hdrlen: r.chance(0.1) ? r.int(80) : r.int(4), fragOffset: r.chance(0.3) ? r.int(8192) : 0,
    }));
    if (r.chance(0.2)) s.protocol = r.pick([0, 43, 44, 51, 60, 58, 59]);
    return [c('ipv6_ext', build(s, r))];
  },
  /** IPv4 and IPv6 fragments: first, middle, last, any protocol. */
  fragments(r: Rng): Case[] {
    const s = randomSpec(r);
    if (s.family === 4) {
      s.fragOffset = r.chance(0.3) ? 0 : r.int(8192);
      s.moreFragments = r.chance(0.5);
      if (r.chance(0.3)) s.payload = r.int(8);
    } else {
      const frag: Ext = { type: 'fragment', hdrlen: 0, fragOffset: r.chance(0.3) ? 0 : r.int(8192) };
      s.exts = r.chance(0.5) ? [frag] : [...s.exts, frag, ...(r.chance(0.5) ? [{ type: 'dstopts' as const, hdrlen: r.int(3) }] : [])];
    }
    return [c('fragments', build(s, r))];
  },
  /** 0 to 4 tags of 802.1Q, 802.1ad and other TPIDs. */
  vlan(r: Rng): Case[] {
    const s = randomSpec(r);
    s.tags = Array.from({ length: r.int(5) }, () => r.pick([ETH_P_8021Q, ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021AD, 0x9100]));
    return [c('vlan', build(s, r))];
  },
  /** GSO metadata in the test run's __sk_buff: sizes and segment counts, consistent or not. */
  gso(r: Rng): Case[] {
    const s = randomSpec(r);
    s.payload = r.int(3000);
    const size = r.chance(0.8) ? r.range(1, 9000) : 0;
    const segs = r.chance(0.1) ? 0 : r.chance(0.1) ? r.range(1000, 65535) : r.range(1, 64);
    if (r.chance(0.2)) s.trailer = r.int(64);
    if (r.chance(0.2)) s.lengthField = r.int(65536);
    const f = build(s, r);
    return [c('gso', f.length > 3712 ? f.subarray(0, 3712) : f, { size, segs })];
  },
  /** IPv4 total length 0 and IPv6 payload length 0, with and without GSO (BIG TCP). */
  big_tcp(r: Rng): Case[] {
    const s = randomSpec(r);
    s.payload = r.int(3000);
    s.lengthField = 0;
    const f = build(s, r);
    const gso = r.chance(0.7) ? { size: r.range(500, 9000), segs: r.range(1, 64) } : { size: 0, segs: r.chance(0.5) ? 0 : r.range(1, 8) };
    return [c('big_tcp', f.length > 3712 ? f.subarray(0, 3712) : f, gso)];
  },
  /** Total / payload length fields that lie both ways, and trailing bytes after the packet. */
  length_lies(r: Rng): Case[] {
    const s = randomSpec(r);
    s.trailer = r.chance(0.5) ? r.int(80) : 0;
    const f0 = build(s, r);
    const trueLen = f0.length - 14 - s.tags.length * 4 - s.trailer - (s.family === 6 ? 40 : 0);
    s.lengthField = r.pick([trueLen - 1, trueLen + 1, trueLen + r.int(100), Math.max(0, trueLen - r.int(100)), r.int(65536), 0xffff, 1]) & 0xffff;
    return [c('length_lies', build(s, r))];
  },
  /** Any ethertype, any bytes. */
  ethertype(r: Rng): Case[] {
    const f = Buffer.alloc(r.range(14, 120));
    r.fill(f);
    if (r.chance(0.3)) f.writeUInt16BE(r.pick([0x0806, 0x88cc, 0x8847, 0x8864, 0x0842, 0x22f0, 0x0600, 0x05dc, 0x0000, 0xffff]), 12);
    return [c('ethertype', f)];
  },
  /** The IP version field against the ethertype. */
  version(r: Rng): Case[] {
    const s = randomSpec(r);
    s.version = r.int(16);
    return [c('version', build(s, r))];
  },
  /** A well-formed packet with 1 to 4 header bytes overwritten. */
  mutated(r: Rng): Case[] {
    const s = randomSpec(r);
    if (r.chance(0.3)) s.tags = [ETH_P_8021Q];
    if (s.family === 6 && r.chance(0.5)) s.exts = [{ type: r.pick(EXT_TYPES), hdrlen: r.int(2) }];
    const f = build(s, r);
    const span = Math.min(f.length, 120);
    for (let n = r.range(1, 4); n > 0; n--) {
      const at = r.range(12, span - 1);
      f[at] = r.chance(0.5) ? r.int(256) : f[at]! ^ (1 << r.int(8));
    }
    const gso = r.chance(0.1) ? { size: r.range(1, 2000), segs: r.range(1, 16) } : { size: 0, segs: 0 };
    return [c('mutated', f, gso)];
  },
  /** Random bytes behind an IP, IPv6 or VLAN ethertype. */
  random(r: Rng): Case[] {
    const f = Buffer.alloc(r.range(14, 160));
    r.fill(f);
    f.writeUInt16BE(r.pick([ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q, ETH_P_8021AD]), 12);
    if (f.length > 14 && r.chance(0.7)) f[14] = (f[14]! & 0x0f) | (f.readUInt16BE(12) === ETH_P_IPV6 ? 0x60 : 0x40);
    return [c('random', f, r.chance(0.1) ? { size: r.range(1, 2000), segs: r.range(0, 16) } : { size: 0, segs: 0 })];
  },
} satisfies Record<string, (r: Rng) => Case[]>;

export type Category = keyof typeof generators;
/** Rounds per call: one frame cut at every byte is ~90 cases, so it runs every 8th round only. */
export const EVERY: Partial<Record<Category, number>> = { truncated: 8 };
export const CATEGORIES = Object.keys(generators) as Category[];

export function generate(category: Category, r: Rng): Case[] {
  return generators[category](r);
}

/** Where the TCP header of a frame built from s starts. */
function tcpOffset(f: Buffer, s: Spec): number {
  const l3 = 14 + s.tags.length * 4;
  if (s.family === 4) return l3 + 20 + s.ipOptionWords * 4;
  let at = l3 + 40;
  for (const e of s.exts) at += e.type === 'fragment' ? 8 : e.type === 'ah' ? (e.hdrlen + 2) * 4 : (e.hdrlen + 1) * 8;
  return Math.min(at, f.length);
}
