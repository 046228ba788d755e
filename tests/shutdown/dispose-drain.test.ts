/** dispose({ drain: true }): serve the callers already waiting, then shut down. */
import { AsyncPool, PoolDisposedError, AcquireTimeoutError } from '../../src/index.js';
import { deferred, flush, outcome, tracked, type Res } from '../helpers.js';

function poolWith(extra: { maxSize?: number; acquireTimeoutMs?: number; factory?: () => Promise<Res> } = {}) {
  const f = tracked();
  const pool = new AsyncPool<Res>({ factory: f.factory, releaser: f.releaser, ...extra });
  return { f, pool };
}

test('waiters queued before dispose are served; new acquires are rejected at once', async () => {
  const { f, pool } = poolWith({ maxSize: 1 });
  const a = await pool.acquire();
  const waiting = [pool.acquire(), pool.acquire()];
  const disposed = pool.dispose({ drain: true });
  expect(pool.disposed).toBe(true);
  await expect(pool.acquire()).rejects.toBeInstanceOf(PoolDisposedError);
  pool.release(a);
  const b = await waiting[0]!;
  expect(b).toBe(a);
  pool.release(b);
  const c = await waiting[1]!;
  pool.release(c);
  await disposed;
  expect(pool.size).toBe(0);
  expect(f.released).toEqual([a]);
});

test('waiters whose resources are still being created get them', async () => {
  const gates: ReturnType<typeof deferred<Res>>[] = [];
  let id = 0;
  const { pool } = poolWith({ maxSize: 3, factory: () => { const d = deferred<Res>(); gates.push(d); return d.promise; } });
  const waiting = [pool.acquire(), pool.acquire(), pool.acquire()];
  const disposed = pool.dispose({ drain: true });
  for (const gate of gates) gate.resolve({ id: ++id, closed: false });
  const got = await Promise.all(waiting);
  expect(got.map((r) => r.id).sort()).toEqual([1, 2, 3]);
  for (const r of got) pool.release(r);
  await disposed;
  expect(pool.size).toBe(0);
});

test('without waiters it behaves like dispose()', async () => {
  const { f, pool } = poolWith();
  const a = await pool.acquire();
  pool.release(a);
  await pool.dispose({ drain: true });
  expect(f.released).toEqual([a]);
});

test('a waiter that times out while draining leaves; dispose still finishes', async () => {
  const { pool } = poolWith({ maxSize: 1, acquireTimeoutMs: 20 });
  const a = await pool.acquire();
  const waiting = outcome(pool.acquire());
  const disposed = pool.dispose({ drain: true });
  expect((await waiting).ok).toBe(false);
  expect(((await waiting) as { error: unknown }).error).toBeInstanceOf(AcquireTimeoutError);
  pool.release(a);
  await disposed;
  expect(pool.size).toBe(0);
});

test('timeoutMs bounds the drain: waiters still queued are then rejected, borrowed ones closed', async () => {
  const { pool } = poolWith({ maxSize: 1, acquireTimeoutMs: Infinity });
  const a = await pool.acquire();
  const waiting = outcome(pool.acquire());
  await pool.dispose({ drain: true, timeoutMs: 30 });
  const result = await waiting;
  expect(result.ok).toBe(false);
  expect((result as { error: unknown }).error).toBeInstanceOf(PoolDisposedError);
  expect(pool.size).toBe(0);
  expect(() => pool.release(a)).not.toThrow(); // closed by dispose: releasing it is a no-op
});

test('a resource released during the drain with nobody waiting is closed, not kept idle', async () => {
  const { f, pool } = poolWith({ maxSize: 2 });
  const a = await pool.acquire();
  const b = await pool.acquire();
  const waiting = pool.acquire();
  const disposed = pool.dispose({ drain: true });
  pool.release(a); // to the waiter
  const c = await waiting;
  pool.release(b); // nobody waits: closed
  await flush();
  expect(f.released).toContain(b);
  pool.release(c);
  await disposed;
  expect(f.released).toHaveLength(2);
});

test('a second dispose() call returns the same promise; drain: false afterwards does not cut the drain short', async () => {
  const { pool } = poolWith({ maxSize: 1 });
  const a = await pool.acquire();
  const waiting = pool.acquire();
  const first = pool.dispose({ drain: true });
  expect(pool.dispose()).toBe(first);
  pool.release(a);
  pool.release(await waiting);
  await first;
});

test('a waiter resolved during the drain that calls dispose() itself does not deadlock', async () => {
  const { pool } = poolWith({ maxSize: 1 });
  const a = await pool.acquire();
  const waiting = pool.acquire().then((r) => {
    pool.release(r);
    return pool.dispose();
  });
  const disposed = pool.dispose({ drain: true });
  pool.release(a);
  await waiting;
  await disposed;
  expect(pool.size).toBe(0);
});

test.each([['yes'], [1], [null]])('drain: %p is rejected naming the option', async (value) => {
  const { pool } = poolWith();
  await expect(pool.dispose({ drain: value as unknown as boolean })).rejects.toThrow(/"drain"/);
  await pool.dispose();
});

// From the moment dispose() is called the pool is disposed, while it drains too.
describe('while draining, the pool is disposed for clear(), resize() and retire()', () => {
  async function draining() {
    const { pool } = poolWith({ maxSize: 2, acquireTimeoutMs: 1_000 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    const waiter = pool.acquire();
    const disposing = pool.dispose({ drain: true, timeoutMs: 1_000 });
    expect(pool.disposed).toBe(true);
    return { pool, a, b, waiter, disposing };
  }

  test('resize() throws PoolDisposedError and changes nothing', async () => {
    const { pool, a, b, waiter, disposing } = await draining();
    expect(() => pool.resize(5)).toThrow(PoolDisposedError);
    expect(pool.maxSize).toBe(2);
    pool.release(a);
    pool.release(b);
    pool.release(await waiter);
    await disposing;
  });

  test('clear() does nothing: a resource released goes on to the waiter, nothing new is created', async () => {
    const { pool, a, b, waiter, disposing } = await draining();
    pool.clear();
    pool.release(a);
    const got = await waiter;
    expect(got).toBe(a);
    expect(pool.stats().destroyed.cleared).toBe(0);
    expect(pool.stats().created).toBe(2);
    pool.release(b);
    pool.release(got);
    await disposing;
  });

  test('retire() returns false and leaves the resource to the drain', async () => {
    const { pool, a, b, waiter, disposing } = await draining();
    expect(pool.retire(a)).toBe(false);
    pool.release(a);
    expect(await waiter).toBe(a);
    pool.release(b);
    pool.release(a);
    await flush();
    await disposing;
    expect(pool.stats().destroyed.retired).toBe(0);
  });
});
