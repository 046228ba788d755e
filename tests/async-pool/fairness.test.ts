import { AbortError, AsyncPool } from '../../src/index.js';
import { outcome, tracked } from '../helpers.js';

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

  // A plain acquire() waits as slots of the queue; one with a signal (or a resource to validate)
  // as an object. The two kinds share one queue and one order.
  test('plain waiters and waiters with a signal are served in one arrival order; an aborted one leaves its place', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
    const held = await pool.acquire();
    const order: string[] = [];
    const served = (name: string, p: Promise<Awaited<ReturnType<typeof t.factory>>>): Promise<unknown> =>
      outcome(p.then((r) => {
        order.push(name);
        pool.release(r); // hand it on at once
      }));
    const aborts = new AbortController();
    const all = [
      served('plain-1', pool.acquire()),
      served('signal-2', pool.acquire({ signal: new AbortController().signal })),
      served('plain-3', pool.acquire()),
      served('aborted-4', pool.acquire({ signal: aborts.signal })),
      served('plain-5', pool.acquire()),
    ];
    aborts.abort();
    expect(pool.pending).toBe(4);
    pool.release(held);
    const results = await Promise.all(all);
    expect(order).toEqual(['plain-1', 'signal-2', 'plain-3', 'plain-5']);
    const aborted = results[3] as { ok: boolean; error?: unknown };
    expect(aborted.ok).toBe(false);
    expect(aborted.error).toBeInstanceOf(AbortError);
    // The first acquire waited too (for the pool's first creation): five waits, one histogram entry each.
    expect(pool.stats().acquiredAfterWait).toBe(5);
    expect(pool.stats().waitTime.count).toBe(5);
    await pool.dispose();
  });

  test('a plain waiter whose resource fails validation keeps its place ahead of later plain waiters', async () => {
    const t = tracked();
    let failNext = false;
    const pool = new AsyncPool({
      factory: t.factory,
      releaser: t.releaser,
      maxSize: 1,
      validate: () => {
        if (!failNext) return true;
        failNext = false;
        return false;
      },
    });
    const held = await pool.acquire();
    const order: string[] = [];
    const waiters = ['first', 'second', 'third'].map((name) =>
      pool.acquire().then((r) => {
        order.push(`${name}:${r.id}`);
        pool.release(r);
      }));
    failNext = true; // the resource released now fails its check for `first`
    pool.release(held);
    await Promise.all(waiters);
    expect(order).toEqual(['first:2', 'second:2', 'third:2']);
    expect(held.closed).toBe(true);
    await pool.dispose();
  });
});
