/** start, ready, drain, clear and idle eviction through poolkeeper/generic-pool. */
import { jest } from '@jest/globals';
import { PoolDisposedError } from 'poolkeeper';
import { createPool, type Pool } from 'poolkeeper/generic-pool';
import { deferred, flush, outcome } from '../helpers.js';
import { itemFactory, type Item } from './support.js';

const pools: Pool<Item>[] = [];
afterEach(async () => {
  jest.useRealTimers();
  for (const pool of pools.splice(0)) await pool.asyncPool.dispose();
});

function track(pool: Pool<Item>): Pool<Item> {
  pools.push(pool);
  return pool;
}

test('autostart (the default) creates min resources at construction; ready() resolves once they are idle', async () => {
  const f = itemFactory();
  const pool = track(createPool(f.factory, { min: 2, max: 4 }));
  expect(pool.size).toBe(2); // being created
  await pool.ready();
  expect(pool.available).toBeGreaterThanOrEqual(2);
  expect(f.created.length).toBe(2);
});

test('autostart: false creates nothing until start() or the first acquire()', async () => {
  const f = itemFactory();
  const pool = track(createPool(f.factory, { min: 2, max: 4, autostart: false }));
  await flush();
  expect(pool.size).toBe(0);
  pool.start();
  await pool.ready();
  expect(f.created.length).toBe(2);

  const g = itemFactory();
  const lazy = track(createPool(g.factory, { min: 1, max: 2, autostart: false }));
  const item = await lazy.acquire();
  expect(g.created.length).toBe(1); // min counts live resources: the caller's one is it
  const ready = lazy.ready(); // min idle again only once it comes back
  await lazy.release(item);
  await ready;
  expect(lazy.available).toBe(1);
});

test('ready() with min 0 resolves at once', async () => {
  const pool = track(createPool(itemFactory().factory));
  await expect(pool.ready()).resolves.toBeUndefined();
});

test('drain() serves the callers already waiting, waits for every resource to come back, then closes all', async () => {
  const f = itemFactory();
  const pool = track(createPool(f.factory, { max: 2 }));
  const served: number[] = [];
  const ops = Array.from({ length: 5 }, () =>
    pool.acquire().then((item) => {
      served.push(item.id);
      setTimeout(() => void pool.release(item), 5);
    }),
  );
  await Promise.resolve();
  const drained = pool.drain();
  const refused = await outcome(pool.acquire());
  expect(refused.ok).toBe(false);
  if (!refused.ok) {
    expect(refused.error.message).toBe('pool is draining and cannot accept work');
    expect(refused.error).toBeInstanceOf(PoolDisposedError);
  }
  await drained;
  await Promise.all(ops);
  expect(served).toHaveLength(5);
  expect(f.destroyed.length).toBe(f.created.length);
  expect(pool.size).toBe(0);
  await expect(pool.clear()).resolves.toBeUndefined();
  const after = await outcome(pool.acquire());
  expect(after.ok).toBe(false);
});

test('drain() then clear() right after construction with min: every resource created is destroyed', async () => {
  const f = itemFactory();
  const pool = track(createPool(f.factory, { min: 3, max: 5, testOnBorrow: true, evictionRunIntervalMillis: 500 }));
  await pool.drain();
  await pool.clear();
  expect(f.destroyed.length).toBe(f.created.length);
});

test('drain() waits for creations in flight and for callers still waiting on them', async () => {
  const gate = deferred<void>();
  let next = 0;
  const destroyed: Item[] = [];
  const pool = track(
    createPool<Item>(
      {
        create: async () => {
          await gate.promise;
          return { id: next++, destroyed: false };
        },
        destroy: async (item) => void destroyed.push(item),
      },
      { max: 3, min: 3 },
    ),
  );
  const all = Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]).then((items) => {
    for (const item of items) setImmediate(() => void pool.release(item));
    return items.length;
  });
  expect(pool.pending).toBe(3);
  const drained = pool.drain().then(() => pool.clear());
  gate.resolve();
  expect(await drained).toBeUndefined();
  expect(await all).toBe(3);
  expect(destroyed).toHaveLength(3);
});

test('clear() without drain closes the idle resources and the pool stays usable', async () => {
  const f = itemFactory();
  const pool = track(createPool(f.factory, { max: 2 }));
  const a = await pool.acquire();
  await pool.release(a);
  await pool.clear();
  await flush();
  expect(f.destroyed).toEqual([a]);
  expect(pool.available).toBe(0);
  const b = await pool.acquire();
  expect(b.id).toBe(1);
  await pool.release(b);
});

describe('idle eviction', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] }));

  test('with evictionRunIntervalMillis, a resource idle past idleTimeoutMillis is closed and min is restored with new ones', async () => {
    const f = itemFactory();
    const pool = track(createPool(f.factory, { min: 2, max: 2, idleTimeoutMillis: 50, evictionRunIntervalMillis: 10 }));
    await jest.advanceTimersByTimeAsync(0);
    expect(f.created.map((i) => i.id)).toEqual([0, 1]);
    await jest.advanceTimersByTimeAsync(120);
    expect(f.destroyed.map((i) => i.id)).toEqual(expect.arrayContaining([0, 1]));
    const item = await pool.acquire();
    expect(item.id).toBeGreaterThan(1);
    await pool.release(item);
  });

  test('without evictionRunIntervalMillis nothing is evicted, whatever idleTimeoutMillis says', async () => {
    const f = itemFactory();
    const pool = track(createPool(f.factory, { max: 2, idleTimeoutMillis: 10 }));
    await pool.release(await pool.acquire());
    await jest.advanceTimersByTimeAsync(60_000);
    expect(f.destroyed).toEqual([]);
    expect(pool.available).toBe(1);
  });

  test('the default idleTimeoutMillis (30 s) applies once eviction runs', async () => {
    const f = itemFactory();
    const pool = track(createPool(f.factory, { max: 2, evictionRunIntervalMillis: 10 }));
    await pool.release(await pool.acquire());
    await jest.advanceTimersByTimeAsync(29_000);
    expect(f.destroyed).toEqual([]);
    await jest.advanceTimersByTimeAsync(1_100);
    expect(f.destroyed.map((i) => i.id)).toEqual([0]);
  });

  test('softIdleTimeoutMillis closes idle resources only above min', async () => {
    const f = itemFactory();
    const pool = track(
      createPool(f.factory, { min: 1, max: 3, softIdleTimeoutMillis: 100, idleTimeoutMillis: 1_000_000, evictionRunIntervalMillis: 10 }),
    );
    const held = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
    for (const item of held) await pool.release(item);
    expect(pool.available).toBe(3);
    await jest.advanceTimersByTimeAsync(500);
    expect(pool.available).toBe(1);
    expect(f.destroyed).toHaveLength(2);
  });
});

describe('as generic-pool, which bounds neither', () => {
  test('a creation starts for every caller at once, up to max (no cap on creations in flight)', async () => {
    let inFlight = 0;
    let peak = 0;
    const gate = deferred();
    const pool = track(
      createPool<Item>(
        {
          create: async () => {
            inFlight++;
            peak = Math.max(peak, inFlight);
            await gate.promise;
            inFlight--;
            return { id: peak, destroyed: false };
          },
          destroy: async () => undefined,
        },
        { max: 40 },
      ),
    );
    const acquires = Array.from({ length: 30 }, () => pool.acquire());
    await flush();
    expect(peak).toBe(30);
    gate.resolve();
    for (const item of await Promise.all(acquires)) await pool.release(item);
  });

  describe('a resource under test is never evicted', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] }));

    test('with min, eviction and testOnBorrow, a check longer than idleTimeoutMillis still hands the resource out', async () => {
      const f = itemFactory();
      const checks: Item[] = [];
      const factory = {
        ...f.factory,
        validate: (item: Item) => {
          checks.push(item);
          return new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 80));
        },
      };
      const pool = track(createPool(factory, { max: 2, min: 1, testOnBorrow: true, evictionRunIntervalMillis: 10, idleTimeoutMillis: 50, acquireTimeoutMillis: 1000 }));
      const acquired = outcome(pool.acquire());
      for (let i = 0; i < 20; i++) {
        await jest.advanceTimersByTimeAsync(5);
      }
      const result = await acquired;
      expect(result.ok && result.value).toBe(f.created[0]);
      expect(f.destroyed).toEqual([]);
      expect(checks).toEqual([f.created[0]]);
      await pool.release(f.created[0]!);
    });
  });
});

describe('a resource whose caller left during its check', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] }));

  test('is renewed by the min rotation later, like any idle resource', async () => {
    const f = itemFactory();
    const factory = { ...f.factory, validate: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 80)) };
    const pool = track(createPool(factory, { max: 1, min: 1, testOnBorrow: true, evictionRunIntervalMillis: 10, idleTimeoutMillis: 50, acquireTimeoutMillis: 40 }));
    await jest.advanceTimersByTimeAsync(0);
    const timedOut = outcome(pool.acquire());
    await jest.advanceTimersByTimeAsync(40);
    expect((await timedOut).ok).toBe(false); // timed out during the check
    await jest.advanceTimersByTimeAsync(60);
    expect(pool.available).toBe(1); // the checked resource went back to idle
    expect(f.destroyed).toEqual([]);
    await jest.advanceTimersByTimeAsync(100);
    expect(f.destroyed[0]).toBe(f.created[0]); // rotated out once idle past idleTimeoutMillis (and its successors after it)
  });
});
