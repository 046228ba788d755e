/**
 * failFastAfter: after N consecutive factory failures, waiters are rejected at once with
 * PoolUnavailableError (cause: the last factory error) until one creation succeeds.
 */
import { jest } from '@jest/globals';
import { AsyncPool, PoolUnavailableError, type PoolEvents } from '../../src/index.js';
import { outcome } from '../helpers.js';
import { gatedFactory, switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

afterEach(() => {
  jest.restoreAllMocks();
});

test('is off by default: callers keep getting the factory error itself', async () => {
  const f = switchableFactory();
  f.failing = true;
  const pool = new AsyncPool<Conn>({ factory: f.factory, maxSize: 1 });
  const results = await Promise.all(Array.from({ length: 20 }, () => outcome(pool.acquire())));
  expect(results.map((r) => !r.ok && r.error)).toEqual(f.errors);
  expect(f.calls).toBe(20);
  expect(pool.stats().rejectedUnavailable).toBe(0);
  expect(pool.stats().rejectedCreateFailed).toBe(20);
  await pool.dispose();
});

describe('after failFastAfter consecutive failures', () => {
  async function tripped() {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const g = gatedFactory();
    const errors: PoolEvents<Conn>['error'][] = [];
    const pool = new AsyncPool<Conn>({
      factory: g.factory,
      releaser: g.releaser,
      maxSize: 1,
      failFastAfter: 3,
      recycleMs: Infinity,
      createRetry: { minDelayMs: 100, maxDelayMs: 1_000 },
    });
    pool.on('error', (e) => errors.push(e));
    const waiters = Array.from({ length: 5 }, () => outcome(pool.acquire()));
    const causes = [new Error('refused 1'), new Error('refused 2'), new Error('refused 3')];
    for (const [i, error] of causes.entries()) {
      await tick(0);
      expect(g.calls).toHaveLength(i + 1); // one creation at a time (maxSize 1), each for the oldest waiter
      g.calls[i]!.fail(error);
    }
    const results = await Promise.all(waiters);
    return { g, pool, errors, results, causes, trippedAt: performance.now() };
  }

  test('the callers whose creation failed get the factory error; the rest are rejected at once with PoolUnavailableError', async () => {
    const { g, pool, results, causes } = await tripped();
    expect(results.slice(0, 3).map((r) => !r.ok && r.error)).toEqual(causes);
    for (const r of results.slice(3)) {
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error).toBeInstanceOf(PoolUnavailableError);
      expect(r.error.code).toBe('ERR_POOL_UNAVAILABLE');
      expect(r.error.cause).toBe(causes[2]);
      expect(r.error.consecutiveFailures).toBe(3);
    }
    expect(g.calls).toHaveLength(3);
    const s = pool.stats();
    expect([s.pending, s.createFailed, s.rejectedCreateFailed, s.rejectedUnavailable, s.timedOut]).toEqual([0, 3, 3, 2, 0]);
    await pool.dispose();
  });

  test('a new acquire that finds nothing idle is rejected at once, without calling the factory', async () => {
    const { g, pool, causes } = await tripped();
    const result = await outcome(pool.acquire());
    expect(!result.ok && result.error).toBeInstanceOf(PoolUnavailableError);
    expect(!result.ok && result.error.cause).toBe(causes[2]);
    expect(g.calls).toHaveLength(3);
    expect(pool.pending).toBe(0);
    expect(pool.stats().rejectedUnavailable).toBe(3);
    await pool.dispose();
  });

  test('the pool probes in the background with createRetry backoff; one success ends fail-fast', async () => {
    const { g, pool, errors, trippedAt } = await tripped();
    // Three failures so far: the third backoff is c/2 with c = 100 · 2² (random = 0): 200 ms.
    await tick(199);
    expect(g.calls).toHaveLength(3);
    await tick(1);
    expect(g.calls).toHaveLength(4);
    expect(g.calls[3]!.startedAt - trippedAt).toBe(200);
    const probeError = new Error('still refused');
    g.calls[3]!.fail(probeError);
    await tick(0);
    expect(errors).toEqual([{ error: probeError, operation: 'create', resource: undefined }]);
    const stillDown = await outcome(pool.acquire());
    expect(!stillDown.ok && stillDown.error.cause).toBe(probeError); // cause follows the last failure
    await tick(399);
    expect(g.calls).toHaveLength(4);
    await tick(1); // next backoff: c = 800, 400 ms
    expect(g.calls).toHaveLength(5);
    const r = g.calls[4]!.succeed();
    await tick(0);
    expect(pool.idle).toBe(1);
    expect(await pool.acquire()).toBe(r); // fail-fast is over
    pool.release(r);
    await tick(10_000);
    expect(g.calls).toHaveLength(5); // no more probing
    await pool.dispose();
  });
});

test('an idle resource is still handed out while failing fast', async () => {
  const f = switchableFactory();
  const pool = new AsyncPool<Conn>({ factory: f.factory, maxSize: 3, failFastAfter: 2, recycleMs: Infinity });
  const r = await pool.acquire();
  f.failing = true;
  expect((await outcome(pool.acquire())).ok).toBe(false);
  expect((await outcome(pool.acquire())).ok).toBe(false);
  const down = await outcome(pool.acquire());
  expect(!down.ok && down.error).toBeInstanceOf(PoolUnavailableError);
  pool.release(r);
  expect(await pool.acquire()).toBe(r);
  pool.release(r);
  await pool.dispose();
});

test('tripped by prefill() failures (the backend is down at start), it still probes and recovers', async () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const f = switchableFactory();
  const pool = new AsyncPool<Conn>({
    factory: f.factory,
    releaser: f.releaser,
    maxSize: 2,
    failFastAfter: 2,
    recycleMs: Infinity,
    createRetry: { minDelayMs: 100, maxDelayMs: 1_000 },
  });
  f.failing = true;
  expect((await outcome(pool.prefill(2))).ok).toBe(false);
  const down = await outcome(pool.acquire());
  expect(!down.ok && down.error).toBeInstanceOf(PoolUnavailableError);
  f.failing = false; // the backend is back
  await tick(1_000); // well past one backoff
  expect(f.calls).toBe(3); // one probe
  const r = await pool.acquire();
  expect(r.id).toBe(1);
  pool.release(r);
  await pool.dispose();
});
