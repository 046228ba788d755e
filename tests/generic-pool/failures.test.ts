/** Failing factories and validators through poolkeeper/generic-pool. */
import { jest } from '@jest/globals';
import { AcquireTimeoutError } from 'poolkeeper';
import { createPool, type Pool } from 'poolkeeper/generic-pool';
import { flush, outcome } from '../helpers.js';
import { itemFactory, type Item } from './support.js';

const pools: Pool<Item>[] = [];
afterEach(async () => {
  jest.useRealTimers();
  for (const pool of pools.splice(0)) await pool.asyncPool.dispose();
});

function track<T>(pool: Pool<T>): Pool<T> {
  pools.push(pool as unknown as Pool<Item>);
  return pool;
}

test('a failing create is retried for the waiting caller, each failure reported as factoryCreateError', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  const f = itemFactory({ failFirst: 4 });
  const pool = track(createPool(f.factory, { max: 1 }));
  const errors: unknown[] = [];
  pool.on('factoryCreateError', (error) => errors.push(error));
  const acquired = pool.acquire();
  await jest.advanceTimersByTimeAsync(60_000);
  const item = await acquired;
  expect(item.id).toBe(0);
  expect(f.attempts).toBe(5);
  expect(errors.map((e) => (e as Error).message)).toEqual([1, 2, 3, 4].map((n) => `create failed (${n})`));
  expect(pool.pending).toBe(0);
  await pool.release(item);
});

test('a factory that keeps failing neither spins nor hangs: retries back off, the caller times out with the cause', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  const f = itemFactory({ failFirst: Infinity });
  const pool = track(createPool(f.factory, { max: 2, acquireTimeoutMillis: 5_000 }));
  let reported = 0;
  pool.on('factoryCreateError', () => reported++);
  const result = outcome(pool.acquire());
  await jest.advanceTimersByTimeAsync(5_000);
  const settled = await result;
  expect(settled.ok).toBe(false);
  if (!settled.ok) {
    expect(settled.error).toBeInstanceOf(AcquireTimeoutError);
    expect(settled.error.message).toBe('ResourceRequest timed out');
    expect((settled.error.cause as Error).message).toMatch(/^create failed/);
  }
  // Backoff from 100 ms doubling: a handful of attempts in 5 s, not thousands.
  expect(f.attempts).toBeGreaterThanOrEqual(3);
  expect(f.attempts).toBeLessThanOrEqual(10);
  expect(reported).toBe(f.attempts);
  const before = f.attempts;
  await jest.advanceTimersByTimeAsync(60_000); // nobody waits: the retries stop
  expect(f.attempts).toBe(before);
});

test('factory.destroy that outlives destroyTimeoutMillis is reported as factoryDestroyError "destroy timed out"', async () => {
  const pool = track(
    createPool({ create: async () => ({ id: 1, destroyed: false }), destroy: () => new Promise<void>(() => {}) }, { destroyTimeoutMillis: 10 }),
  );
  const reported = new Promise<Error>((resolve) => pool.on('factoryDestroyError', resolve));
  await pool.destroy(await pool.acquire());
  const error = await reported;
  expect(error.message).toBe('destroy timed out');
  expect((error as Error & { code: string }).code).toBe('ERR_DESTROY_TIMEOUT');
});

test('a rejecting factory.destroy is reported as factoryDestroyError with its own error', async () => {
  const failure = new Error('cannot close');
  const pool = track(createPool({ create: async () => ({ id: 1, destroyed: false }), destroy: async () => Promise.reject(failure) }));
  const reported = new Promise<unknown>((resolve) => pool.on('factoryDestroyError', resolve));
  await pool.destroy(await pool.acquire());
  expect(await reported).toBe(failure);
});

test('a destroy that settles in time reports nothing', async () => {
  const pool = track(
    createPool(
      { create: async () => ({ id: 1, destroyed: false }), destroy: () => new Promise<void>((resolve) => setTimeout(resolve, 5)) },
      { destroyTimeoutMillis: 1_000 },
    ),
  );
  const reported: unknown[] = [];
  pool.on('factoryDestroyError', (e) => reported.push(e));
  await pool.destroy(await pool.acquire());
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(reported).toEqual([]);
});

test('testOnBorrow: a resource validate resolves false for is destroyed and the caller gets another', async () => {
  const f = itemFactory({ valid: (item) => item.id !== 0 });
  const pool = track(createPool(f.factory, { max: 1, testOnBorrow: true }));
  const item = await pool.acquire();
  expect(item.id).toBe(1);
  await flush();
  expect(f.destroyed.map((i) => i.id)).toEqual([0]);
  await pool.release(item);
});

test('testOnBorrow: only false fails validation; undefined or a truthy non-boolean passes', async () => {
  for (const value of [undefined, 'PONG', 1, null]) {
    const f = itemFactory({ valid: () => value });
    const pool = track(createPool(f.factory, { max: 1, testOnBorrow: true }));
    await pool.release(await pool.acquire());
    const again = await pool.acquire();
    expect(again.id).toBe(0);
    await pool.release(again);
    expect(f.destroyed).toEqual([]);
    expect(f.validated.length).toBeGreaterThanOrEqual(1);
  }
});

test('without testOnBorrow, validate is never called', async () => {
  const f = itemFactory({ valid: () => false });
  const pool = track(createPool(f.factory, { max: 1 }));
  await pool.release(await pool.acquire());
  const again = await pool.acquire();
  expect(again.id).toBe(0);
  await pool.release(again);
  expect(f.validated).toEqual([]);
});

test('testOnBorrow with a validate that rejects every new resource: the caller times out (generic-pool spins for ever)', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  let checks = 0;
  // The thousandth passes: a create-validate-destroy loop in microtasks would serve it, not hang.
  const f = itemFactory({ valid: () => ++checks > 1_000 });
  const pool = track(createPool(f.factory, { max: 1, testOnBorrow: true, acquireTimeoutMillis: 50 }));
  const acquired = outcome(pool.acquire());
  await jest.advanceTimersByTimeAsync(50);
  const result = await acquired;
  expect(!result.ok && result.error).toBeInstanceOf(AcquireTimeoutError);
  expect(!result.ok && result.error.name).toBe('TimeoutError');
  expect(f.created.length).toBe(1);
});
