import { jest } from '@jest/globals';
import { AbortError, AcquireTimeoutError, AsyncPool, PoolError } from '../../src/index.js';
import { FAKE_TIMERS_CONFIG, outcome, tracked } from '../helpers.js';

afterEach(() => {
  jest.useRealTimers();
});

describe('abort', () => {
  test('an already-aborted signal rejects at once, even with an idle resource', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory });
    pool.release(await pool.acquire());
    const reason = new Error('client went away');
    const result = await outcome(pool.acquire({ signal: AbortSignal.abort(reason) }));
    expect(result.ok).toBe(false);
    const error = !result.ok && result.error;
    expect(error).toBeInstanceOf(AbortError);
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');
    expect(error.cause).toBe(reason);
    expect([pool.idle, pool.pending, pool.stats().aborted]).toEqual([1, 0, 1]);
  });

  test('aborting a wait rejects it, and the next release goes to the next waiter', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
    const r = await pool.acquire();
    const controller = new AbortController();
    const aborted = outcome(pool.acquire({ signal: controller.signal }));
    const next = pool.acquire();
    controller.abort();
    const result = await aborted;
    expect(!result.ok && result.error).toBeInstanceOf(AbortError);
    expect(!result.ok && result.error.cause).toBe(controller.signal.reason);
    expect(pool.pending).toBe(1);
    pool.release(r);
    expect(await next).toBe(r);
  });

  test('a resource released after every waiter aborted goes back to idle', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
    const r = await pool.acquire();
    const controller = new AbortController();
    const waits = [1, 2, 3].map(() => outcome(pool.acquire({ signal: controller.signal })));
    controller.abort();
    for (const w of await Promise.all(waits)) expect(w.ok).toBe(false);
    pool.release(r);
    expect([pool.idle, pool.pending]).toEqual([1, 0]);
  });
});

describe('timeout', () => {
  test('rejects with AcquireTimeoutError carrying the counts, after acquireTimeoutMs', async () => {
    jest.useFakeTimers(FAKE_TIMERS_CONFIG);
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1, acquireTimeoutMs: 1000 });
    const r = await pool.acquire();
    const waiting = outcome(pool.acquire());
    await jest.advanceTimersByTimeAsync(999);
    expect(pool.pending).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    const result = await waiting;
    const error = !result.ok && result.error;
    expect(error).toBeInstanceOf(AcquireTimeoutError);
    expect(error).toBeInstanceOf(PoolError);
    expect(error.code).toBe('ERR_ACQUIRE_TIMEOUT');
    expect(error.timeoutMs).toBe(1000);
    expect(error.counts).toEqual({ size: 1, idle: 0, borrowed: 1, creating: 0, pending: 1, maxSize: 1 });
    expect(pool.pending).toBe(0);
    pool.release(r);
    expect(pool.idle).toBe(1);
  });

  test('a per-call timeoutMs overrides the pool default', async () => {
    jest.useFakeTimers(FAKE_TIMERS_CONFIG);
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1, acquireTimeoutMs: 10_000 });
    await pool.acquire();
    const short = outcome(pool.acquire({ timeoutMs: 50 }));
    await jest.advanceTimersByTimeAsync(50);
    expect((await short).ok).toBe(false);
    expect(pool.stats().timedOut).toBe(1);
  });

  test('waiters sharing acquireTimeoutMs share one timer; per-call timeouts arm one each', async () => {
    jest.useFakeTimers(FAKE_TIMERS_CONFIG);
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1, acquireTimeoutMs: 1000, recycleMs: Infinity });
    await pool.prefill(1);
    await pool.acquire();
    expect(jest.getTimerCount()).toBe(0);
    const shared = Array.from({ length: 1000 }, () => outcome(pool.acquire()));
    expect(jest.getTimerCount()).toBe(1);
    const own = Array.from({ length: 10 }, () => outcome(pool.acquire({ timeoutMs: 5000 })));
    expect(jest.getTimerCount()).toBe(11);
    await jest.advanceTimersByTimeAsync(1000);
    for (const r of await Promise.all(shared)) expect(!r.ok && r.error).toBeInstanceOf(AcquireTimeoutError);
    expect(pool.pending).toBe(10);
    await jest.advanceTimersByTimeAsync(4000);
    for (const r of await Promise.all(own)) expect(!r.ok && r.error).toBeInstanceOf(AcquireTimeoutError);
    expect([pool.pending, jest.getTimerCount()]).toEqual([0, 0]);
  });

  test('each waiter times out at its own deadline, even when they share one timer', async () => {
    jest.useFakeTimers(FAKE_TIMERS_CONFIG);
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1, acquireTimeoutMs: 100 });
    await pool.acquire();
    const timedOutAt: number[] = [];
    const start = performance.now();
    const waits: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      waits.push(pool.acquire().catch(() => timedOutAt.push(performance.now() - start)));
      await jest.advanceTimersByTimeAsync(10);
    }
    await jest.advanceTimersByTimeAsync(200);
    await Promise.all(waits);
    expect(timedOutAt).toEqual([100, 110, 120, 130, 140]);
  });

  test('timeout racing a release in the same tick: the release scheduled first wins', async () => {
    jest.useFakeTimers(FAKE_TIMERS_CONFIG);
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1, acquireTimeoutMs: 100 });
    await pool.prefill(1); // no earlier waiter, so no wait timer is armed yet
    const r = await pool.acquire();
    setTimeout(() => pool.release(r), 100); // armed before the waiter's deadline timer, same instant
    const waiting = outcome(pool.acquire());
    await jest.advanceTimersByTimeAsync(100);
    expect(await waiting).toEqual({ ok: true, value: r });
    expect(pool.stats().timedOut).toBe(0);
  });

  test('timeout racing a release in the same tick: a timeout first leaves the resource idle, not lost', async () => {
    jest.useFakeTimers(FAKE_TIMERS_CONFIG);
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1, acquireTimeoutMs: 100 });
    await pool.prefill(1);
    const r = await pool.acquire();
    const waiting = outcome(pool.acquire());
    setTimeout(() => pool.release(r), 100); // armed after the waiter's deadline timer, same instant
    await jest.advanceTimersByTimeAsync(100);
    const result = await waiting;
    expect(!result.ok && result.error).toBeInstanceOf(AcquireTimeoutError);
    expect([pool.idle, pool.borrowed, pool.pending]).toEqual([1, 0, 0]);
    expect(await pool.acquire()).toBe(r);
  });

  test('a timeout while a creation is failing carries the factory error as cause', async () => {
    jest.useFakeTimers(FAKE_TIMERS_CONFIG);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    let calls = 0;
    const pool = new AsyncPool({
      maxSize: 1,
      acquireTimeoutMs: 1000,
      factory: async () => {
        calls++;
        if (calls === 1) throw refused; // the first waiter gets this error...
        return new Promise<never>(() => {}); // ...the second waits on a creation that hangs
      },
      createTimeoutMs: Infinity,
    });
    const first = outcome(pool.acquire());
    const second = outcome(pool.acquire());
    await jest.advanceTimersByTimeAsync(0);
    expect(await first).toEqual({ ok: false, error: refused });
    await jest.advanceTimersByTimeAsync(1000);
    const result = await second;
    expect(!result.ok && result.error).toBeInstanceOf(AcquireTimeoutError);
    expect(!result.ok && result.error.cause).toBe(refused);
  });
});
