/**
 * Durations above 2^31−1 ms (about 24.8 days): Node's setTimeout (and jest's fake timers, which
 * copy it) fire such a timer after 1 ms. Every duration the pool accepts must mean what it says.
 */
import { AcquireTimeoutError, AsyncPool, type PoolEvents } from '../../src/index.js';
import { outcome } from '../helpers.js';
import { tick, useFakeClock } from '../support.js';

useFakeClock();

const LONG = 2 ** 31; // one past the largest delay setTimeout honours
const HUGE = 2 ** 40;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function counter() {
  let next = 0;
  return { factory: async () => ({ id: ++next }) };
}

describe.each([LONG, HUGE])('a duration of %d ms', (ms) => {
  test('acquire({ timeoutMs }) waits that long, not 1 ms', async () => {
    const pool = new AsyncPool({ ...counter(), maxSize: 1 });
    const held = await pool.acquire();
    const waiting = outcome(pool.acquire({ timeoutMs: ms }));
    await tick(1_000);
    expect(pool.pending).toBe(1);
    await tick(ms - 2_000);
    expect(pool.pending).toBe(1);
    await tick(2_000);
    const result = await waiting;
    expect(result.ok).toBe(false);
    expect((result as { error: unknown }).error).toBeInstanceOf(AcquireTimeoutError);
    pool.release(held);
    await pool.dispose();
  });

  test('acquireTimeoutMs (the shared deadline) waits that long', async () => {
    const pool = new AsyncPool({ ...counter(), maxSize: 1, acquireTimeoutMs: ms });
    const held = await pool.acquire();
    const waiting = outcome(pool.acquire());
    await tick(ms - 1_000);
    expect(pool.pending).toBe(1);
    await tick(2_000);
    expect((await waiting).ok).toBe(false);
    pool.release(held);
    await pool.dispose();
  });

  test('createTimeoutMs does not fail a 20 ms creation', async () => {
    let next = 0;
    const pool = new AsyncPool({ factory: async () => (await sleep(20), { id: ++next }), createTimeoutMs: ms });
    const got = outcome(pool.acquire());
    await tick(25);
    const result = await got;
    expect(result).toEqual({ ok: true, value: { id: 1 } });
    pool.release((result as { value: { id: number } }).value);
    await pool.dispose();
  });

  test('validateTimeoutMs, resetTimeoutMs and destroyTimeoutMs do not fail a 20 ms callback', async () => {
    const errors: PoolEvents<{ id: number }>['error'][] = [];
    const pool = new AsyncPool({
      ...counter(),
      validate: async () => (await sleep(20), true),
      reset: async () => sleep(20),
      releaser: async () => sleep(20),
      validateTimeoutMs: ms,
      resetTimeoutMs: ms,
      destroyTimeoutMs: ms,
      recycleMs: Infinity,
    });
    pool.on('error', (e) => errors.push(e));
    await pool.prefill(1);
    const first = outcome(pool.acquire());
    await tick(25);
    const got = await first;
    expect(got.ok).toBe(true);
    pool.release((got as { value: { id: number } }).value);
    await tick(25); // reset
    expect([pool.idle, pool.borrowed]).toEqual([1, 0]);
    const disposed = pool.dispose();
    await tick(25); // releaser
    await disposed;
    expect(errors).toEqual([]);
    expect(pool.stats().validationFailed).toBe(0);
    expect(pool.stats().destroyed).toMatchObject({ invalid: 0, disposed: 1 });
  });

  test('dispose({ timeoutMs }) waits that long before closing borrowed resources', async () => {
    const destroyed: string[] = [];
    const pool = new AsyncPool({ ...counter() });
    pool.on('destroy', (e) => destroyed.push(e.reason));
    const held = await pool.acquire();
    let done = false;
    const disposed = pool.dispose({ timeoutMs: ms }).then(() => (done = true));
    await tick(1_000);
    expect([done, destroyed]).toEqual([false, []]);
    pool.release(held);
    await disposed;
    expect(destroyed).toEqual(['disposed']);
  });

  test('recycleMs, idleTimeoutMs and leakDetectionMs do not act early', async () => {
    const destroyed: string[] = [];
    let leaks = 0;
    const pool = new AsyncPool({ ...counter(), recycleMs: ms, recycleJitter: 0, idleTimeoutMs: ms, leakDetectionMs: ms, maxSize: 2 });
    pool.on('destroy', (e) => destroyed.push(e.reason));
    pool.on('leak', () => leaks++);
    await pool.prefill(1);
    const held = await pool.acquire();
    await pool.prefill(2);
    await tick(10_000);
    expect([destroyed, leaks]).toEqual([[], 0]);
    await tick(ms);
    expect(leaks).toBe(1);
    expect(destroyed.length).toBeGreaterThan(0);
    pool.release(held);
    await pool.dispose();
  });
});
