/**
 * onCreateError: 'reject' (the default) gives a failed creation's error to the caller waiting for
 * it; 'retry' keeps callers waiting and creates again after a backoff, up to each caller's own
 * timeout. Either way a creation whose caller has left never rejects a caller who came later.
 */
import { AsyncPool, AcquireTimeoutError, type PoolEvents } from '../../src/index.js';
import { outcome } from '../helpers.js';
import { gatedFactory, switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

const boom = (n: number) => new Error(`boom ${n}`);

describe("onCreateError: 'retry'", () => {
  test('the caller keeps waiting through failures and gets the first resource that is created', async () => {
    const f = switchableFactory();
    f.failing = true;
    const pool = new AsyncPool<Conn>({ factory: f.factory, releaser: f.releaser, maxSize: 1, onCreateError: 'retry', acquireTimeoutMs: 60_000 });
    const errors: PoolEvents<Conn>['error'][] = [];
    pool.on('error', (e) => errors.push(e));
    const acquired = pool.acquire();
    await tick(0);
    expect(f.calls).toBe(1);
    await tick(1_000);
    expect(f.calls).toBeGreaterThan(1);
    expect(pool.pending).toBe(1);
    f.failing = false;
    await tick(20_000);
    const conn = await acquired;
    expect(conn.id).toBe(1);
    expect(errors).toHaveLength(f.errors.length);
    expect(errors.every((e) => e.operation === 'create' && e.resource === undefined)).toBe(true);
    expect(errors.map((e) => e.error)).toEqual(f.errors);
    pool.release(conn);
    await pool.dispose();
  });

  test('retries follow the createRetry backoff: never two attempts closer than half the current delay', async () => {
    const f = switchableFactory();
    f.failing = true;
    const pool = new AsyncPool<Conn>({
      factory: f.factory,
      maxSize: 4,
      onCreateError: 'retry',
      acquireTimeoutMs: 10_000,
      createRetry: { minDelayMs: 100, maxDelayMs: 1_000 },
    });
    const waiting = [pool.acquire(), pool.acquire()].map(outcome);
    await tick(10_000);
    for (const w of await Promise.all(waiting)) expect(w.ok ? undefined : w.error).toBeInstanceOf(AcquireTimeoutError);
    // Two waiters: two creations at first, then at most two per backoff period (>= 50 ms, growing to >= 500 ms).
    expect(f.calls).toBeLessThanOrEqual(2 * 25);
    const gaps = f.callTimes.slice(1).map((t, i) => t - f.callTimes[i]!);
    expect(gaps.filter((g) => g > 0).every((g) => g >= 50)).toBe(true);
    await pool.dispose();
  });

  test('the timeout error carries the last factory error as cause', async () => {
    const f = switchableFactory();
    f.failing = true;
    const pool = new AsyncPool<Conn>({ factory: f.factory, onCreateError: 'retry', acquireTimeoutMs: 1_000 });
    const result = outcome(pool.acquire());
    await tick(1_000);
    const r = await result;
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(AcquireTimeoutError);
      expect(r.error.cause).toBe(f.errors.at(-1));
    }
    await pool.dispose();
  });

  test('once nobody waits, retrying stops', async () => {
    const f = switchableFactory();
    f.failing = true;
    const pool = new AsyncPool<Conn>({ factory: f.factory, onCreateError: 'retry', acquireTimeoutMs: 500 });
    await outcome(Promise.all([pool.acquire(), tick(500)]));
    const calls = f.calls;
    await tick(120_000);
    expect(f.calls).toBe(calls);
    await pool.dispose();
  });

  test('an idle resource released during the backoff goes to the waiter at once', async () => {
    const g = gatedFactory();
    const pool = new AsyncPool<Conn>({ factory: g.factory, maxSize: 2, onCreateError: 'retry', acquireTimeoutMs: Infinity });
    const first = pool.acquire();
    await tick(0);
    const held = g.calls[0]!.succeed();
    expect(await first).toBe(held);
    const second = pool.acquire();
    await tick(0);
    g.calls[1]!.fail(boom(1));
    await tick(0);
    expect(pool.pending).toBe(1);
    pool.release(held);
    expect(await second).toBe(held);
    pool.release(held);
    await pool.dispose();
  });

  test('failFastAfter still applies: after that many failures the waiters get PoolUnavailableError', async () => {
    const f = switchableFactory();
    f.failing = true;
    const pool = new AsyncPool<Conn>({ factory: f.factory, onCreateError: 'retry', failFastAfter: 3, acquireTimeoutMs: 60_000 });
    const result = outcome(pool.acquire());
    await tick(10_000);
    const r = await result;
    expect(r.ok ? undefined : r.error.code).toBe('ERR_POOL_UNAVAILABLE');
    await pool.dispose();
  });
});

describe("onCreateError: 'reject' (the default)", () => {
  test("the caller a creation was started for gets the factory's error", async () => {
    const g = gatedFactory();
    const pool = new AsyncPool<Conn>({ factory: g.factory, maxSize: 1 });
    const a = outcome(pool.acquire());
    await tick(0);
    const error = boom(1);
    g.calls[0]!.fail(error);
    expect(await a).toEqual({ ok: false, error });
    await pool.dispose();
  });

  test('a creation that fails after its caller timed out does not reject the next caller; that one gets its own creation', async () => {
    const g = gatedFactory();
    const pool = new AsyncPool<Conn>({ factory: g.factory, maxSize: 1 });
    const errors: unknown[] = [];
    pool.on('error', (e) => errors.push(e.error));
    const a = outcome(pool.acquire({ timeoutMs: 100 }));
    await tick(0);
    expect(g.calls).toHaveLength(1);
    await tick(100);
    expect((await a).ok).toBe(false);
    const b = pool.acquire({ timeoutMs: 10_000 }); // arrives while A's creation is still in flight, pool at maxSize
    await tick(0);
    expect(g.calls).toHaveLength(1);
    const late = boom(1);
    g.calls[0]!.fail(late);
    await tick(0);
    expect(errors).toEqual([late]); // nobody was waiting for it: reported, not thrown at B
    expect(g.calls).toHaveLength(2); // B's own creation
    const conn = g.calls[1]!.succeed();
    expect(await b).toBe(conn);
    pool.release(conn);
    await pool.dispose();
  });

  test('when the caller of a failed creation aborted, a caller who came later and has its own creation keeps waiting for it', async () => {
    const g = gatedFactory();
    const pool = new AsyncPool<Conn>({ factory: g.factory, maxSize: 2 });
    const ac = new AbortController();
    const a = outcome(pool.acquire({ signal: ac.signal }));
    await tick(0);
    const b = pool.acquire();
    await tick(0);
    expect(g.calls).toHaveLength(2);
    ac.abort();
    expect((await a).ok).toBe(false);
    g.calls[0]!.fail(boom(1)); // A's creation
    await tick(0);
    expect(pool.pending).toBe(1);
    const conn = g.calls[1]!.succeed();
    expect(await b).toBe(conn);
    pool.release(conn);
    await pool.dispose();
  });

  test('with several callers waiting, the oldest gets the error and the others keep waiting', async () => {
    const g = gatedFactory();
    const pool = new AsyncPool<Conn>({ factory: g.factory, maxSize: 1 });
    const a = outcome(pool.acquire());
    const b = pool.acquire();
    await tick(0);
    const error = boom(1);
    g.calls[0]!.fail(error);
    expect(await a).toEqual({ ok: false, error });
    await tick(0);
    const conn = g.calls[1]!.succeed();
    expect(await b).toBe(conn);
    pool.release(conn);
    await pool.dispose();
  });
});

test('onCreateError must be "reject" or "retry"', () => {
  expect(() => new AsyncPool({ factory: () => ({}), onCreateError: 'ignore' as 'retry' })).toThrow(
    new TypeError('poolkeeper: option "onCreateError" must be "reject" or "retry"; got "ignore"'),
  );
});
