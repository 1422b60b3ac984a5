import test from 'ava';
import { formatIPv4, formatIPv6 } from '../../agent/src/bpf/ip.js';

const v6 = (groups: number[]) => {
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return formatIPv6(b, 0);
};

test('IPv6 text is RFC 5952', (t) => {
  t.is(v6([0xfd00, 0x10, 0x244, 1, 0, 0, 0, 2]), 'fd00:10:244:1::2');
  t.is(v6([0, 0, 0, 0, 0, 0, 0, 1]), '::1');
  t.is(v6([0, 0, 0, 0, 0, 0, 0, 0]), '::');
  t.is(v6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1', 'first of two equal runs');
  t.is(v6([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]), '2001:db8:0:1:1:1:1:1', 'a single zero group is not compressed');
  t.is(v6([0x2001, 0, 0, 1, 0, 0, 0, 1]), '2001:0:0:1::1', 'the longest run wins');
  t.is(v6([0xABCD, 0xEF, 0, 0, 0, 0, 0, 0]), 'abcd:ef::', 'lowercase, no leading zeros');
});

test('IPv4 text is a dotted quad', (t) => {
  t.is(formatIPv4(Buffer.from([10, 244, 0, 255]), 0), '10.244.0.255');
});
