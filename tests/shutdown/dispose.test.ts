import { jest } from '@jest/globals';
import { AsyncPool, PoolDisposedError } from '../../src/index.js';
import { FAKE_TIMERS_CONFIG, deferred, flush, outcome, tracked } from '../helpers.js';

describe('dispose', () => {
  test('closes idle resources now and borrowed ones as they come back, then resolves', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    pool.release(a);
    let done = false;
    const disposing = pool.dispose().then(() => { done = true; });
    expect(pool.disposed).toBe(true);
    await flush();
    expect([t.released, done]).toEqual([[a], false]);
    pool.release(b);
    await disposing;
    expect(t.released).toEqual([a, b]);
    expect(pool.size).toBe(0);
    expect(pool.stats().destroyed.disposed).toBe(2);
  });

  test('rejects current waiters and later acquires with PoolDisposedError', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
    const r = await pool.acquire();
    const waiting = outcome(pool.acquire());
    const disposing = pool.dispose();
    const result = await waiting;
    expect(!result.ok && result.error).toBeInstanceOf(PoolDisposedError);
    expect(!result.ok && result.error.code).toBe('ERR_POOL_DISPOSED');
    const later = await outcome(pool.acquire());
    expect(!later.ok && later.error).toBeInstanceOf(PoolDisposedError);
    await expect(pool.prefill(1)).rejects.toBeInstanceOf(PoolDisposedError);
    pool.release(r);
    await disposing;
  });

  test('is idempotent: a second call returns the same promise', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser });
    pool.release(await pool.acquire());
    const first = pool.dispose();
    expect(pool.dispose()).toBe(first);
    await first;
    expect(t.released).toHaveLength(1);
  });

  test('waits for a creation in flight and closes what it brings', async () => {
    const gate = deferred();
    const t = tracked();
    const pool = new AsyncPool({ factory: async () => { await gate.promise; return t.factory(); }, releaser: t.releaser });
    const waiting = outcome(pool.acquire());
    let done = false;
    const disposing = pool.dispose().then(() => { done = true; });
    expect(!(await waiting).ok).toBe(true);
    await flush();
    expect(done).toBe(false);
    gate.resolve();
    await disposing;
    expect(t.released).toEqual(t.created);
    expect(t.created).toHaveLength(1);
  });

  test('prefill() then dispose() never leaves an acquire hanging', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 3 });
    await pool.prefill();
    await pool.dispose();
    const result = await outcome(pool.acquire());
    expect(!result.ok && result.error).toBeInstanceOf(PoolDisposedError);
    expect(t.released).toHaveLength(3);
  });

  test('creations still queued behind createConcurrency are cancelled; prefill rejects', async () => {
    const gate = deferred();
    const t = tracked();
    const pool = new AsyncPool({
      factory: async () => { await gate.promise; return t.factory(); },
      releaser: t.releaser,
      maxSize: 4,
      createConcurrency: 1,
    });
    const prefilling = outcome(pool.prefill(4));
    await flush();
    const disposing = pool.dispose();
    gate.resolve();
    await disposing;
    const result = await prefilling;
    expect(!result.ok && result.error).toBeInstanceOf(PoolDisposedError);
    expect(t.created).toHaveLength(1); // only the one already running
    expect(t.released).toEqual(t.created);
    expect([pool.size, pool.creating]).toEqual([0, 0]);
  });

  test('after timeoutMs, closes borrowed resources anyway; a later release is a no-op', async () => {
    jest.useFakeTimers(FAKE_TIMERS_CONFIG);
    try {
      const t = tracked();
      const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser });
      const r = await pool.acquire();
      let done = false;
      void pool.dispose({ timeoutMs: 1000 }).then(() => { done = true; });
      await jest.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(done).toBe(true);
      expect(t.released).toEqual([r]);
      expect(() => pool.release(r)).not.toThrow();
      expect(t.released).toEqual([r]);
    } finally {
      jest.useRealTimers();
    }
  });

  test('await using disposes the pool at the end of the block', async () => {
    const t = tracked();
    let escaped: { readonly disposed: boolean } | undefined;
    {
      await using pool = new AsyncPool({ factory: t.factory, releaser: t.releaser });
      pool.release(await pool.acquire());
      escaped = pool;
    }
    expect(escaped?.disposed).toBe(true);
    expect(t.released).toHaveLength(1);
  });
});
