// The bench's verdict rules (bench/stats.ts): the interval of the median the
// throughput targets are judged on, and what each verdict means.
import test from 'ava';
import { atMostInterval, medianInterval } from '../../bench/stats.js';

test('medianInterval: the narrowest order-statistic interval with at least 90 % coverage', (t) => {
  const ranks = (n: number) => Array.from({ length: n }, (_, i) => n - i); // unsorted on purpose
  t.deepEqual(medianInterval(ranks(5)), [1, 5]); // 93.8 %
  t.deepEqual(medianInterval(ranks(7)), [1, 7]); // [2, 6] covers only 87.5 %
  t.deepEqual(medianInterval(ranks(8)), [2, 7]); // 93.0 %
  t.deepEqual(medianInterval(ranks(11)), [3, 9]); // 93.5 %
  t.deepEqual(medianInterval(ranks(20)), [6, 15]); // 95.9 %; [7, 14] 88.5 %
  t.deepEqual(medianInterval([4]), [4, 4]);
});

test('atMostInterval: met inside the limit, MISSED past it, within noise across it', (t) => {
  t.is(atMostInterval('x', 0.01, [-0.01, 0.019], 0.02, 'fraction').verdict, 'met');
  t.is(atMostInterval('x', 0.07, [0.051, 0.09], 0.05, 'fraction').verdict, 'MISSED');
  t.is(atMostInterval('x', 0.07, [0.03, 0.09], 0.05, 'fraction').verdict, 'within noise');
  t.deepEqual(atMostInterval('x', 0.07, [0.03, 0.09], 0.05, 'fraction').range, [0.03, 0.09]);
});
