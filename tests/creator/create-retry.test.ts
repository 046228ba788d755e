/**
 * createRetry: background creations (minIdle refills) back off after a failure with exponential
 * backoff and equal jitter: delay = c/2 + random·c/2, c = min(maxDelayMs, minDelayMs·2^attempt).
 */
import { jest } from '@jest/globals';
import { AsyncPool, type PoolEvents } from '../../src/index.js';
import { outcome } from '../helpers.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

afterEach(() => {
  jest.restoreAllMocks();
});

/** A pool keeping one idle resource, whose refills start failing once the idle one is taken. */
async function failingRefills(createRetry?: { minDelayMs?: number; maxDelayMs?: number }) {
  const f = switchableFactory();
  const errors: PoolEvents<Conn>['error'][] = [];
  const pool = new AsyncPool<Conn>({
    factory: f.factory,
    releaser: f.releaser,
    recycleMs: Infinity,
    minIdle: 1,
    maxSize: 3,
    ...(createRetry === undefined ? {} : { createRetry }),
  });
  pool.on('error', (e) => errors.push(e));
  await pool.prefill(1);
  f.failing = true;
  f.callTimes.length = 0;
  const held = await pool.acquire(); // the refill starts and fails at t0
  await tick(0);
  return { f, pool, errors, held, t0: f.callTimes[0]! };
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

test('delays double from minDelayMs up to maxDelayMs (random = 0: the lower half, c/2)', async () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const { f, pool, held } = await failingRefills({ minDelayMs: 100, maxDelayMs: 1_000 });
  await tick(5_000);
  expect(gaps(f.callTimes).slice(0, 7)).toEqual([50, 100, 200, 400, 500, 500, 500]);
  pool.release(held);
  await pool.dispose();
});

test('random close to 1: the upper end, c', async () => {
  jest.spyOn(Math, 'random').mockReturnValue(0.999_999);
  const { f, pool, held } = await failingRefills({ minDelayMs: 100, maxDelayMs: 1_000 });
  await tick(5_000);
  expect(gaps(f.callTimes).slice(0, 6)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  pool.release(held);
  await pool.dispose();
});

test('defaults: 100 ms doubling up to 10 000 ms', async () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const { f, pool, held } = await failingRefills();
  await tick(60_000);
  expect(gaps(f.callTimes).slice(0, 9)).toEqual([50, 100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  pool.release(held);
  await pool.dispose();
});

test('never a busy loop: with real jitter, every gap is within [c/2, c] and each failure is reported', async () => {
  const { f, pool, errors, held } = await failingRefills({ minDelayMs: 100, maxDelayMs: 800 });
  await tick(10_000);
  const observed = gaps(f.callTimes);
  observed.forEach((gap, attempt) => {
    const c = Math.min(800, 100 * 2 ** attempt);
    expect(gap).toBeGreaterThanOrEqual(c / 2);
    expect(gap).toBeLessThanOrEqual(c + 1); // the timer rounds up to the next millisecond
  });
  expect(f.calls).toBeLessThanOrEqual(2 + Math.ceil(10_000 / 400)); // at most one try per 400 ms once capped
  expect(errors).toHaveLength(f.errors.length);
  expect(errors.every((e) => e.operation === 'create' && e.resource === undefined)).toBe(true);
  pool.release(held);
  await pool.dispose();
});

test('a success ends the backoff and resets it: the next failure waits minDelayMs/2 again', async () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const { f, pool, held } = await failingRefills({ minDelayMs: 100, maxDelayMs: 10_000 });
  await tick(50 + 100 + 200); // three more failures: the next try is 400 ms later
  expect(gaps(f.callTimes)).toEqual([50, 100, 200]);
  f.failing = false;
  await tick(400);
  expect(pool.idle).toBe(1); // refilled
  f.failing = true;
  f.callTimes.length = 0;
  const second = await pool.acquire(); // takes it; the refill fails at once, then 50 ms later
  await tick(0);
  await tick(50);
  expect(gaps(f.callTimes)).toEqual([50]);
  pool.release(held);
  pool.release(second);
  await pool.dispose();
});

test('callers are not held back by the backoff: an acquire calls the factory at once', async () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const f = switchableFactory();
  const pool = new AsyncPool<Conn>({ factory: f.factory, releaser: f.releaser, recycleMs: Infinity });
  f.failing = true;
  expect((await outcome(pool.acquire())).ok).toBe(false);
  expect(f.calls).toBe(1);
  f.failing = false;
  const r = await pool.acquire(); // no clock advance: not delayed by the retry backoff
  expect(f.calls).toBe(2);
  pool.release(r);
  await pool.dispose();
});

test('dispose() stops the retries: no timer is left behind', async () => {
  const { f, pool, held } = await failingRefills({ minDelayMs: 100, maxDelayMs: 1_000 });
  pool.release(held);
  await pool.dispose();
  const calls = f.calls;
  expect(jest.getTimerCount()).toBe(0);
  await tick(10_000);
  expect(f.calls).toBe(calls);
});
