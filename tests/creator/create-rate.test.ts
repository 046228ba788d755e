/** createConcurrency / createRatePerSec: every factory call goes through one p-queue. */
import { AsyncPool } from '../../src/index.js';
import { gatedFactory, switchableFactory, tick, useFakeClock } from '../support.js';

useFakeClock();

describe('createConcurrency', () => {
  test('at most N factory calls in flight; the rest wait their turn in the create queue', async () => {
    const g = gatedFactory();
    const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, maxSize: 10, createConcurrency: 2 });
    const acquires = Array.from({ length: 10 }, () => pool.acquire());
    await tick(0);
    expect(g.calls).toHaveLength(2);
    expect(pool.creating).toBe(10); // queued ones hold their slot
    for (let i = 0; i < 10; i++) {
      g.calls[i]!.succeed();
      await tick(0);
      expect(g.inFlight).toBeLessThanOrEqual(2);
    }
    expect(g.calls).toHaveLength(10);
    expect(g.maxInFlight).toBe(2);
    const got = await Promise.all(acquires);
    for (const r of got) pool.release(r);
    await pool.dispose();
  });

  test.each([[4, 4], [20, 16]])('defaults to min(maxSize, 16): maxSize %i → %i at once', async (maxSize, expected) => {
    const g = gatedFactory();
    const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, maxSize });
    const acquires = Array.from({ length: maxSize }, () => pool.acquire());
    await tick(0);
    expect(g.inFlight).toBe(expected);
    for (let i = 0; i < maxSize; i++) {
      g.calls[i]!.succeed(); // each success lets the next queued call start
      await tick(0);
    }
    expect(g.maxInFlight).toBe(expected);
    const got = await Promise.all(acquires);
    for (const r of got) pool.release(r);
    await pool.dispose();
  });

  test('prefill() is bounded by it too', async () => {
    const g = gatedFactory();
    const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, maxSize: 6, createConcurrency: 3 });
    const done = pool.prefill(6);
    await tick(0);
    expect(g.calls).toHaveLength(3);
    for (let i = 0; i < 6; i++) {
      g.calls[i]!.succeed();
      await tick(0);
    }
    await done;
    expect(g.maxInFlight).toBe(3);
    expect(pool.idle).toBe(6);
    await pool.dispose();
  });
});

describe('createRatePerSec', () => {
  /** Factory call start times for `n` concurrent acquires under `rate`. */
  async function startTimes(rate: number, n: number, runMs: number): Promise<number[]> {
    const f = switchableFactory();
    const pool = new AsyncPool({ factory: f.factory, releaser: f.releaser, maxSize: n, createRatePerSec: rate, acquireTimeoutMs: Infinity });
    const acquires = Array.from({ length: n }, () => pool.acquire());
    await tick(runMs);
    const got = await Promise.all(acquires);
    for (const r of got) pool.release(r);
    await pool.dispose();
    return f.callTimes;
  }

  function maxStartsInWindow(times: number[], windowMs: number): number {
    let most = 0;
    for (const t of times) most = Math.max(most, times.filter((u) => u >= t && u < t + windowMs).length);
    return most;
  }

  test('at most R calls started per second, on a sliding window', async () => {
    const times = await startTimes(2, 7, 5_000);
    expect(times).toHaveLength(7);
    expect(maxStartsInWindow(times, 1_000)).toBe(2);
    // The first R start at once, then R more each second: never slower than the rate either.
    expect(times).toEqual([0, 0, 1_000, 1_000, 2_000, 2_000, 3_000]);
  });

  test('a fractional rate spaces calls out: 0.5 per second is one every 2 s', async () => {
    const times = await startTimes(0.5, 3, 10_000);
    expect(maxStartsInWindow(times, 2_000)).toBe(1);
    expect(times).toEqual([0, 2_000, 4_000]);
  });

  test('is unlimited by default', async () => {
    const times = await startTimes(Infinity, 10, 0);
    expect(times).toEqual(Array(10).fill(0));
  });
});
