import test from 'ava';
import { aggregate } from '../../bench/aggregate.js';
import type { FlowDelta } from '../../bench/flow-records.js';

const d = (src: string, dst: string, protocol: 'tcp' | 'udp', srcPort: number, bytes: number, packets: number): FlowDelta =>
  ({ family: 4, protocol, src, dst, srcPort, dstPort: 80, bytes, packets, firstSeenNs: 0n, lastSeenNs: 0n });

test('deltas fold per (src, dst, protocol); connections are distinct 5-tuples', (t) => {
  const pairs = aggregate([
    d('10.0.0.1', '10.0.0.2', 'tcp', 1000, 100, 1),
    d('10.0.0.1', '10.0.0.2', 'tcp', 1001, 200, 2),
    d('10.0.0.1', '10.0.0.2', 'tcp', 1001, 50, 1), // overflow record of the same connection
    d('10.0.0.1', '10.0.0.2', 'udp', 1000, 10, 1),
    d('10.0.0.2', '10.0.0.1', 'tcp', 80, 7, 1),
  ]);
  t.deepEqual(Object.fromEntries(pairs), {
    '10.0.0.1|10.0.0.2|tcp': { src: '10.0.0.1', dst: '10.0.0.2', protocol: 'tcp', bytes: 350, packets: 4, connections: 2 },
    '10.0.0.1|10.0.0.2|udp': { src: '10.0.0.1', dst: '10.0.0.2', protocol: 'udp', bytes: 10, packets: 1, connections: 1 },
    '10.0.0.2|10.0.0.1|tcp': { src: '10.0.0.2', dst: '10.0.0.1', protocol: 'tcp', bytes: 7, packets: 1, connections: 1 },
  });
});
