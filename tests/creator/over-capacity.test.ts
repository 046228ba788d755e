/**
 * isOverCapacity: a factory failure the predicate marks as "over capacity" (PostgreSQL SQLSTATE
 * 53300, "too many connections") is back-pressure: the caller keeps waiting and the creation is
 * retried with createRetry backoff within its timeout, instead of failing at once.
 */
import { jest } from '@jest/globals';
import { AcquireTimeoutError, AsyncPool } from '../../src/index.js';
import { outcome, type Res } from '../helpers.js';
import { tick, useFakeClock } from '../support.js';

useFakeClock();

afterEach(() => {
  jest.restoreAllMocks();
});

const tooMany = (): Error => Object.assign(new Error('sorry, too many clients already'), { code: '53300' });
const isOverCapacity = (error: unknown): boolean => (error as { code?: unknown } | undefined)?.code === '53300';

/** A factory that fails with "too many connections" `failures` times, then succeeds. */
function saturated(failures: number) {
  const calls: number[] = [];
  let next = 0;
  return {
    calls,
    factory: async (): Promise<Res> => {
      calls.push(performance.now());
      if (calls.length <= failures) throw tooMany();
      return { id: ++next, closed: false };
    },
  };
}

test('the caller waits while creation is retried with backoff, and gets the resource once the server accepts', async () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const f = saturated(3);
  const pool = new AsyncPool<Res>({ factory: f.factory, isOverCapacity, createRetry: { minDelayMs: 100, maxDelayMs: 1_000 } });
  const acquiring = outcome(pool.acquire());
  await tick(1_000);
  const result = await acquiring;
  expect(result.ok).toBe(true);
  expect(f.calls.map((t, i) => (i === 0 ? 0 : t - f.calls[i - 1]!))).toEqual([0, 50, 100, 200]);
  expect(pool.stats()).toMatchObject({ overCapacity: 3, createFailed: 3, rejectedCreateFailed: 0, created: 1 });
  if (result.ok) pool.release(result.value);
  await pool.dispose();
});

test('bounded by the caller\'s timeout: AcquireTimeoutError whose cause is the over-capacity error', async () => {
  const f = saturated(Infinity);
  const pool = new AsyncPool<Res>({ factory: f.factory, isOverCapacity, acquireTimeoutMs: 500, createRetry: { minDelayMs: 50, maxDelayMs: 100 } });
  const acquiring = outcome(pool.acquire());
  await tick(500);
  const result = await acquiring;
  expect(!result.ok && result.error).toBeInstanceOf(AcquireTimeoutError);
  expect(!result.ok && (result.error as AcquireTimeoutError).cause).toMatchObject({ code: '53300' });
  const calls = f.calls.length;
  await tick(1_000);
  expect(f.calls.length).toBe(calls); // nobody waits: no more retries
  expect(pool.size).toBe(0);
  await pool.dispose();
});

test('a resource released meanwhile goes to the waiter at once; other errors still fail the caller at once', async () => {
  let mode: 'ok' | 'full' | 'broken' = 'ok';
  let next = 0;
  const pool = new AsyncPool<Res>({
    factory: async () => {
      if (mode === 'full') throw tooMany();
      if (mode === 'broken') throw new Error('auth failed');
      return { id: ++next, closed: false };
    },
    isOverCapacity,
    maxSize: 2,
  });
  const held = await pool.acquire();
  mode = 'full';
  const waiting = pool.acquire();
  await tick(10);
  pool.release(held);
  expect(await waiting).toBe(held);
  mode = 'broken';
  const failing = outcome(pool.acquire());
  await tick(1_000); // the next creation waits for the over-capacity backoff to end
  expect(await failing).toMatchObject({ ok: false, error: new Error('auth failed') });
  pool.release(held);
  await pool.dispose();
});

test('over-capacity failures never trip fail-fast', async () => {
  const f = saturated(5);
  const pool = new AsyncPool<Res>({ factory: f.factory, isOverCapacity, failFastAfter: 2, createRetry: { minDelayMs: 10, maxDelayMs: 20 } });
  const result = await outcome((async () => {
    const p = pool.acquire();
    await tick(500);
    return p;
  })());
  expect(result.ok).toBe(true);
  expect(pool.stats().rejectedUnavailable).toBe(0);
  if (result.ok) pool.release(result.value);
  await pool.dispose();
});

test('a predicate that throws counts as "not over capacity": the caller gets the factory error', async () => {
  const pool = new AsyncPool<Res>({
    factory: () => Promise.reject(tooMany()),
    isOverCapacity: () => {
      throw new Error('predicate bug');
    },
  });
  const result = await outcome(pool.acquire());
  expect(result).toMatchObject({ ok: false, error: { code: '53300' } });
  await pool.dispose();
});

test('isOverCapacity is validated at construction', () => {
  expect(() => new AsyncPool<Res>({ factory: () => ({ id: 1, closed: false }), isOverCapacity: true as never }))
    .toThrow(new TypeError('poolkeeper: option "isOverCapacity" must be a function; got true'));
});

test('an isOverCapacity that disposes the pool: the waiter is rejected with PoolDisposedError, no retry', async () => {
  let pool!: AsyncPool<Res>;
  let calls = 0;
  pool = new AsyncPool<Res>({
    factory: () => {
      calls++;
      return Promise.reject(tooMany());
    },
    isOverCapacity: () => {
      void pool.dispose();
      return true;
    },
  });
  const result = await outcome(pool.acquire());
  expect(result).toMatchObject({ ok: false, error: { code: 'ERR_POOL_DISPOSED' } });
  await tick(10_000);
  expect(calls).toBe(1);
  await pool.dispose();
});
