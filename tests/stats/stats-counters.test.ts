/** stats(): an immutable snapshot whose counters match, exactly, what happened. */
import { AsyncPool, AcquireTimeoutError, PoolQueueFullError, type DestroyReason, type PoolStats } from '../../src/index.js';
import { outcome } from '../helpers.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

type Options = ConstructorParameters<typeof AsyncPool<Conn>>[0];

/** A pool whose events are tallied, to compare with its counters. */
function observed(options: Partial<Options> = {}) {
  const f = switchableFactory();
  const pool = new AsyncPool<Conn>({ factory: f.factory, releaser: f.releaser, recycleMs: Infinity, name: 'counted', ...options });
  const tally = { create: 0, acquire: 0, release: 0, leak: 0, error: 0, waited: [] as number[], destroy: [] as DestroyReason[] };
  pool.on('create', () => tally.create++);
  pool.on('acquire', (e) => {
    tally.acquire++;
    tally.waited.push(e.waitedMs);
  });
  pool.on('release', () => tally.release++);
  pool.on('leak', () => tally.leak++);
  pool.on('error', () => tally.error++);
  pool.on('destroy', (e) => tally.destroy.push(e.reason));
  return { f, pool, tally };
}

const ZERO_DESTROYED = { recycled: 0, idle: 0, invalid: 0, overflow: 0, destroyed: 0, cleared: 0, disposed: 0, maxUses: 0, retired: 0, resized: 0, revoked: 0, total: 0 };

/** The counters only (gauges and the histogram left out), for exact comparison. */
function counters(s: PoolStats) {
  const { acquired, acquiredImmediately, acquiredAfterWait, released, timedOut, aborted, rejectedQueueFull,
    rejectedUnavailable, rejectedCreateFailed, rejectedBudgetUnavailable, overCapacity, resized, created, createFailed,
    validationFailed, destroyed, destroyFailed, leaks } = s;
  return { acquired, acquiredImmediately, acquiredAfterWait, released, timedOut, aborted, rejectedQueueFull,
    rejectedUnavailable, rejectedCreateFailed, rejectedBudgetUnavailable, overCapacity, resized, created, createFailed,
    validationFailed, destroyed, destroyFailed, leaks };
}

const NONE = counters({
  acquired: 0, acquiredImmediately: 0, acquiredAfterWait: 0, released: 0, timedOut: 0, aborted: 0, rejectedQueueFull: 0,
  rejectedUnavailable: 0, rejectedCreateFailed: 0, rejectedBudgetUnavailable: 0, overCapacity: 0, resized: 0,
  created: 0, createFailed: 0, validationFailed: 0, destroyed: ZERO_DESTROYED, destroyFailed: 0, leaks: 0,
} as unknown as PoolStats);

test('a fresh pool: gauges and counters at zero, its name and maxSize', () => {
  const { pool } = observed({ maxSize: 7 });
  const s = pool.stats();
  expect(s).toEqual({
    ...NONE,
    name: 'counted',
    size: 0, idle: 0, borrowed: 0, pending: 0, creating: 0, maxSize: 7, minIdle: 0, maxIdle: 7,
    waitTime: { count: 0, sumMs: 0, maxMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, buckets: [] },
  });
});

test('the snapshot is immutable and does not move with the pool', async () => {
  const { pool } = observed();
  const before = pool.stats();
  expect(Object.isFrozen(before)).toBe(true);
  expect(Object.isFrozen(before.destroyed)).toBe(true);
  expect(Object.isFrozen(before.waitTime)).toBe(true);
  expect(() => ((before as { acquired: number }).acquired = 5)).toThrow(TypeError);
  expect(() => ((before.destroyed as { idle: number }).idle = 5)).toThrow(TypeError);
  const r = await pool.acquire();
  expect(before.acquired).toBe(0);
  expect(before.borrowed).toBe(0);
  expect(pool.stats().acquired).toBe(1);
  expect(pool.stats()).not.toBe(pool.stats());
  pool.release(r);
  await pool.dispose();
});

test('acquire with an idle resource: acquiredImmediately, waited 0', async () => {
  const { pool, tally } = observed();
  await pool.prefill(1);
  const r = await pool.acquire();
  const s = pool.stats();
  expect(counters(s)).toEqual({ ...NONE, acquired: 1, acquiredImmediately: 1, created: 1 });
  expect([s.size, s.idle, s.borrowed, s.pending, s.creating]).toEqual([1, 0, 1, 0, 0]);
  expect(s.waitTime).toMatchObject({ count: 1, sumMs: 0, maxMs: 0 });
  expect(tally.waited).toEqual([0]);
  pool.release(r);
  expect(counters(pool.stats())).toEqual({ ...NONE, acquired: 1, acquiredImmediately: 1, created: 1, released: 1 });
  await pool.dispose();
});

test('acquire after a wait: acquiredAfterWait, with the time waited', async () => {
  const { pool, tally } = observed({ maxSize: 1 });
  const first = await pool.acquire(); // nothing idle: it waited (0 ms) for a creation
  const second = pool.acquire();
  await tick(250);
  const waiting = pool.stats();
  expect([waiting.size, waiting.borrowed, waiting.pending, waiting.creating]).toEqual([1, 1, 1, 0]);
  pool.release(first);
  expect(await second).toBe(first);
  const s = pool.stats();
  expect(counters(s)).toEqual({ ...NONE, acquired: 2, acquiredAfterWait: 2, created: 1, released: 1 });
  expect(s.waitTime).toMatchObject({ count: 2, sumMs: 250, maxMs: 250 });
  expect(tally.waited).toEqual([0, 250]);
  pool.release(first);
  await pool.dispose();
});

test('timeout: timedOut, and the caller is no longer pending', async () => {
  const { pool } = observed({ maxSize: 1, acquireTimeoutMs: 500 });
  const held = await pool.acquire();
  const late = outcome(pool.acquire());
  await tick(500);
  expect((await late).ok).toBe(false);
  const s = pool.stats();
  expect(counters(s)).toEqual({ ...NONE, acquired: 1, acquiredAfterWait: 1, created: 1, timedOut: 1 });
  expect(s.pending).toBe(0);
  expect(s.waitTime.count).toBe(1); // only acquires that got a resource are in the distribution
  pool.release(held);
  await pool.dispose();
});

test('abort: before the call and during the wait', async () => {
  const { pool } = observed({ maxSize: 1 });
  const held = await pool.acquire();
  const pre = outcome(pool.acquire({ signal: AbortSignal.abort() }));
  const controller = new AbortController();
  const during = outcome(pool.acquire({ signal: controller.signal }));
  expect(pool.stats().pending).toBe(1);
  controller.abort();
  expect((await pre).ok).toBe(false);
  expect((await during).ok).toBe(false);
  const s = pool.stats();
  expect(counters(s)).toEqual({ ...NONE, acquired: 1, acquiredAfterWait: 1, created: 1, aborted: 2 });
  expect(s.pending).toBe(0);
  pool.release(held);
  await pool.dispose();
});

test('queue full: rejectedQueueFull', async () => {
  const { pool } = observed({ maxSize: 1, maxWaiters: 1 });
  const held = await pool.acquire();
  const queued = pool.acquire();
  const rejected = await outcome(pool.acquire());
  expect(!rejected.ok && rejected.error).toBeInstanceOf(PoolQueueFullError);
  expect(counters(pool.stats())).toEqual({ ...NONE, acquired: 1, acquiredAfterWait: 1, created: 1, rejectedQueueFull: 1 });
  expect(pool.stats().pending).toBe(1);
  pool.release(held);
  pool.release(await queued);
  await pool.dispose();
});

test('factory failure: createFailed, and rejectedCreateFailed only when a caller got the error', async () => {
  const { f, pool, tally } = observed({ maxSize: 2, minIdle: 0 });
  f.failing = true;
  expect((await outcome(pool.acquire())).ok).toBe(false);
  expect(counters(pool.stats())).toEqual({ ...NONE, createFailed: 1, rejectedCreateFailed: 1 });
  expect(tally.error).toBe(0); // the caller saw it: not an error event
  const prefill = await outcome(pool.prefill(1));
  expect(prefill.ok).toBe(false);
  expect(counters(pool.stats())).toEqual({ ...NONE, createFailed: 2, rejectedCreateFailed: 1 });
  await pool.dispose();
});

describe('destroyed, by reason', () => {
  const scenarios: [DestroyReason, Partial<Options>, (pool: AsyncPool<Conn>) => Promise<void>][] = [
    ['recycled', { recycleMs: 1_000, recycleJitter: 0 }, async (pool) => {
      await pool.prefill(1);
      await tick(1_000);
    }],
    ['idle', { idleTimeoutMs: 1_000 }, async (pool) => {
      await pool.prefill(1);
      await tick(1_000);
    }],
    ['invalid', { validate: (c) => c.id !== 1 }, async (pool) => {
      await pool.prefill(1);
      pool.release(await pool.acquire()); // id 1 is invalid: closed, id 2 is made
    }],
    ['overflow', { maxIdle: 0 }, async (pool) => {
      pool.release(await pool.acquire());
    }],
    ['destroyed', {}, async (pool) => {
      await pool.destroy(await pool.acquire());
    }],
    ['cleared', {}, async (pool) => {
      await pool.prefill(1);
      pool.clear();
    }],
    ['disposed', {}, async (pool) => {
      await pool.prefill(1);
      await pool.dispose();
    }],
    ['maxUses', { maxUses: 1 }, async (pool) => {
      pool.release(await pool.acquire());
    }],
    ['retired', {}, async (pool) => {
      await pool.prefill(1);
      const [conn] = await Promise.all([pool.acquire()]);
      pool.release(conn!);
      pool.retire(conn!);
    }],
  ];

  test.each(scenarios)('%s', async (reason, options, run) => {
    const { pool, tally } = observed(options);
    await run(pool);
    await tick(0);
    const s = pool.stats();
    expect(s.destroyed).toEqual({ ...ZERO_DESTROYED, [reason]: 1, total: 1 });
    expect(tally.destroy).toEqual([reason]);
    expect(s.validationFailed).toBe(reason === 'invalid' ? 1 : 0);
    await pool.dispose();
  });
});

test('a scripted mix: every counter equals the events that happened', async () => {
  const { f, pool, tally } = observed({ maxSize: 3, maxWaiters: 2, acquireTimeoutMs: 1_000, leakDetectionMs: 5_000, maxIdle: 2 });
  const a = await pool.acquire();
  const b = await pool.acquire();
  const c = await pool.acquire();
  const w1 = pool.acquire();
  await tick(100);
  const w2 = outcome(pool.acquire());
  expect((await outcome(pool.acquire())).ok).toBe(false); // queue full
  pool.release(a); // → w1, waited 100
  expect(await w1).toBe(a);
  await tick(1_000); // w2 times out
  const timedOut = await w2;
  expect(!timedOut.ok && timedOut.error).toBeInstanceOf(AcquireTimeoutError);
  await pool.destroy(b);
  await tick(5_000); // a and c leak
  pool.release(a);
  pool.release(c);
  f.failing = true;
  const last = await pool.acquire(); // an idle one: the failing factory is not needed
  const s = pool.stats();
  expect(s.created).toBe(tally.create);
  expect(s.acquired).toBe(tally.acquire);
  expect(s.acquired).toBe(s.acquiredImmediately + s.acquiredAfterWait);
  expect(s.released).toBe(tally.release);
  expect(s.leaks).toBe(tally.leak);
  expect(s.destroyed.total).toBe(tally.destroy.length);
  expect(s.waitTime.count).toBe(tally.acquire);
  expect(s.waitTime.sumMs).toBe(tally.waited.reduce((x, y) => x + y, 0));
  expect(counters(s)).toEqual({
    ...NONE,
    acquired: 5, acquiredImmediately: 1, acquiredAfterWait: 4,
    released: 3, timedOut: 1, rejectedQueueFull: 1, created: 3,
    destroyed: { ...ZERO_DESTROYED, destroyed: 1, total: 1 },
    leaks: 2,
  });
  expect([s.size, s.idle, s.borrowed, s.pending, s.creating]).toEqual([2, 1, 1, 0, 0]);
  pool.release(last);
  await pool.dispose();
});
