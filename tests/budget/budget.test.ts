/**
 * The `budget` option: a permit before each factory call, given back after the releaser has run
 * (or when the factory fails); never consulted on the idle hand-off. Fake budgets the test drives,
 * and LocalBudget shared by two pools.
 */
import {
  AcquireTimeoutError,
  AsyncPool,
  BudgetUnavailableError,
  LocalBudget,
  PoolDisposedError,
  type Budget,
  type BudgetAcquireOptions,
  type BudgetPermit,
  type PoolEvents,
} from '../../src/index.js';
import { deferred, flush, outcome, tracked, type Res } from '../helpers.js';
import { tick, useFakeClock } from '../support.js';

useFakeClock();

/** The factory and releaser of a fresh `tracked()`. */
function callbacks() {
  const { factory, releaser } = tracked();
  return { factory, releaser };
}

/** A budget whose every request the test grants, fails or watches being aborted. */
function scriptedBudget() {
  const requests: { options: BudgetAcquireOptions; grant(): BudgetPermit & { released: number }; fail(error: unknown): void; aborted: boolean }[] = [];
  const log: string[] = [];
  const budget: Budget = {
    acquire(options) {
      const d = deferred<BudgetPermit>();
      const n = requests.length + 1;
      const request = {
        options,
        aborted: false,
        grant: () => {
          const permit = {
            released: 0,
            release() {
              permit.released++;
              log.push(`release ${n}`);
            },
          };
          log.push(`grant ${n}`);
          d.resolve(permit);
          return permit;
        },
        fail: (error: unknown) => d.reject(error),
      };
      options.signal.addEventListener('abort', () => {
        request.aborted = true;
        d.reject(options.signal.reason);
      });
      requests.push(request);
      log.push(`request ${n}`);
      return d.promise;
    },
  };
  return { budget, requests, log };
}

test('a permit is obtained before each factory call and given back only after the releaser has finished', async () => {
  const { budget, requests, log } = scriptedBudget();
  const releasing = deferred();
  let factoryCalls = 0;
  const pool = new AsyncPool<Res>({
    factory: () => {
      log.push('factory');
      return { id: ++factoryCalls, closed: false };
    },
    releaser: async () => {
      log.push('releaser');
      await releasing.promise;
      log.push('releaser done');
    },
    budget,
  });
  const acquiring = pool.acquire();
  await flush();
  expect(factoryCalls).toBe(0); // no permit yet, no factory call
  expect(pool.creating).toBe(1); // the slot is taken while the permit is awaited
  const permit = requests[0]!.grant();
  const r = await acquiring;
  const destroying = pool.destroy(r);
  await flush();
  expect(permit.released).toBe(0); // the releaser is still running
  releasing.resolve();
  await destroying;
  await flush();
  expect(permit.released).toBe(1);
  expect(log).toEqual(['request 1', 'grant 1', 'factory', 'releaser', 'releaser done', 'release 1']);
  await pool.dispose();
});

test('the idle hand-off never consults the budget', async () => {
  const budget = new LocalBudget(5);
  let asked = 0;
  const counting: Budget = { acquire: (o) => (asked++, budget.acquire(o)) };
  const t = tracked();
  const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget: counting, maxSize: 2 });
  for (let i = 0; i < 20; i++) await pool.use(() => undefined);
  expect(asked).toBe(1);
  expect(budget.held).toBe(1);
  await pool.dispose();
  expect(budget.held).toBe(0);
});

test('a factory failure gives the permit back at once; the caller gets the factory error', async () => {
  const { budget, requests } = scriptedBudget();
  const boom = new Error('connect refused');
  const pool = new AsyncPool<Res>({ factory: () => Promise.reject(boom), budget });
  const acquiring = outcome(pool.acquire());
  await flush();
  const permit = requests[0]!.grant();
  expect(await acquiring).toEqual({ ok: false, error: boom });
  expect(permit.released).toBe(1);
  await pool.dispose();
});

test('waiting for a permit is bounded by the caller\'s timeout: AcquireTimeoutError, and the permit request is withdrawn', async () => {
  const budget = new LocalBudget(1);
  const t = tracked();
  const a = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, maxSize: 4 });
  const b = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, maxSize: 4, acquireTimeoutMs: 100 });
  const held = await a.acquire();
  const waiting = outcome(b.acquire());
  await tick(50);
  expect(budget.waiting).toBe(1);
  await tick(60);
  const result = await waiting;
  expect(!result.ok && result.error).toBeInstanceOf(AcquireTimeoutError);
  expect(budget.waiting).toBe(0);
  expect(b.size).toBe(0);
  a.release(held);
  await Promise.all([a.dispose(), b.dispose()]);
  expect(budget.held).toBe(0);
});

test('an aborted caller withdraws its permit request; other callers keep theirs', async () => {
  const { budget, requests } = scriptedBudget();
  const t = tracked();
  const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, maxSize: 4 });
  const controller = new AbortController();
  const first = outcome(pool.acquire());
  const second = outcome(pool.acquire({ signal: controller.signal }));
  await flush();
  expect(requests).toHaveLength(2);
  controller.abort('no longer needed');
  await flush();
  expect(requests.filter((r) => r.aborted)).toHaveLength(1);
  expect((await second).ok).toBe(false);
  expect(pool.creating).toBe(1);
  requests.find((r) => !r.aborted)!.grant();
  const got = await first;
  expect(got.ok).toBe(true);
  if (got.ok) pool.release(got.value);
  await pool.dispose();
});

test('budget unreachable: acquires that need a new resource fail with BudgetUnavailableError; idle resources are still served', async () => {
  let down = false;
  const local = new LocalBudget(10);
  const budget: Budget = { acquire: (o) => (down ? Promise.reject(new Error('ECONNREFUSED')) : local.acquire(o)) };
  const t = tracked();
  const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, maxSize: 4 });
  await pool.prefill(2);
  down = true;
  const [x, y] = await Promise.all([pool.acquire(), pool.acquire()]); // the two idle ones
  const third = await outcome(pool.acquire());
  expect(third.ok).toBe(false);
  const error = !third.ok && third.error;
  expect(error).toBeInstanceOf(BudgetUnavailableError);
  expect(error).toMatchObject({ code: 'ERR_BUDGET_UNAVAILABLE', cause: new Error('ECONNREFUSED') });
  expect(pool.stats()).toMatchObject({ rejectedBudgetUnavailable: 1, size: 2 });
  pool.release(x!);
  expect(await pool.acquire()).toBe(x); // still served
  down = false;
  const fresh = await pool.acquire();
  expect(pool.size).toBe(3);
  for (const r of [x!, y!, fresh]) pool.release(r);
  await pool.dispose();
});

test.each([
  ['throws synchronously', (): Promise<BudgetPermit> => { throw new Error('sync'); }],
  ['rejects with undefined', (): Promise<BudgetPermit> => Promise.reject(undefined)],
  ['resolves with nothing', (): Promise<BudgetPermit> => Promise.resolve(undefined as never)],
  ['returns a non-promise', (): Promise<BudgetPermit> => 42 as never],
])('a budget that %s: BudgetUnavailableError, no unhandled rejection, the slot is freed', async (_, acquire) => {
  const t = tracked();
  const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget: { acquire }, maxSize: 1 });
  const result = await outcome(pool.acquire());
  expect(!result.ok && result.error).toBeInstanceOf(BudgetUnavailableError);
  await flush();
  expect(pool.size).toBe(0);
  expect(t.created).toHaveLength(0);
  await pool.dispose();
});

test('a lost permit retires its resource: closed at once if idle, when it comes back if borrowed', async () => {
  const { budget, requests } = scriptedBudget();
  const t = tracked();
  const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, maxSize: 2 });
  const destroyed: PoolEvents<Res>['destroy'][] = [];
  pool.on('destroy', (event) => destroyed.push(event));
  const a = pool.acquire();
  const b = pool.acquire();
  await flush();
  const permits = requests.map((r) => r.grant());
  const [ra, rb] = await Promise.all([a, b]);
  pool.release(ra);
  requests[0]!.options.onLost(); // ra's permit: ra is idle
  requests[1]!.options.onLost(); // rb's permit: rb is borrowed
  await flush();
  expect(ra.closed).toBe(true);
  expect(rb.closed).toBe(false);
  expect(permits[0]!.released).toBe(0); // a lost permit is not given back
  pool.release(rb);
  await flush();
  expect(rb.closed).toBe(true);
  expect(destroyed.map((d) => d.reason)).toEqual(['revoked', 'revoked']);
  expect(permits[1]!.released).toBe(0);
  requests[0]!.options.onLost(); // a second call is harmless
  await pool.dispose();
});

test('dispose() while callers wait for permits: they reject with PoolDisposedError, dispose() does not wait for the budget; a permit granted later is given back', async () => {
  let late: ((permit: BudgetPermit) => void) | undefined;
  let releasedLate = 0;
  const deaf: Budget = { acquire: () => new Promise((resolve) => (late = resolve)) }; // ignores the signal
  const pool = new AsyncPool<Res>({ ...callbacks(), budget: deaf });
  const waiting = outcome(pool.acquire());
  await flush();
  const disposing = pool.dispose();
  expect(await waiting).toMatchObject({ ok: false, error: expect.any(PoolDisposedError) });
  await disposing; // does not wait for a budget that ignores the withdrawal
  late!({ release: () => void releasedLate++ });
  await flush();
  expect(releasedLate).toBe(1);
});

test('a creation that times out keeps its permit until the factory settles; a resource arriving late is closed, then the permit goes back', async () => {
  const { budget, requests } = scriptedBudget();
  const slow = deferred<Res>();
  const pool = new AsyncPool<Res>({ factory: () => slow.promise, budget, createTimeoutMs: 100 });
  const acquiring = outcome(pool.acquire());
  await flush();
  const permit = requests[0]!.grant();
  await tick(100);
  expect((await acquiring).ok).toBe(false);
  expect(permit.released).toBe(0); // the connection may still be opening
  const resource = { id: 1, closed: false };
  slow.resolve(resource);
  await flush();
  expect(permit.released).toBe(1);
  await pool.dispose();
});

test('a permit whose release() throws or rejects is reported through the error event (operation "budget")', async () => {
  const errors: PoolEvents<Res>['error'][] = [];
  const boom = new Error('release failed');
  let n = 0;
  const budget: Budget = { acquire: async () => ({ release: () => (++n % 2 === 1 ? (() => { throw boom; })() : Promise.reject(boom)) }) };
  const pool = new AsyncPool<Res>({ ...callbacks(), budget, maxSize: 2 });
  pool.on('error', (e) => errors.push(e));
  const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
  await pool.destroy(a);
  await pool.destroy(b);
  await flush();
  expect(errors.map((e) => e.operation)).toEqual(['budget', 'budget']);
  expect(errors.every((e) => e.error === boom)).toBe(true);
  await pool.dispose();
});

test('two pools sharing a LocalBudget never exceed it together; permits go in request order', async () => {
  const budget = new LocalBudget(3);
  const t = tracked();
  const a = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, maxSize: 3 });
  const b = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, maxSize: 3 });
  let peak = 0;
  const jobs = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).use(async () => {
    peak = Math.max(peak, t.created.length - t.released.length); // live resources, both pools
    await tick(1);
  }, { timeoutMs: Infinity }));
  await tick(100);
  await Promise.all(jobs);
  expect(peak).toBe(3);
  await Promise.all([a.dispose(), b.dispose()]);
  expect(budget.held).toBe(0);
  expect(t.created.length).toBe(t.released.length);
});

test('LocalBudget validates its limit', () => {
  expect(() => new LocalBudget(0)).toThrow(new RangeError('poolkeeper: LocalBudget argument "limit" must be an integer >= 1 or Infinity; got 0'));
  expect(() => new LocalBudget('3' as never)).toThrow(TypeError);
  expect(new LocalBudget(Infinity).limit).toBe(Infinity);
});

test('the budget option is validated at construction', () => {
  expect(() => new AsyncPool<Res>({ factory: () => ({ id: 1, closed: false }), budget: {} as never }))
    .toThrow(new TypeError('poolkeeper: option "budget" must be an object with an acquire() method; got an object'));
  expect(() => new AsyncPool<Res>({ factory: () => ({ id: 1, closed: false }), budget: 3 as never })).toThrow(TypeError);
});

describe('user code that calls back into the pool', () => {
  test('a budget whose acquire() disposes the pool synchronously: the caller is rejected, nothing leaks', async () => {
    let pool!: AsyncPool<Res>;
    let asked = 0;
    const budget: Budget = {
      acquire: () => {
        asked++;
        void pool.dispose();
        return Promise.resolve({ release: () => undefined });
      },
    };
    const t = tracked();
    pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget });
    const result = await outcome(pool.acquire());
    expect(!result.ok && result.error).toBeInstanceOf(PoolDisposedError);
    await pool.dispose();
    expect(asked).toBe(1);
    expect(t.created).toHaveLength(0);
  });

  test('onLost called inside acquire(), before the permit is granted: the resource is retired on arrival', async () => {
    const budget: Budget = {
      acquire: ({ onLost }) => {
        onLost();
        return Promise.resolve({ release: () => undefined });
      },
    };
    const t = tracked();
    const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, maxSize: 1 });
    const destroyed: PoolEvents<Res>['destroy'][] = [];
    pool.on('destroy', (e) => destroyed.push(e));
    const r = await pool.acquire(); // the caller still gets it: a holder is never interrupted
    pool.release(r);
    await flush();
    expect(destroyed.map((d) => d.reason)).toEqual(['revoked']);
    expect(pool.size).toBe(0);
    await pool.dispose();
  });

  test('a permit whose release() acquires from the pool synchronously', async () => {
    let pool!: AsyncPool<Res>;
    const inner: Promise<unknown>[] = [];
    const local = new LocalBudget(1);
    const budget: Budget = {
      acquire: async (o) => {
        const permit = await local.acquire(o);
        return {
          release: () => {
            permit.release();
            if (inner.length === 0) inner.push(outcome(pool.acquire()));
          },
        };
      },
    };
    const t = tracked();
    pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, maxSize: 1 });
    const r = await pool.acquire();
    await pool.destroy(r);
    await flush();
    const got = (await inner[0]) as { ok: boolean; value: Res };
    expect(got.ok).toBe(true);
    pool.release(got.value);
    await pool.dispose();
    expect(local.held).toBe(0);
  });

  test('a thenable permit promise that settles twice and then throws: one permit, used once', async () => {
    let releases = 0;
    const permit = { release: () => void releases++ };
    const budget: Budget = {
      acquire: () => ({
        then(resolve: (p: BudgetPermit) => void, reject: (e: unknown) => void) {
          resolve(permit);
          resolve(permit);
          reject(new Error('late'));
          throw new Error('after');
        },
      }) as unknown as Promise<BudgetPermit>,
    };
    const t = tracked();
    const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget });
    const r = await pool.acquire();
    await pool.destroy(r);
    await flush();
    expect(releases).toBe(1);
    await pool.dispose();
  });

  test('the same permit object granted twice is released twice, once per resource', async () => {
    let releases = 0;
    const shared = { release: () => void releases++ };
    const t = tracked();
    const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget: { acquire: async () => shared }, maxSize: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    await pool.destroy(a);
    await pool.destroy(b);
    await flush();
    expect(releases).toBe(2);
    await pool.dispose();
  });
});

describe('budgets meet the rate gate, the duplicate check and re-entrant listeners', () => {
  test('dispose() while a creation holding a permit waits for the rate limit: its factory never runs, the permit goes back', async () => {
    const budget = new LocalBudget(5);
    const t = tracked();
    const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, createRatePerSec: 1 });
    const first = await pool.acquire();
    const second = outcome(pool.acquire()); // its creation has a permit and waits ~1 s for the gate
    await flush();
    expect(budget.held).toBe(2);
    const disposing = pool.dispose();
    expect(await second).toMatchObject({ ok: false, error: expect.any(PoolDisposedError) });
    pool.release(first);
    await disposing;
    expect(t.created).toHaveLength(1);
    expect(budget.held).toBe(0);
  });

  test('resize() below what is live while a creation waits for the rate limit: it does not start, its permit goes back', async () => {
    const budget = new LocalBudget(5);
    const t = tracked();
    const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget, createRatePerSec: 1, maxSize: 2 });
    const first = await pool.acquire();
    const second = outcome(pool.acquire({ timeoutMs: 5_000 }));
    await flush();
    expect(budget.held).toBe(2);
    pool.resize(1);
    await tick(1_000); // the gate lets it go: the pool is at its new cap, so it is dropped
    expect(t.created).toHaveLength(1);
    expect(budget.held).toBe(1);
    pool.release(first); // the waiter gets the one resource instead
    expect(await second).toEqual({ ok: true, value: first });
    pool.release(first);
    await pool.dispose();
    expect(budget.held).toBe(0);
  });

  test('two creations in flight returning the same object: the second is refused and its permit goes back', async () => {
    const budget = new LocalBudget(5);
    const same = { id: 1, closed: false };
    const gate = deferred();
    const pool = new AsyncPool<Res>({ factory: async () => (await gate.promise, same), budget, maxSize: 2 });
    const a = outcome(pool.acquire());
    const b = outcome(pool.acquire());
    await flush();
    expect(budget.held).toBe(2);
    gate.resolve();
    const results = [await a, await b];
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ error: expect.any(TypeError) });
    expect(budget.held).toBe(1);
    pool.release(same);
    await pool.dispose();
    expect(budget.held).toBe(0);
  });

  test('a create listener that disposes the pool: the new resource is closed, then its permit goes back', async () => {
    const budget = new LocalBudget(5);
    const t = tracked();
    const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget });
    let disposing: Promise<void> | undefined;
    pool.on('create', () => {
      disposing = pool.dispose();
    });
    const result = await outcome(pool.acquire());
    expect(!result.ok && result.error).toBeInstanceOf(PoolDisposedError);
    await disposing;
    expect(t.released).toEqual(t.created);
    expect(budget.held).toBe(0);
  });

  test('an error listener that acquires when the budget fails a keep-warm creation: the pool is complete, its acquire gets a creation of its own', async () => {
    let asked = 0;
    const down: Budget = { acquire: () => (asked++, Promise.reject(new Error('redis down'))) };
    const t = tracked();
    const pool = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, budget: down, minIdle: 1, maxSize: 1 });
    const seen: { operation: string; creating: number; reentrant?: Promise<{ ok: boolean; error?: unknown }> }[] = [];
    pool.on('error', (e) => {
      if (seen.length !== 0) return;
      // The keep-warm creation is over when its failure is reported: it holds no slot any more,
      // so this caller (maxSize 1) gets a creation of its own.
      seen.push({ operation: e.operation, creating: pool.stats().creating, reentrant: outcome(pool.acquire({ timeoutMs: 1_000 })) });
    });
    pool.resize(1, { minIdle: 1 }); // keep-warm starts: its permit request fails
    await flush();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ operation: 'budget', creating: 0 });
    expect(await seen[0]!.reentrant).toMatchObject({ ok: false, error: expect.any(BudgetUnavailableError) });
    expect(asked).toBe(2);
    expect(t.created).toHaveLength(0);
    await pool.dispose();
  });
});
