// The disagreements the differential fuzzer (tests/bpf/fuzz) found between
// tc_pod_egress and the reference parser, each as a hand-built packet in the
// kernel selftests style: the verdict, and exactly what lands in the flow map
// or the ignored-packet counters. A pod with CAP_NET_RAW (granted by default
// by containerd and Docker) can send any of these frames.
import test from 'ava';
import { collect, openObject, runPacket, strip } from './harness.js';
import { ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, IPPROTO, ethernet, frame, ipv4, ipv6, tcp, udp } from './packets.js';

const A4 = '10.244.1.2';
const B4 = '10.244.2.3';
const A6 = 'fd00:10:244:1::2';
const B6 = 'fd00:10:244:2::3';
const ETH_P_8021AD = 0x88a8;

/** Nothing but `n` packets under `reason` (and nothing in the flow map or ring buffer). */
async function onlyIgnored(t: import('ava').ExecutionContext, bpf: ReturnType<typeof openObject>, reason: 'ignored_truncated' | 'ignored_non_ip' | 'ignored_other_l4' | 'ignored_ext_limit', n: number) {
  const { flows, overflow, stats } = await collect(bpf);
  t.deepEqual(flows, []);
  t.deepEqual(overflow, []);
  t.deepEqual(stats, { ...zeroStats(), [reason]: n });
}

function zeroStats() {
  return {
    ignored_non_ip: 0, ignored_other_l4: 0, ignored_truncated: 0, ignored_ext_limit: 0, overflow_records: 0, ringbuf_full_packets: 0,
    ringbuf_full_bytes: 0, map_update_failed: 0, skipped_forwarded: 0, skipped_host: 0, skipped_encap: 0,
  };
}

test('an IPv4 total length past the end of the frame is truncated, not counted as the bytes it claims', async (t) => {
  const bpf = openObject(t);
  // 20 + 8 + 10 bytes present, total length 65535: was counted as 65535 bytes.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, udp(1, 2, 10), { protocol: IPPROTO.udp, totalLength: 0xffff })));
  // One byte past the end, TCP, behind a VLAN tag.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, tcp(1, 2, 10), { protocol: IPPROTO.tcp, totalLength: 20 + 30 + 1 }), 5));
  // Other L4 with a lying length is truncated too: the length is checked before the protocol.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, Buffer.alloc(8), { protocol: IPPROTO.icmp, totalLength: 1000 })));
  await onlyIgnored(t, bpf, 'ignored_truncated', 3);
});

test('an IPv6 payload length past the end of the frame is truncated', async (t) => {
  const bpf = openObject(t);
  const p = ipv6(A6, B6, udp(1, 2, 10), IPPROTO.udp);
  p.writeUInt16BE(0xff00, 4);
  runPacket(t, bpf, frame(ETH_P_IPV6, p));
  const icmp = ipv6(A6, B6, Buffer.alloc(8), 58);
  icmp.writeUInt16BE(9, 4);
  runPacket(t, bpf, frame(ETH_P_IPV6, icmp));
  await onlyIgnored(t, bpf, 'ignored_truncated', 2);
});

test('a UDP header in the bytes behind the IP packet\'s end is truncated, not read as ports', async (t) => {
  const bpf = openObject(t);
  // IPv4: total length 20 + 4, the UDP header's other 4 bytes are frame padding.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, udp(1, 2, 0), { protocol: IPPROTO.udp, totalLength: 24 })));
  // IPv6: payload length 4.
  const p = ipv6(A6, B6, udp(1, 2, 0), IPPROTO.udp);
  p.writeUInt16BE(4, 4);
  runPacket(t, bpf, frame(ETH_P_IPV6, p));
  // Exactly at the end still counts.
  runPacket(t, bpf, frame(ETH_P_IP, Buffer.concat([ipv4(A4, B4, udp(7, 8, 0), { protocol: IPPROTO.udp }), Buffer.alloc(18)])));
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows.map(strip), [{ family: 4, protocol: 'udp', src: A4, dst: B4, srcPort: 7, dstPort: 8, bytes: 28, packets: 1 }]);
  t.deepEqual(stats, { ...zeroStats(), ignored_truncated: 2 });
});

test('an IPv6 extension header ending past the packet is truncated, whatever follows it', async (t) => {
  const bpf = openObject(t);
  // Destination options claiming (0x20 + 1) * 8 bytes in a 16-byte payload, next header ICMPv6: was other_l4.
  const p = ipv6(A6, B6, Buffer.alloc(0), 58, [{ type: 'dstopts' }]);
  p[40 + 1] = 0x20;
  runPacket(t, bpf, frame(ETH_P_IPV6, p));
  // The same behind a hop-by-hop header, with UDP next.
  const q = ipv6(A6, B6, udp(1, 2, 4), IPPROTO.udp, [{ type: 'hopopts' }, { type: 'routing' }]);
  q[40 + 16 + 1] = 3;
  runPacket(t, bpf, frame(ETH_P_IPV6, q));
  await onlyIgnored(t, bpf, 'ignored_truncated', 2);
});

test('a non-first IPv6 fragment ends the header walk: its payload bytes are not read as headers', async (t) => {
  const bpf = openObject(t);
  // Fragment header names destination options (first in the fragmentable part); the payload
  // of this later fragment looks like a dstopts header followed by UDP: was counted with ports.
  const looksLikeHeaders = Buffer.concat([Buffer.from([IPPROTO.udp, 0, 0, 0, 0, 0, 0, 0]), udp(1111, 2222, 8)]);
  const later = ipv6(A6, B6, looksLikeHeaders, IPPROTO.dstopts, [{ type: 'fragment', fragOffset: 100 }]);
  runPacket(t, bpf, frame(ETH_P_IPV6, later));
  // Later fragment naming routing, with payload bytes that look like 6 more extension headers: was ext_limit.
  const chain = Buffer.alloc(64);
  for (let i = 0; i < 8; i++) chain[i * 8] = IPPROTO.dstopts;
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, chain, IPPROTO.routing, [{ type: 'fragment', fragOffset: 3 }])));
  // A later fragment naming UDP still counts, under port 0.
  const udpLater = ipv6(A6, B6, Buffer.alloc(100), IPPROTO.udp, [{ type: 'fragment', fragOffset: 9 }]);
  runPacket(t, bpf, frame(ETH_P_IPV6, udpLater));
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows.map(strip), [{ family: 6, protocol: 'udp', src: A6, dst: B6, srcPort: 0, dstPort: 0, bytes: udpLater.length, packets: 1 }]);
  t.deepEqual(stats, { ...zeroStats(), ignored_other_l4: 2 });
});

test('an IP version field that contradicts the ethertype is not IP', async (t) => {
  const bpf = openObject(t);
  const v6in4 = ipv4(A4, B4, udp(1, 2, 10), { protocol: IPPROTO.udp });
  v6in4[0] = 0x65;
  runPacket(t, bpf, frame(ETH_P_IP, v6in4));
  const v4in6 = ipv6(A6, B6, tcp(1, 2, 10), IPPROTO.tcp);
  v4in6[0] = 0x40;
  runPacket(t, bpf, frame(ETH_P_IPV6, v4in6));
  const v0 = ipv4(A4, B4, udp(1, 2, 10), { protocol: IPPROTO.udp });
  v0[0] = 0x05;
  runPacket(t, bpf, frame(ETH_P_IP, v0, 3));
  await onlyIgnored(t, bpf, 'ignored_non_ip', 3);
});

test('IPv6 payload length 0 without GSO means no payload, not the rest of the frame', async (t) => {
  const bpf = openObject(t);
  // Was counted as a jumbogram of the frame's length (ports read from the bytes behind the packet).
  const p = ipv6(A6, B6, udp(1, 2, 600), IPPROTO.udp);
  p.writeUInt16BE(0, 4);
  runPacket(t, bpf, frame(ETH_P_IPV6, p));
  // With GSO it is BIG TCP, counted with the skb's length (parse.test.ts covers the bytes).
  runPacket(t, bpf, frame(ETH_P_IPV6, p), { gsoSize: 300, gsoSegs: 2 });
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows.map(strip), [{ family: 6, protocol: 'udp', src: A6, dst: B6, srcPort: 1, dstPort: 2, bytes: 2 * (40 + 8) + 600, packets: 2 }]);
  t.deepEqual(stats, { ...zeroStats(), ignored_truncated: 1 });
});

function tagged(tpids: number[], etherType: number, l3: Buffer): Buffer {
  const eth = ethernet(etherType);
  const tags = Buffer.alloc(tpids.length * 4);
  tpids.forEach((tpid, i) => {
    tags.writeUInt16BE(tpid, i * 4);
    tags.writeUInt16BE(100 + i, i * 4 + 2);
  });
  // destination, source, tags (each TPID + TCI), then the ethertype.
  return Buffer.concat([eth.subarray(0, 12), tags, eth.subarray(12, 14), l3]);
}

test('802.1ad QinQ (two tags) is walked to the IP header; a third tag is not', async (t) => {
  const bpf = openObject(t);
  // Was non_ip: only one tag was walked.
  runPacket(t, bpf, tagged([ETH_P_8021AD, ETH_P_8021Q], ETH_P_IP, ipv4(A4, B4, udp(1, 2, 10), { protocol: IPPROTO.udp })));
  runPacket(t, bpf, tagged([ETH_P_8021Q, ETH_P_8021Q], ETH_P_IPV6, ipv6(A6, B6, tcp(3, 4, 10), IPPROTO.tcp)));
  runPacket(t, bpf, tagged([ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021Q], ETH_P_IP, ipv4(A4, B4, udp(5, 6, 10), { protocol: IPPROTO.udp })));
  // The second tag cut in half.
  runPacket(t, bpf, tagged([ETH_P_8021AD, ETH_P_8021Q], ETH_P_IP, Buffer.alloc(0)).subarray(0, 20));
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows.map(strip).sort((a, b) => a.family - b.family), [
    { family: 4, protocol: 'udp', src: A4, dst: B4, srcPort: 1, dstPort: 2, bytes: 38, packets: 1 },
    { family: 6, protocol: 'tcp', src: A6, dst: B6, srcPort: 3, dstPort: 4, bytes: 70, packets: 1 },
  ]);
  t.deepEqual(stats, { ...zeroStats(), ignored_non_ip: 1, ignored_truncated: 1 });
});

test('GSO bytes follow the IP length, not bytes trailing the packet', async (t) => {
  const bpf = openObject(t);
  // 3 segments of a 2000-byte TCP payload, with 6 bytes of garbage behind the IP packet: were counted.
  const p = Buffer.concat([ipv4(A4, B4, tcp(10, 20, 2000), { protocol: IPPROTO.tcp }), Buffer.alloc(6, 0xee)]);
  runPacket(t, bpf, frame(ETH_P_IP, p), { gsoSize: 700, gsoSegs: 3 });
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows.map(strip), [{ family: 4, protocol: 'tcp', src: A4, dst: B4, srcPort: 10, dstPort: 20, bytes: 2040 + 2 * 40, packets: 3 }]);
  t.deepEqual(stats, zeroStats());
});
