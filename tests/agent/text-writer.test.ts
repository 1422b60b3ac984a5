// TextWriter.number must write what `${value}` writes, which is what
// prom-client writes, across the digit-count and 1e8-split boundaries.
import test from 'ava';
import { TextWriter } from '../../agent/src/metrics/text-writer.js';

test('numbers are written as JavaScript formats them', (t) => {
  const values = [0, 1, 9, 10, 99, 100, 12345678, 99_999_999, 1e8, 1e8 + 1, 100_000_009, 2 ** 31, 2 ** 32 + 7, 1e15, 2 ** 53 - 1, 2 ** 53, 0.5, -3, NaN, Infinity, -Infinity];
  for (let p = 1; p < 2 ** 53; p *= 3) values.push(p, p - 1);
  for (const v of values) {
    const w = new TextWriter(4);
    w.reserve(32);
    w.number(v);
    const want = Number.isNaN(v) ? 'Nan' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : `${v}`;
    t.is(w.result().toString(), want, `value ${v}`);
  }
});

test('the buffer grows and keeps what was written', (t) => {
  const w = new TextWriter(8);
  let want = '';
  for (let i = 0; i < 1000; i++) {
    w.string(`line ${i} ü\n`);
    want += `line ${i} ü\n`;
  }
  t.is(w.result().toString(), want);
});

test('latin1 writes ASCII text whole after what was there', (t) => {
  const w = new TextWriter(8);
  const label = '{src_ip="fd00:10:244::1",dst_ip="10.96.0.10",protocol="tcp"}';
  w.reserve(1 + label.length * 2);
  w.byte(10);
  w.latin1(label);
  w.latin1(label);
  t.is(w.length, 1 + label.length * 2);
  t.is(w.result().toString(), `\n${label}${label}`);
});
