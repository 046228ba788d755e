import { AsyncPool, PoolQueueFullError } from '../../src/index.js';
import { outcome, tracked } from '../helpers.js';

describe('maxWaiters', () => {
  test('rejects the caller beyond maxWaiters at once, and accepts again once the queue drains', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1, maxWaiters: 2 });
    const r = await pool.acquire();
    const w1 = pool.acquire();
    const w2 = pool.acquire();
    const third = await outcome(pool.acquire());
    expect(!third.ok && third.error).toBeInstanceOf(PoolQueueFullError);
    expect(!third.ok && third.error.code).toBe('ERR_POOL_QUEUE_FULL');
    expect(pool.stats().rejectedQueueFull).toBe(1);
    pool.release(r);
    pool.release(await w1);
    pool.release(await w2);
    expect(await pool.acquire()).toBe(r);
  });

  test('maxWaiters 0 still lets callers create up to maxSize, and fails fast beyond', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 2, maxWaiters: 0 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    expect([a.id, b.id]).toEqual([1, 2]);
    expect(!(await outcome(pool.acquire())).ok).toBe(true);
  });
});
