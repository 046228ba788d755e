/**
 * The wait-time histogram: fixed size, buckets 2^(1/4) apart from 1 µs; a percentile is the upper
 * bound of its bucket capped at the largest value, so never below the true value and at most
 * about 19 % above it.
 */
import { bucketOf, DurationHistogram } from '../../src/histogram.js';
import { AsyncPool } from '../../src/index.js';
import { switchableFactory, tick, useFakeClock } from '../support.js';

const STEP = 2 ** (1 / 4);

function histogramOf(values: number[]): DurationHistogram {
  const h = new DurationHistogram();
  for (const v of values) h.record(v);
  return h;
}

/** Nearest-rank percentile, the definition the histogram approximates. */
function exact(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.ceil(q * sorted.length) - 1]!;
}

test('empty: all zeros', () => {
  expect(new DurationHistogram().snapshot()).toEqual({ count: 0, sumMs: 0, maxMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, buckets: [] });
});

test('known input: 90 × 1 ms, 9 × 10 ms, 1 × 100 ms', () => {
  const values = [...Array(90).fill(1), ...Array(9).fill(10), 100];
  const s = histogramOf(values).snapshot();
  expect(s.count).toBe(100);
  expect(s.sumMs).toBe(280);
  expect(s.maxMs).toBe(100);
  // 1 ms falls in the bucket (2^9.75 µs, 2^10 µs]: reported as 1.024 ms.
  expect(s.p50Ms).toBeCloseTo(1.024, 9);
  expect(s.p90Ms).toBeCloseTo(1.024, 9);
  // The 99th value is 10 ms, in the bucket (2^13.25 µs, 2^13.5 µs]: 11.585 ms.
  expect(s.p99Ms).toBeCloseTo(11.585, 3);
});

test('the top bucket is capped at the largest value seen', () => {
  const s = histogramOf(Array(10).fill(10)).snapshot();
  expect([s.p50Ms, s.p90Ms, s.p99Ms, s.maxMs]).toEqual([10, 10, 10, 10]);
  expect(histogramOf([1, 2, 3, 4, 100]).percentile(1)).toBe(100);
});

test('zero, negative and NaN durations count, as zero', () => {
  const s = histogramOf([0, 0, -5, Number.NaN, 8]).snapshot();
  expect(s.count).toBe(5);
  expect(s.sumMs).toBe(8);
  expect(s.p50Ms).toBe(0);
  expect(s.p99Ms).toBe(8);
});

test('a percentile is never below the true value and at most one bucket (≈19 %) above it', () => {
  let seed = 42;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const distributions = [
    Array.from({ length: 1_000 }, () => random() * 100),
    Array.from({ length: 1_000 }, () => Math.exp(random() * 20) / 1_000), // 1 µs … 485 s, log-uniform
    Array.from({ length: 997 }, (_, i) => i + 0.5),
    Array.from({ length: 50 }, () => 0.002 + random()),
  ];
  for (const values of distributions) {
    const h = histogramOf(values);
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1]) {
      const truth = exact(values, q);
      const reported = h.percentile(q);
      expect(reported).toBeGreaterThanOrEqual(truth);
      expect(reported).toBeLessThanOrEqual(truth * STEP * (1 + 1e-9));
    }
  }
});

test('exact bucket bounds: a value on a bound is never reported below itself', () => {
  for (let k = 0; k < 160; k++) {
    const bound = 0.001 * 2 ** (k / 4);
    const h = histogramOf([bound, 1e12]); // the huge value keeps the cap out of the way
    expect(h.percentile(0.5)).toBeGreaterThanOrEqual(bound);
    expect(h.percentile(0.5)).toBeLessThanOrEqual(bound * STEP * (1 + 1e-9));
  }
});

test('fixed size: 100 000 varied records use the same buckets, at most 162', () => {
  const h = new DurationHistogram();
  for (let i = 0; i < 100_000; i++) h.record((i % 10_007) * 0.37 + (i % 13));
  const buckets = h.cumulativeBuckets();
  expect(buckets.length).toBeLessThanOrEqual(162);
  expect(buckets.at(-1)!.count).toBe(100_000);
  for (let i = 1; i < buckets.length; i++) {
    expect(buckets[i]!.leMs).toBeGreaterThan(buckets[i - 1]!.leMs);
    expect(buckets[i]!.count).toBeGreaterThan(buckets[i - 1]!.count);
  }
});

test('a duration beyond the last bucket is kept in the overflow bucket; the snapshot stays finite', () => {
  const s = histogramOf([1, 2e9]).snapshot();
  expect(s.count).toBe(2);
  expect(s.maxMs).toBe(2e9);
  expect(s.p99Ms).toBe(2e9);
});

describe("the pool's waitTime", () => {
  useFakeClock();

  test('records how long each acquire waited', async () => {
    const f = switchableFactory();
    const pool = new AsyncPool({ factory: f.factory, releaser: f.releaser, maxSize: 1, recycleMs: Infinity });
    const r = await pool.acquire(); // waited 0 ms for its creation
    const waits = [100, 300, 40];
    for (const ms of waits) {
      const next = pool.acquire();
      await tick(ms);
      pool.release(r);
      await next;
    }
    const s = pool.stats().waitTime;
    expect(s.count).toBe(4);
    expect(s.sumMs).toBe(440);
    expect(s.maxMs).toBe(300);
    const all = [0, ...waits];
    expect(s.p50Ms).toBeGreaterThanOrEqual(exact(all, 0.5)); // 40
    expect(s.p50Ms).toBeLessThanOrEqual(exact(all, 0.5) * STEP);
    expect(s.p90Ms).toBe(300);
    expect(s.p99Ms).toBe(300);
    // The distribution itself: one bucket per distinct wait here, each bound just at or above it.
    expect(s.buckets.map((b) => b.count)).toEqual([1, 2, 3, 4]);
    const bounds = s.buckets.map((b) => b.leMs);
    expect(bounds[0]).toBe(0);
    [40, 100, 300].forEach((ms, i) => {
      expect(bounds[i + 1]).toBeGreaterThanOrEqual(ms);
      expect(bounds[i + 1]).toBeLessThan(ms * STEP);
    });
    expect(Object.isFrozen(s.buckets)).toBe(true);
    expect(Object.isFrozen(s.buckets[0])).toBe(true);
    pool.release(r);
    await pool.dispose();
  });
});

describe('bucketOf', () => {
  // The definition the fast path must match: 1 + ⌈4·log2(ms / 1 µs)⌉, at least 1, at most the overflow bucket.
  const byLog = (ms: number): number => (ms <= 0.001 ? 1 : Math.min(1 + Math.ceil(Math.log2(ms / 0.001) * 4), 161));

  test('matches the logarithm next to every quarter-octave bound and on a fine grid', () => {
    const values: number[] = [];
    for (let k = 0; k <= 4 * 45; k++) {
      const bound = 0.001 * 2 ** (k / 4);
      values.push(bound * (1 + 1e-9), bound * (1 - 1e-9));
    }
    for (let ms = 0.0005; ms < 1e13; ms *= 1.0137) values.push(ms);
    for (const ms of values) expect([ms, bucketOf(ms)]).toEqual([ms, byLog(ms)]);
  });

  test('on a bound itself it is off by at most one bucket (rounding of the irrational bounds)', () => {
    for (let k = 1; k <= 4 * 45; k++) {
      const bound = 0.001 * 2 ** (k / 4);
      expect(Math.abs(bucketOf(bound) - byLog(bound))).toBeLessThanOrEqual(1);
    }
  });

  test('a duration on a bound falls in the bucket it bounds', () => {
    expect(bucketOf(0.001)).toBe(1);
    expect(bucketOf(0.002)).toBe(5);
    expect(bucketOf(1.024)).toBe(41);
    expect(bucketOf(2 ** 31 / 1000)).toBe(125);
  });
});
