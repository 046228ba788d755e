/** An acquire that times out while creation has been failing carries the last factory error as its cause. */
import { AcquireTimeoutError, AsyncPool } from '../../src/index.js';
import { outcome } from '../helpers.js';
import { gatedFactory, tick, useFakeClock } from '../support.js';

useFakeClock();

test('timing out while a factory call it started still runs: cause is the last factory error', async () => {
  const g = gatedFactory();
  const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, maxSize: 1, acquireTimeoutMs: 1_000 });
  const first = outcome(pool.acquire());
  await tick(0);
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  g.calls[0]!.fail(refused);
  const r1 = await first;
  expect(!r1.ok && r1.error).toBe(refused); // the caller whose creation failed gets the factory error
  const second = outcome(pool.acquire()); // starts factory call 2, which hangs
  await tick(999);
  expect(g.calls).toHaveLength(2);
  expect(pool.pending).toBe(1);
  await tick(1);
  const result = await second;
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(AcquireTimeoutError);
    expect(result.error.code).toBe('ERR_ACQUIRE_TIMEOUT');
    expect(result.error.cause).toBe(refused);
    expect(result.error.timeoutMs).toBe(1_000);
    expect(result.error.counts).toEqual({ size: 1, idle: 0, borrowed: 0, creating: 1, pending: 1, maxSize: 1 });
  }
  g.calls[1]!.succeed();
  await tick(0);
  await pool.dispose();
});

test('no cause when no creation has failed', async () => {
  const g = gatedFactory();
  const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, acquireTimeoutMs: 1_000 });
  const result = outcome(pool.acquire());
  await tick(1_000);
  const r = await result;
  expect(!r.ok && r.error).toBeInstanceOf(AcquireTimeoutError);
  expect(!r.ok && 'cause' in r.error).toBe(false);
  g.calls[0]!.succeed();
  await pool.dispose();
});

test('a success in between clears the cause', async () => {
  const g = gatedFactory();
  const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, maxSize: 2, acquireTimeoutMs: 1_000 });
  const failed = outcome(pool.acquire());
  await tick(0);
  g.calls[0]!.fail(new Error('refused'));
  await failed;
  const ok = pool.acquire();
  await tick(0);
  const r = g.calls[1]!.succeed();
  expect(await ok).toBe(r);
  const timedOut = outcome(pool.acquire());
  await tick(1_000);
  const t = await timedOut;
  expect(!t.ok && t.error).toBeInstanceOf(AcquireTimeoutError);
  expect(!t.ok && t.error.cause).toBeUndefined();
  pool.release(r);
  g.calls[2]!.succeed();
  await pool.dispose();
});

describe('a creation that fails at the very moment of its caller\'s deadline', () => {
  // The failure's timer is set before the caller's, for the same instant: the fake clock runs it
  // first, as Node may, since it dates a timer from the start of the event loop's turn.
  test('the caller times out, as its deadline says, with the failure as cause', async () => {
    const g = gatedFactory();
    const failure = new Error('Connection terminated due to connection timeout');
    setTimeout(() => g.calls[0]!.fail(failure), 100);
    const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, maxSize: 1, acquireTimeoutMs: 100 });
    const reported: unknown[] = [];
    pool.on('error', ({ error }) => reported.push(error));
    const result = outcome(pool.acquire());
    await tick(100);
    const r = await result;
    expect(!r.ok && r.error).toBeInstanceOf(AcquireTimeoutError);
    expect(!r.ok && r.error.cause).toBe(failure);
    expect(!r.ok && r.error.counts.pending).toBe(1);
    expect(pool.pending).toBe(0);
    expect(pool.stats()).toMatchObject({ timedOut: 1, rejectedCreateFailed: 0 });
    expect(reported).toEqual([failure]); // as when the caller's timer runs first (below)
  });

  test('the caller\'s timer first: the same error for the caller, the same report', async () => {
    const g = gatedFactory();
    const failure = new Error('Connection terminated due to connection timeout');
    const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, maxSize: 1, acquireTimeoutMs: 100 });
    const reported: unknown[] = [];
    pool.on('error', ({ error }) => reported.push(error));
    const result = outcome(pool.acquire());
    setTimeout(() => g.calls[0]!.fail(failure), 100); // set after the caller's: runs after it
    await tick(100);
    const r = await result;
    expect(!r.ok && r.error).toBeInstanceOf(AcquireTimeoutError);
    expect(pool.stats()).toMatchObject({ timedOut: 1, rejectedCreateFailed: 0 });
    expect(reported).toEqual([failure]);
  });

  test('a millisecond before it, the caller gets the failure itself', async () => {
    const g = gatedFactory();
    const failure = new Error('connect ECONNREFUSED');
    setTimeout(() => g.calls[0]!.fail(failure), 99);
    const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, maxSize: 1, acquireTimeoutMs: 100 });
    const result = outcome(pool.acquire());
    await tick(100);
    const r = await result;
    expect(!r.ok && r.error).toBe(failure);
    expect(pool.stats()).toMatchObject({ timedOut: 0, rejectedCreateFailed: 1 });
  });

  test('a caller with a timeout of its own likewise', async () => {
    const g = gatedFactory();
    const failure = new Error('connect ETIMEDOUT');
    setTimeout(() => g.calls[0]!.fail(failure), 50);
    const pool = new AsyncPool({ factory: g.factory, releaser: g.releaser, maxSize: 1, acquireTimeoutMs: 1_000 });
    const result = outcome(pool.acquire({ timeoutMs: 50 }));
    await tick(50);
    const r = await result;
    expect(!r.ok && r.error).toBeInstanceOf(AcquireTimeoutError);
    expect(!r.ok && (r.error as AcquireTimeoutError).timeoutMs).toBe(50);
    expect(!r.ok && r.error.cause).toBe(failure);
  });
});
