import { jest } from '@jest/globals';
import { AsyncPool } from '../../src/index.js';
import { FAKE_TIMERS_CONFIG, tracked } from '../helpers.js';

beforeEach(() => {
  jest.useFakeTimers(FAKE_TIMERS_CONFIG);
});
afterEach(() => {
  jest.useRealTimers();
});

describe('recycleMs (maximum lifetime)', () => {
  test('the pool timer closes an idle resource when its lifetime ends', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, recycleMs: 1000, recycleJitter: 0 });
    await pool.prefill(1);
    await jest.advanceTimersByTimeAsync(999);
    expect(t.released).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(t.released).toHaveLength(1);
    expect([pool.size, pool.stats().destroyed.recycled]).toEqual([0, 1]);
  });

  test('an expired resource is never handed out: acquire gets a fresh one', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, recycleMs: 1000, recycleJitter: 0 });
    const old = await pool.acquire();
    pool.release(old);
    await jest.advanceTimersByTimeAsync(1000);
    const r = await pool.acquire();
    expect(r).not.toBe(old);
    expect(old.closed).toBe(true);
  });

  test('a resource that expires while borrowed is closed when it comes back', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, recycleMs: 1000, recycleJitter: 0 });
    const r = await pool.acquire();
    await jest.advanceTimersByTimeAsync(1500);
    expect(r.closed).toBe(false); // never yanked from its holder
    pool.release(r);
    await jest.advanceTimersByTimeAsync(0);
    expect(r.closed).toBe(true);
    expect([pool.size, pool.idle, pool.stats().destroyed.recycled]).toEqual([0, 0, 1]);
  });

  test('an expired resource released with a waiter queued is closed, and the waiter gets a fresh one', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 1, recycleMs: 1000, recycleJitter: 0 });
    const r = await pool.acquire();
    const waiting = pool.acquire({ timeoutMs: 5000 });
    await jest.advanceTimersByTimeAsync(1000);
    pool.release(r);
    const fresh = await waiting;
    expect(fresh).not.toBe(r);
    expect(r.closed).toBe(true);
  });

  test('recycleJitter spreads the lifetimes of resources created together', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 100, recycleMs: 10_000, recycleJitter: 0.5 });
    await pool.prefill(100);
    await jest.advanceTimersByTimeAsync(7_500);
    const closedEarly = t.released.length;
    expect(closedEarly).toBeGreaterThan(10); // lifetimes are uniform in [5 000, 10 000]
    expect(closedEarly).toBeLessThan(90);
    await jest.advanceTimersByTimeAsync(2_500);
    expect(t.released).toHaveLength(100);
  });

  test('one timer serves every resource: no timer per resource', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 50, recycleMs: 10_000, acquireTimeoutMs: Infinity });
    await pool.prefill(50);
    expect(jest.getTimerCount()).toBe(1);
    await pool.dispose();
    expect(jest.getTimerCount()).toBe(0);
  });
});
