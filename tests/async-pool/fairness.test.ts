import { AsyncPool } from '../../src/index.js';
import { tracked } from '../helpers.js';

describe('waiters are served strictly in arrival order', () => {
  test('1 000 waiters are served first come, first served', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 3, acquireTimeoutMs: Infinity });
    const held = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    const served: number[] = [];
    const waiters = Array.from({ length: 1000 }, (_, i) =>
      pool.acquire().then((r) => {
        served.push(i);
        pool.release(r); // hand it on at once
      }),
    );
    expect(pool.pending).toBe(1000);
    for (const r of held) pool.release(r);
    await Promise.all(waiters);
    expect(served).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(t.created).toHaveLength(3);
  });

  test('a newcomer never overtakes a waiter, even when the release happens in the same tick', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
    const r = await pool.acquire();
    const order: string[] = [];
    const first = pool.acquire().then((x) => { order.push('first'); return x; });
    pool.release(r);
    // The resource went straight to the waiter: it is not idle, so a newcomer must queue.
    expect(pool.idle).toBe(0);
    const newcomer = pool.acquire().then((x) => { order.push('newcomer'); return x; });
    pool.release(await first);
    pool.release(await newcomer);
    expect(order).toEqual(['first', 'newcomer']);
  });

  test('a released resource goes to the oldest waiter, not to the idle store', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    const w1 = pool.acquire();
    const w2 = pool.acquire();
    pool.release(b);
    pool.release(a);
    expect(await w1).toBe(b);
    expect(await w2).toBe(a);
    expect(pool.idle).toBe(0);
  });
});
