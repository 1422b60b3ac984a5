// The TC program on hand-built packets (kernel selftests style): the verdict,
// and exactly what lands in the flow map or the ignored-packet counters.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { collect, openObject, runPacket, strip } from './harness.js';
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, IPPROTO, frame, ipv4, ipv6, tcp, udp } from './packets.js';
import { AGENT_STATS } from '../../agent/src/bpf/stats.js';
import { PROJECT_DIR } from '../../agent/src/addon.js';
import { aggregate, decodePairRecords } from '../../bench/aggregate.js';
import { decodeDrained } from '../../bench/flow-records.js';

const A4 = '10.244.1.2';
const B4 = '10.244.2.3';
const A6 = 'fd00:10:244:1::2';
const B6 = 'fd00:10:244:2::3';

test('IPv4 UDP: L3 bytes, one packet, ports and addresses', async (t) => {
  const bpf = openObject(t);
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, udp(40000, 53, 10), { protocol: IPPROTO.udp })));
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, udp(40000, 53, 100), { protocol: IPPROTO.udp })));
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows.map(strip), [{ family: 4, protocol: 'udp', src: A4, dst: B4, srcPort: 40000, dstPort: 53, bytes: 38 + 128, packets: 2 }]);
  t.is(stats.ignored_non_ip + stats.ignored_truncated + stats.ignored_other_l4, 0);
});

test('IPv4 TCP with TCP options and IP options: bytes follow the IP total length', async (t) => {
  const bpf = openObject(t);
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, tcp(1234, 80, 100, 3), { protocol: IPPROTO.tcp, optionWords: 2 })));
  const { flows } = await collect(bpf);
  t.deepEqual(flows.map(strip), [{ family: 4, protocol: 'tcp', src: A4, dst: B4, srcPort: 1234, dstPort: 80, bytes: 28 + 32 + 100, packets: 1 }]);
});

test('IPv6 TCP and UDP: 40-byte header plus payload length', async (t) => {
  const bpf = openObject(t);
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, tcp(5000, 443, 500), IPPROTO.tcp)));
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, udp(5001, 53, 7), IPPROTO.udp)));
  const { flows } = await collect(bpf);
  t.deepEqual(flows.map(strip).sort((a, b) => a.srcPort - b.srcPort), [
    { family: 6, protocol: 'tcp', src: A6, dst: B6, srcPort: 5000, dstPort: 443, bytes: 40 + 20 + 500, packets: 1 },
    { family: 6, protocol: 'udp', src: A6, dst: B6, srcPort: 5001, dstPort: 53, bytes: 40 + 8 + 7, packets: 1 },
  ]);
});

test('IPv6 extension headers are walked to the L4 header', async (t) => {
  const bpf = openObject(t);
  const l4 = udp(7000, 8000, 20);
  const pkt = ipv6(A6, B6, l4, IPPROTO.udp, [{ type: 'hopopts' }, { type: 'routing' }, { type: 'ah' }, { type: 'dstopts' }]);
  runPacket(t, bpf, frame(ETH_P_IPV6, pkt));
  const { flows } = await collect(bpf);
  t.deepEqual(flows.map(strip), [{ family: 6, protocol: 'udp', src: A6, dst: B6, srcPort: 7000, dstPort: 8000, bytes: pkt.length, packets: 1 }]);
});

test('more IPv6 extension headers than the walk allows are ignored and counted', async (t) => {
  const bpf = openObject(t);
  const exts = Array.from({ length: 7 }, () => ({ type: 'dstopts' as const }));
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, udp(1, 2, 3), IPPROTO.udp, exts)));
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows, []);
  t.is(stats.ignored_ext_limit, 1);
});

test('802.1Q-tagged frames: the tag is not counted as L3 bytes', async (t) => {
  const bpf = openObject(t);
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, udp(1000, 2000, 50), { protocol: IPPROTO.udp }), 100));
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, tcp(1000, 2000, 50), IPPROTO.tcp), 200));
  const { flows } = await collect(bpf);
  t.deepEqual(flows.map(strip).sort((a, b) => a.family - b.family), [
    { family: 4, protocol: 'udp', src: A4, dst: B4, srcPort: 1000, dstPort: 2000, bytes: 20 + 8 + 50, packets: 1 },
    { family: 6, protocol: 'tcp', src: A6, dst: B6, srcPort: 1000, dstPort: 2000, bytes: 40 + 20 + 50, packets: 1 },
  ]);
});

test('fragments: the first carries the ports, later ones count under port 0', async (t) => {
  const bpf = openObject(t);
  const first = ipv4(A4, B4, udp(3000, 4000, 1472), { protocol: IPPROTO.udp, moreFragments: true });
  const later = ipv4(A4, B4, Buffer.alloc(600), { protocol: IPPROTO.udp, fragOffset: 185 });
  runPacket(t, bpf, frame(ETH_P_IP, first));
  runPacket(t, bpf, frame(ETH_P_IP, later));
  const first6 = ipv6(A6, B6, udp(3000, 4000, 1000), IPPROTO.udp, [{ type: 'fragment', fragOffset: 0 }]);
  const later6 = ipv6(A6, B6, Buffer.alloc(500), IPPROTO.udp, [{ type: 'fragment', fragOffset: 126 }]);
  runPacket(t, bpf, frame(ETH_P_IPV6, first6));
  runPacket(t, bpf, frame(ETH_P_IPV6, later6));
  const { flows } = await collect(bpf);
  t.deepEqual(flows.map(strip).sort((a, b) => a.family - b.family || b.srcPort - a.srcPort), [
    { family: 4, protocol: 'udp', src: A4, dst: B4, srcPort: 3000, dstPort: 4000, bytes: first.length, packets: 1 },
    { family: 4, protocol: 'udp', src: A4, dst: B4, srcPort: 0, dstPort: 0, bytes: later.length, packets: 1 },
    { family: 6, protocol: 'udp', src: A6, dst: B6, srcPort: 3000, dstPort: 4000, bytes: first6.length, packets: 1 },
    { family: 6, protocol: 'udp', src: A6, dst: B6, srcPort: 0, dstPort: 0, bytes: later6.length, packets: 1 },
  ]);
});

test('non-IP, other L4 and truncated packets are ignored, each under its reason', async (t) => {
  const bpf = openObject(t);
  runPacket(t, bpf, frame(ETH_P_ARP, Buffer.alloc(28)));
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, Buffer.alloc(8), { protocol: IPPROTO.icmp })));
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, Buffer.alloc(8), 58)));
  // TCP header cut after 10 bytes.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, tcp(1, 2, 0).subarray(0, 10), { protocol: IPPROTO.tcp })));
  // IPv4 header claiming 60 bytes of header in a 30-byte packet.
  const lying = ipv4(A4, B4, Buffer.alloc(10), { protocol: IPPROTO.udp });
  lying[0] = 0x4f;
  runPacket(t, bpf, frame(ETH_P_IP, lying));
  // Total length shorter than the header.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, udp(1, 2, 3), { protocol: IPPROTO.udp, totalLength: 12 })));
  // A VLAN tag cut in half (test runs refuse IP frames shorter than an IP header).
  runPacket(t, bpf, frame(ETH_P_IP, Buffer.alloc(0), 7).subarray(0, 16));
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows, []);
  t.is(stats.ignored_non_ip, 1);
  t.is(stats.ignored_other_l4, 2);
  t.is(stats.ignored_truncated, 4);
});

/** A TCP header whose data offset (doff, 32-bit words) says `words`, whatever its real length. */
function withDoff(segment: Buffer, words: number): Buffer {
  const b = Buffer.from(segment);
  b[12] = (words << 4) | (b[12]! & 0x0f);
  return b;
}

test('a TCP data offset under 5 words or past the packet\'s end is ignored as truncated; one that ends at the end counts', async (t) => {
  const bpf = openObject(t);
  // doff 4 (16 B, shorter than the fixed header) and 0, IPv4 and IPv6.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, withDoff(tcp(1000, 80, 40), 4), { protocol: IPPROTO.tcp })));
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, withDoff(tcp(1001, 80, 40), 0), { protocol: IPPROTO.tcp })));
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, withDoff(tcp(1002, 80, 40), 4), IPPROTO.tcp)));
  // doff 15 (60 B) in a 30-byte segment: the header would end 30 B past the packet.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, withDoff(tcp(1003, 80, 10), 15), { protocol: IPPROTO.tcp })));
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, withDoff(tcp(1004, 80, 10), 15), IPPROTO.tcp, [{ type: 'dstopts' }])));
  // doff 6 in a 21-byte segment: one byte short.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, withDoff(tcp(1005, 80, 1), 6), { protocol: IPPROTO.tcp })));
  // The bytes behind the IP packet's end do not belong to it: a frame padded past tot_len still ends where the IP header says.
  const padded = Buffer.concat([ipv4(A4, B4, withDoff(tcp(1006, 80, 0), 7), { protocol: IPPROTO.tcp, totalLength: 20 + 20 }), Buffer.alloc(8)]);
  runPacket(t, bpf, frame(ETH_P_IP, padded));
  // Exactly at the end: 12 B of options, no payload (doff 8 = 32 B) and doff 15 with 40 B of options.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, tcp(2000, 443, 0, 3), { protocol: IPPROTO.tcp })));
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, tcp(2001, 443, 0, 10), IPPROTO.tcp)));
  const { flows, overflow, stats } = await collect(bpf);
  t.deepEqual(flows.map(strip).sort((a, b) => a.family - b.family), [
    { family: 4, protocol: 'tcp', src: A4, dst: B4, srcPort: 2000, dstPort: 443, bytes: 20 + 32, packets: 1 },
    { family: 6, protocol: 'tcp', src: A6, dst: B6, srcPort: 2001, dstPort: 443, bytes: 40 + 60, packets: 1 },
  ]);
  t.deepEqual(overflow, []);
  t.is(stats.ignored_truncated, 7);
  t.is(stats.ignored_non_ip + stats.ignored_other_l4 + stats.ignored_ext_limit + stats.map_update_failed, 0);
});

test('IPv4 BIG TCP (total length 0 on a GSO packet) counts with the skb\'s length, as an IPv6 jumbogram does', async (t) => {
  const bpf = openObject(t);
  // 3 segments of 1000 B, 12 B of TCP options: the kernel writes tot_len 0 above 64 KiB (test runs take one page).
  const big4 = ipv4(A4, B4, tcp(10, 20, 3000, 3), { protocol: IPPROTO.tcp, totalLength: 0 });
  runPacket(t, bpf, frame(ETH_P_IP, big4), { gsoSegs: 3, gsoSize: 1000 });
  // The IPv6 counterpart: payload length 0 (a jumbogram / BIG TCP).
  const big6 = ipv6(A6, B6, tcp(30, 40, 2000), IPPROTO.tcp);
  big6.writeUInt16BE(0, 4);
  runPacket(t, bpf, frame(ETH_P_IPV6, big6), { gsoSegs: 2, gsoSize: 1000 });
  // Total length 0 on a packet that is not GSO is a lie, as before.
  runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, tcp(50, 60, 100), { protocol: IPPROTO.tcp, totalLength: 0 })));
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows.map(strip).sort((a, b) => a.family - b.family), [
    { family: 4, protocol: 'tcp', src: A4, dst: B4, srcPort: 10, dstPort: 20, bytes: 3 * (20 + 32) + 3000, packets: 3 },
    { family: 6, protocol: 'tcp', src: A6, dst: B6, srcPort: 30, dstPort: 40, bytes: 2 * (40 + 20) + 2000, packets: 2 },
  ]);
  t.is(stats.ignored_truncated, 1);
  t.is(stats.ignored_non_ip + stats.ignored_other_l4 + stats.ignored_ext_limit, 0);
});

test('GSO super-packets count as the segments they become on the wire', async (t) => {
  const bpf = openObject(t);
  // 3 TCP segments of 1000 B payload, 12 B of options each: every segment repeats 20 + 32 bytes of headers.
  const tcpSuper = ipv4(A4, B4, tcp(10, 20, 3000, 3), { protocol: IPPROTO.tcp });
  runPacket(t, bpf, frame(ETH_P_IP, tcpSuper), { gsoSegs: 3, gsoSize: 1000 });
  // UDP GSO over IPv6 with a hop-by-hop header: 4 datagrams of 600 B (test runs take one page).
  const udpSuper = ipv6(A6, B6, udp(30, 40, 2400), IPPROTO.udp, [{ type: 'hopopts' }]);
  runPacket(t, bpf, frame(ETH_P_IPV6, udpSuper), { gsoSegs: 4, gsoSize: 600 });
  const { flows } = await collect(bpf);
  t.deepEqual(flows.map(strip).sort((a, b) => a.family - b.family), [
    { family: 4, protocol: 'tcp', src: A4, dst: B4, srcPort: 10, dstPort: 20, bytes: 3 * (20 + 32) + 3000, packets: 3 },
    { family: 6, protocol: 'udp', src: A6, dst: B6, srcPort: 30, dstPort: 40, bytes: 4 * (40 + 16 + 8) + 2400, packets: 4 },
  ]);
});

test('tc_host_egress (mode disabled) counts only locally originated, untagged, unencapsulated packets', async (t) => {
  const bpf = openObject(t, { countHostSystemTraffic: true });
  const host = (packet: Buffer, ingressIfindex = 0) => t.is(bpf.testRun({ program: 'tc_host_egress', packet, ingressIfindex }).retval, -1);
  const pkt = frame(ETH_P_IP, ipv4(A4, B4, udp(1, 2, 10), { protocol: IPPROTO.udp }));
  host(pkt);
  host(pkt, 1); // forwarded: counted at the pod's veth
  host(frame(ETH_P_IP, ipv4(A4, B4, udp(1, 2, 10), { protocol: IPPROTO.udp }), 100)); // the VLAN sub-interface counted it
  host(frame(ETH_P_IP, ipv4('10.0.0.1', '10.0.0.2', udp(5555, 4789, 60), { protocol: IPPROTO.udp }))); // VXLAN outer
  host(frame(ETH_P_IP, ipv4('10.0.0.1', '10.0.0.2', udp(5555, 8472, 60), { protocol: IPPROTO.udp }))); // flannel VXLAN outer
  host(frame(ETH_P_IP, ipv4('10.0.0.1', '10.0.0.2', Buffer.alloc(40), { protocol: 4 }))); // IPIP outer
  host(frame(ETH_P_IP, ipv4('10.0.0.1', '10.0.0.2', Buffer.alloc(40), { protocol: 47 }))); // GRE outer
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows.map(strip), [{ family: 4, protocol: 'udp', src: A4, dst: B4, srcPort: 1, dstPort: 2, bytes: 38, packets: 1 }]);
  t.is(stats.skipped_forwarded, 1);
  t.is(stats.skipped_encap, 5);
  t.is(stats.ignored_other_l4, 0, 'tunnel outers are not "other L4"');
});

test('tc_host_egress (mode default) without a pods cgroup counts no host traffic', async (t) => {
  const bpf = openObject(t);
  const pkt = frame(ETH_P_IP, ipv4(A4, B4, udp(1, 2, 10), { protocol: IPPROTO.udp }));
  t.is(bpf.testRun({ program: 'tc_host_egress', packet: pkt }).retval, -1);
  const { flows, stats } = await collect(bpf);
  t.deepEqual(flows, []);
  t.is(stats.skipped_host, 1);
});

test('a full flow map sends new flows to the ring buffer; nothing is lost', async (t) => {
  const bpf = openObject(t, { maxFlows: 16 });
  for (let port = 1; port <= 20; port++) {
    runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, udp(port, 9, 10), { protocol: IPPROTO.udp })));
  }
  const { flows, overflow, stats } = await collect(bpf);
  t.is(flows.length, 16);
  t.is(overflow.length, 4);
  t.is(stats.overflow_records, 4);
  t.deepEqual([...flows, ...overflow].map((f) => f.srcPort).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
  t.is([...flows, ...overflow].reduce((s, f) => s + f.bytes, 0), 20 * 38);
});

test('a full ring buffer counts the lost packets and bytes', async (t) => {
  const bpf = openObject(t, { maxFlows: 16, ringbufBytes: 4096 });
  const sent = 200;
  for (let port = 1; port <= sent; port++) {
    runPacket(t, bpf, frame(ETH_P_IP, ipv4(A4, B4, udp(port, 9, 10), { protocol: IPPROTO.udp })));
  }
  const { flows, overflow, stats } = await collect(bpf);
  t.true(stats.ringbuf_full_packets > 0);
  t.is(flows.length + overflow.length + stats.ringbuf_full_packets, sent);
  t.is(stats.ringbuf_full_bytes, stats.ringbuf_full_packets * 38);
});

test('the stat names mirror enum agent_stat in bpf/flows.h', (t) => {
  const header = readFileSync(`${PROJECT_DIR}/bpf/flows.h`, 'utf8');
  const body = /enum agent_stat \{([\s\S]*?)\};/.exec(header)![1]!;
  const names = [...body.matchAll(/^\s*STAT_([A-Z0-9_]+)/gm)].map((m) => m[1]!.toLowerCase()).filter((n) => n !== 'count');
  t.deepEqual(names, [...AGENT_STATS]);
});

test('readPairs folds a flow map per pair in the addon exactly as the TypeScript fold does', async (t) => {
  const bpf = openObject(t);
  let n = 0;
  for (const [src, dst] of [[A4, B4], [B4, A4], ['10.244.9.9', B4]] as const) {
    for (let port = 1; port <= 5; port++) {
      runPacket(t, bpf, frame(ETH_P_IP, ipv4(src, dst, udp(port, 53, 10 + port), { protocol: IPPROTO.udp })));
      runPacket(t, bpf, frame(ETH_P_IP, ipv4(src, dst, tcp(port, 80, 100), { protocol: IPPROTO.tcp })));
      n += 2;
    }
  }
  runPacket(t, bpf, frame(ETH_P_IPV6, ipv6(A6, B6, udp(9, 9, 9), IPPROTO.udp)));
  const { records, count } = await bpf.readMap('connection_flows', { interleave: true });
  t.is(count, n + 1);
  const pairs = await bpf.readPairs('connection_flows');
  t.is(pairs.count, n + 1);
  const native = Object.fromEntries([...decodePairRecords(pairs.pairs)].map(([k, { rawKey: _r, ...p }]) => [k, p]));
  t.deepEqual(native, Object.fromEntries(aggregate(decodeDrained(records!))));
  t.is(Object.keys(native).length, 7);
});
