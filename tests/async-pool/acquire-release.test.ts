import { AsyncPool, NotBorrowedError } from '../../src/index.js';
import { deferred, flush, outcome, tracked } from '../helpers.js';

describe('acquire and release', () => {
  test('hands out an idle resource before creating a new one', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser });
    const a = await pool.acquire();
    pool.release(a);
    expect(await pool.acquire()).toBe(a);
    expect(t.created).toHaveLength(1);
  });

  test('reports size, idle, borrowed, creating and pending', async () => {
    const gate = deferred();
    let n = 0;
    const pool = new AsyncPool({ factory: async () => { await gate.promise; return { id: ++n }; }, maxSize: 2 });
    const p1 = pool.acquire();
    const p2 = pool.acquire();
    const p3 = pool.acquire();
    expect([pool.size, pool.creating, pool.pending, pool.borrowed, pool.idle]).toEqual([2, 2, 3, 0, 0]);
    gate.resolve();
    const [a, b] = await Promise.all([p1, p2]);
    expect([pool.size, pool.creating, pool.pending, pool.borrowed, pool.idle]).toEqual([2, 0, 1, 2, 0]);
    pool.release(a!);
    const c = await p3;
    expect(c).toBe(a);
    pool.release(b!);
    expect([pool.size, pool.idle, pool.borrowed, pool.pending]).toEqual([2, 1, 1, 0]);
    pool.release(c);
    expect(pool.idle).toBe(2);
  });

  test("strategy 'lifo' hands out the most recently returned resource, 'fifo' the longest idle", async () => {
    for (const [strategy, expected] of [['lifo', [3, 2, 1]], ['fifo', [1, 2, 3]]] as const) {
      const t = tracked();
      const pool = new AsyncPool({ factory: t.factory, strategy });
      const rs = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
      for (const r of rs) pool.release(r); // released in order 1, 2, 3
      const order = [await pool.acquire(), await pool.acquire(), await pool.acquire()].map((r) => r.id);
      expect(order).toEqual(expected);
    }
  });

  test('never creates more than maxSize under contention', async () => {
    let live = 0;
    let peak = 0;
    let created = 0;
    const pool = new AsyncPool({
      maxSize: 5,
      factory: async () => {
        created++;
        live++;
        peak = Math.max(peak, live);
        await new Promise((r) => setTimeout(r, 1));
        return { id: created };
      },
      releaser: () => {
        live--;
      },
    });
    await Promise.all(
      Array.from({ length: 200 }, () => pool.use(async () => { await new Promise((r) => setImmediate(r)); })),
    );
    expect(created).toBe(5);
    expect(peak).toBe(5);
    await pool.dispose();
    expect(live).toBe(0);
  });

  test('maxIdle: a release beyond it closes the resource', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 4, maxIdle: 1 });
    const rs = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const r of rs) pool.release(r);
    await flush();
    expect(pool.idle).toBe(1);
    expect(t.released).toEqual([rs[1], rs[2]]);
    expect(pool.stats().destroyed.overflow).toBe(2);
  });

  test('maxSize Infinity creates on demand without a cap', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: Infinity });
    const rs = await Promise.all(Array.from({ length: 50 }, () => pool.acquire()));
    expect(new Set(rs).size).toBe(50);
    expect(pool.size).toBe(50);
  });
});

describe('release and destroy of something not borrowed', () => {
  test.each([
    ['undefined', () => undefined],
    ['a foreign object', () => ({ id: -1, closed: false })],
  ])('release(%s) throws NotBorrowedError and the pool stays usable', async (_, value) => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory });
    expect(() => pool.release(value() as never)).toThrow(NotBorrowedError);
    const r = await pool.acquire();
    pool.release(r);
    expect(pool.idle).toBe(1);
  });

  test('releasing twice throws NotBorrowedError with code ERR_NOT_BORROWED', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory });
    const r = await pool.acquire();
    pool.release(r);
    let error: unknown;
    try {
      pool.release(r);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NotBorrowedError);
    expect((error as NotBorrowedError).code).toBe('ERR_NOT_BORROWED');
    expect(pool.idle).toBe(1);
  });

  test('destroy() of something not borrowed rejects with NotBorrowedError', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser });
    const r = await pool.acquire();
    await pool.destroy(r);
    const second = await outcome(pool.destroy(r));
    expect(second.ok).toBe(false);
    expect(!second.ok && second.error).toBeInstanceOf(NotBorrowedError);
    expect(() => pool.release(r)).toThrow(NotBorrowedError);
    expect(t.released).toEqual([r]);
  });
});

describe('destroy', () => {
  test('closes the resource and frees its slot for a waiter, who gets a fresh one', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 1 });
    const broken = await pool.acquire();
    const waiting = pool.acquire();
    await pool.destroy(broken);
    const fresh = await waiting;
    expect(fresh).not.toBe(broken);
    expect(t.released).toEqual([broken]);
    expect(pool.stats().destroyed.destroyed).toBe(1);
    expect(pool.size).toBe(1);
  });
});

describe('use', () => {
  test('releases after the callback and returns its value', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory });
    expect(await pool.use(async (r) => r.id * 10)).toBe(10);
    expect([pool.idle, pool.borrowed]).toEqual([1, 0]);
  });

  test('releases when the callback throws, and rethrows the error', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory });
    const boom = new Error('boom');
    const result = await outcome(pool.use(() => { throw boom; }));
    expect(result).toEqual({ ok: false, error: boom });
    expect([pool.idle, pool.borrowed]).toEqual([1, 0]);
  });

  test('does nothing more when the callback destroyed the resource itself', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser });
    await pool.use((r) => pool.destroy(r));
    expect([pool.idle, pool.borrowed, t.released.length]).toEqual([0, 0, 1]);
  });
});
