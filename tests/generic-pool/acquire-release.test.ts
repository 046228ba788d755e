/** Borrowing through poolkeeper/generic-pool: counts, release/destroy, errors in generic-pool's words, order. */
import { AcquireTimeoutError, NotBorrowedError, PoolQueueFullError } from 'poolkeeper';
import { createPool, type Options, type Pool } from 'poolkeeper/generic-pool';
import { flush, outcome } from '../helpers.js';
import { itemFactory, type Item } from './support.js';

const pools: Pool<Item>[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.asyncPool.dispose();
});

function make(options?: Options, f = itemFactory()) {
  const pool = createPool(f.factory, options);
  pools.push(pool);
  return { pool, f };
}

const counts = (pool: Pool<Item>) => ({
  size: pool.size,
  available: pool.available,
  borrowed: pool.borrowed,
  pending: pool.pending,
  spare: pool.spareResourceCapacity,
});

test('size, available, borrowed and spareResourceCapacity follow each acquire and release', async () => {
  const { pool } = make({ max: 2 });
  expect(counts(pool)).toEqual({ size: 0, available: 0, borrowed: 0, pending: 0, spare: 2 });
  const a = await pool.acquire();
  expect(counts(pool)).toEqual({ size: 1, available: 0, borrowed: 1, pending: 0, spare: 1 });
  const b = await pool.acquire();
  expect(counts(pool)).toEqual({ size: 2, available: 0, borrowed: 2, pending: 0, spare: 0 });
  await pool.release(a);
  expect(pool.available).toBe(1); // synchronously, as generic-pool
  await pool.release(b);
  expect(counts(pool)).toEqual({ size: 2, available: 2, borrowed: 0, pending: 0, spare: 0 });
  const again = await pool.acquire();
  expect([pool.size, pool.available]).toEqual([2, 1]);
  await pool.release(again);
});

test('a caller waiting for the only resource counts as pending until it gets it', async () => {
  const { pool } = make({ max: 1 });
  const first = await pool.acquire();
  const second = pool.acquire();
  expect(pool.pending).toBe(1);
  await pool.release(first);
  expect(await second).toBe(first);
  expect(pool.pending).toBe(0);
  await pool.release(first);
});

test('releasing something not borrowed rejects with generic-pool message and poolkeeper code, and changes nothing', async () => {
  const { pool } = make({ max: 1 });
  const item = await pool.acquire();
  const foreign = await outcome(pool.release({ id: 99, destroyed: false }));
  expect(foreign.ok).toBe(false);
  if (!foreign.ok) {
    expect(foreign.error.message).toBe('Resource not currently part of this pool');
    expect(foreign.error).toBeInstanceOf(NotBorrowedError);
    expect(foreign.error.code).toBe('ERR_NOT_BORROWED');
    expect(String(foreign.error.stack)).toContain('Resource not currently part of this pool');
  }
  expect([pool.available, pool.borrowed]).toEqual([0, 1]);
  await pool.release(item);
  const twice = await outcome(pool.release(item));
  expect(twice.ok).toBe(false);
  const destroyFreed = await outcome(pool.destroy(item));
  expect(destroyFreed.ok ? undefined : destroyFreed.error.message).toBe('Resource not currently part of this pool');
});

test('isBorrowedResource is true only while the resource is out', async () => {
  const { pool } = make({ max: 1 });
  const item = await pool.acquire();
  expect(pool.isBorrowedResource(item)).toBe(true);
  await pool.release(item);
  expect(pool.isBorrowedResource(item)).toBe(false);
  expect(pool.isBorrowedResource({ id: 5, destroyed: false })).toBe(false);
});

test('destroy frees the slot: a waiter gets a new resource, and factory.destroy ran', async () => {
  const { pool, f } = make({ max: 1 });
  const first = await pool.acquire();
  const waiting = pool.acquire();
  await pool.destroy(first);
  const second = await waiting;
  expect(second).not.toBe(first);
  expect(second.id).toBe(1);
  await flush();
  expect(f.destroyed).toEqual([first]);
  expect([pool.borrowed, pool.pending, pool.size]).toEqual([1, 0, 1]);
  await pool.release(second);
});

test('fifo (the default) hands out the resource idle longest; fifo: false the most recent', async () => {
  for (const [fifo, expected] of [[true, 0], [false, 1]] as const) {
    const { pool } = make({ max: 2, fifo });
    const a = await pool.acquire();
    const b = await pool.acquire();
    await pool.release(a);
    await pool.release(b);
    const next = await pool.acquire();
    expect(next.id).toBe(expected);
    await pool.release(next);
  }
});

test('maxWaitingClients: 0 rejects a caller who would have to wait, with generic-pool message', async () => {
  const { pool } = make({ max: 2, maxWaitingClients: 0 });
  const held = [await pool.acquire(), await pool.acquire()];
  const third = await outcome(pool.acquire());
  expect(third.ok).toBe(false);
  if (!third.ok) {
    expect(third.error.message).toBe('max waitingClients count exceeded');
    expect(third.error).toBeInstanceOf(PoolQueueFullError);
  }
  for (const item of held) await pool.release(item);
  const fine = await pool.acquire(); // idle resources are handed out whatever the limit
  await pool.release(fine);
});

test('acquireTimeoutMillis rejects with a TimeoutError "ResourceRequest timed out" that is an AcquireTimeoutError', async () => {
  const { pool } = make({ max: 1, acquireTimeoutMillis: 20 });
  const held = await pool.acquire();
  const late = await outcome(pool.acquire());
  expect(late.ok).toBe(false);
  if (!late.ok) {
    expect(late.error.message).toBe('ResourceRequest timed out');
    expect(late.error.name).toBe('TimeoutError');
    expect(late.error).toBeInstanceOf(AcquireTimeoutError);
    expect(late.error.code).toBe('ERR_ACQUIRE_TIMEOUT');
  }
  expect(pool.pending).toBe(0);
  await pool.release(held);
});

test('priorities: every waiting high-priority caller is served before any waiting low-priority one', async () => {
  const { pool } = make({ max: 1, priorityRange: 3 });
  const held = await pool.acquire();
  const order: string[] = [];
  const take = (label: string, priority?: number) =>
    pool.acquire(priority).then(async (item) => {
      order.push(label);
      await pool.release(item);
    });
  const all = [take('low1', 2), take('mid1', 1), take('low2', 2), take('high1', 0), take('default', undefined), take('mid2', 1)];
  await pool.release(held);
  await Promise.all(all);
  expect(order).toEqual(['high1', 'default', 'mid1', 'mid2', 'low1', 'low2']);
});

test('an out-of-range or non-numeric priority counts as the lowest or the highest, as in generic-pool', async () => {
  const { pool } = make({ max: 1, priorityRange: 2 });
  const held = await pool.acquire();
  const order: string[] = [];
  const take = (label: string, priority: unknown) =>
    pool.acquire(priority as number).then(async (item) => {
      order.push(label);
      await pool.release(item);
    });
  const all = [take('too-low', 7), take('negative', -1), take('nan', 'x'), take('one', 1), take('zero', 0)];
  await pool.release(held);
  await Promise.all(all);
  expect(order).toEqual(['nan', 'zero', 'too-low', 'negative', 'one']);
});

test('use() releases after fn resolves and passes its value on', async () => {
  const { pool, f } = make({ max: 1 });
  const value = await pool.use(async (item) => {
    expect(pool.isBorrowedResource(item)).toBe(true);
    await flush();
    return `got ${item.id}`;
  });
  expect(value).toBe('got 0');
  expect([pool.available, pool.borrowed]).toEqual([1, 0]);
  expect(f.destroyed).toEqual([]);
});

test('use() destroys the resource when fn rejects, and passes the rejection on', async () => {
  const { pool, f } = make({ max: 1 });
  const failure = new Error('broken');
  const result = await outcome(pool.use(async () => Promise.reject(failure)));
  expect(result).toEqual({ ok: false, error: failure });
  await flush();
  expect(f.destroyed.map((i) => i.id)).toEqual([0]);
  expect(pool.size).toBe(0);
  const next = await pool.acquire();
  expect(next.id).toBe(1);
  await pool.release(next);
});

test('use() with a priority waits in that priority', async () => {
  const { pool } = make({ max: 1, priorityRange: 2 });
  const held = await pool.acquire();
  const order: string[] = [];
  const low = pool.use(async () => void order.push('low'), 1);
  const high = pool.use(async () => void order.push('high'), 0);
  await pool.release(held);
  await Promise.all([low, high]);
  expect(order).toEqual(['high', 'low']);
});
