/**
 * Small deterministic cases of bugs found by the property tests (or, for leases and clear(), in
 * the code next to them); each fails without its fix in src/.
 */
import { jest } from '@jest/globals';
import { AsyncPool, NotBorrowedError } from '../../src/index.js';
import { lateSettlements } from '../../src/waiter.js';
import { deferred, flush, tracked } from '../helpers.js';
import { Harness, withSandbox, type Command, type PoolConfig, type Scripts } from './harness.js';

afterEach(() => {
  jest.clearAllTimers();
  jest.useRealTimers();
});

test('use() whose body released the resource leaves it alone once another caller holds it', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 1 });
  const first = await pool.acquire();
  const used = pool.use((resource) => {
    pool.release(resource); // handed straight to the waiter queued behind this use()
    return 'done';
  });
  const next = pool.acquire();
  pool.release(first);
  expect(await used).toBe('done');
  const second = await next;
  expect(second).toBe(first);
  expect(pool.isBorrowed(second)).toBe(true);
  expect(pool.borrowed).toBe(1);
  expect(pool.idle).toBe(0);
  expect(() => pool.release(second)).not.toThrow();
  await pool.dispose();
  expect(t.released).toEqual([first]);
});

test('a creation that arrives while dispose() drains leaves no timer behind', async () => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  const gate = deferred<{ id: number }>();
  const released: unknown[] = [];
  const pool = new AsyncPool({
    factory: () => gate.promise,
    releaser: (r) => {
      released.push(r);
    },
    maxSize: 1,
    acquireTimeoutMs: 30,
    createTimeoutMs: Infinity,
  });
  const waiter = pool.acquire().catch((error: unknown) => error);
  await jest.advanceTimersByTimeAsync(30);
  expect(await waiter).toMatchObject({ code: 'ERR_ACQUIRE_TIMEOUT' });
  let disposed = false;
  const disposing = pool.dispose().then(() => {
    disposed = true;
  });
  await flush();
  expect(disposed).toBe(false); // waits for the creation in flight
  const resource = { id: 1 };
  gate.resolve(resource);
  await disposing;
  expect(released).toEqual([resource]);
  expect(jest.getTimerCount()).toBe(0);
});

test('two waiters whose resources both fail validation keep their arrival order', async () => {
  let made = 0;
  const gates: ReturnType<typeof deferred<{ id: number }>>[] = [];
  const checks: ReturnType<typeof deferred<boolean>>[] = [];
  const pool = new AsyncPool<{ id: number }>({
    factory: () => {
      if (made < 2) return { id: ++made };
      const gate = deferred<{ id: number }>();
      gates.push(gate);
      return gate.promise;
    },
    validate: () => {
      const check = deferred<boolean>();
      checks.push(check);
      return check.promise;
    },
    maxSize: 2,
  });
  await pool.prefill(2);
  const served: string[] = [];
  const a = pool.acquire().then((r) => (served.push(`a:${r.id}`), r));
  const b = pool.acquire().then((r) => (served.push(`b:${r.id}`), r));
  await flush();
  // a's resource is checked first; b's waits, kept back for a in case a's check fails (b must
  // not be served before a).
  expect(checks).toHaveLength(1);
  checks[0]!.resolve(false);
  await flush();
  expect(checks).toHaveLength(2); // a, still first, gets the other one checked
  checks[1]!.resolve(false);
  await flush();
  expect(gates).toHaveLength(2); // a fresh resource for each of them
  gates[0]!.resolve({ id: 3 });
  gates[1]!.resolve({ id: 4 });
  for (const r of await Promise.all([a, b])) pool.release(r);
  expect(served).toEqual(['a:3', 'b:4']);
  await pool.dispose();
});

test('a lease whose resource was given back directly leaves it alone once another caller holds it', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 1 });
  let other: Awaited<ReturnType<typeof t.factory>> | undefined;
  {
    await using lease = await pool.borrow();
    const next = pool.acquire();
    pool.release(lease.resource); // given back directly: goes to the waiter
    other = await next;
    expect(other).toBe(lease.resource);
  } // the lease is disposed here
  expect(pool.isBorrowed(other)).toBe(true);
  expect(pool.borrowed).toBe(1);
  expect(() => pool.release(other!)).not.toThrow();
  await pool.dispose();
});

test('after dispose() times out, release() of a resource nobody held (it was being reset) still throws', async () => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  const t = tracked();
  const resetting = deferred();
  const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, reset: () => resetting.promise, maxSize: 1 });
  const resource = await pool.acquire();
  pool.release(resource); // its holder gives it back; reset() runs
  const disposed = pool.dispose({ timeoutMs: 30 });
  await jest.advanceTimersByTimeAsync(30); // dispose() gives up waiting and closes it
  expect(t.released).toEqual([resource]);
  expect(() => pool.release(resource)).toThrow(NotBorrowedError);
  resetting.resolve();
  await disposed;
});

test('a resource retired by clear() while it was being validated is closed, not handed out', async () => {
  const t = tracked();
  const checks: ReturnType<typeof deferred<boolean>>[] = [];
  const pool = new AsyncPool({
    factory: t.factory,
    releaser: t.releaser,
    validate: () => {
      const check = deferred<boolean>();
      checks.push(check);
      return check.promise;
    },
    maxSize: 1,
  });
  await pool.prefill(1);
  const [old] = t.created;
  const next = pool.acquire(); // takes the idle resource and validates it
  await flush();
  expect(checks).toHaveLength(1);
  pool.clear(); // "reconnect everything"
  checks[0]!.resolve(true);
  const got = await next;
  expect(got).not.toBe(old);
  expect(t.released).toEqual([old]);
  expect(pool.stats().destroyed.cleared).toBe(1);
  pool.release(got);
  await pool.dispose();
});

test('a waiter that counts on a keep-warm creation gets the factory error when it fails', async () => {
  const gates: ReturnType<typeof deferred<{ id: number }>>[] = [];
  let calls = 0;
  const pool = new AsyncPool<{ id: number }>({
    factory: () => {
      if (calls++ === 0) return { id: 0 };
      const gate = deferred<{ id: number }>();
      gates.push(gate);
      return gate.promise;
    },
    maxSize: 1,
    minIdle: 1,
    acquireTimeoutMs: Infinity,
  });
  const errors: unknown[] = [];
  pool.on('error', ({ error }) => errors.push(error));
  await pool.destroy(await pool.acquire()); // frees the slot: a keep-warm creation starts
  expect(gates).toHaveLength(1);
  let outcome: unknown = 'pending';
  pool.acquire().then(
    () => (outcome = 'served'),
    (error: unknown) => (outcome = error),
  );
  await flush();
  expect(pool.creating).toBe(1); // the waiter counts on the keep-warm creation
  const down = new Error('backend down');
  gates[0]!.reject(down);
  await flush();
  expect(outcome).toBe(down);
  expect(pool.pending).toBe(0);
  expect(pool.stats().rejectedCreateFailed).toBe(1);
  expect(errors).toEqual([]);
  await pool.dispose();
});

test.each([1, 2])('keep-warm refills (minIdle %i) do not race a waiter whose resource is being validated (no create/validate storm)', async (minIdle) => {
  let made = 0;
  let checks = 0;
  const pool = new AsyncPool<{ id: number }>({
    factory: () => ({ id: ++made }),
    validate: async () => {
      checks++;
      for (let i = 0; i < 20; i++) await null; // slower, in promise hops, than creating one
      return checks > 1_000; // bounded, so a regression fails instead of starving the event loop
    },
    maxSize: 3,
    minIdle,
  });
  await pool.prefill(minIdle);
  const got = await pool.acquire();
  expect(checks).toBe(minIdle); // every idle one failed its check...
  expect(got.id).toBe(minIdle + 1); // ...and the caller got a fresh one, which needs none
  expect(made).toBeLessThanOrEqual(2 * minIdle + 1);
  pool.release(got);
  await pool.dispose();
});

test('lease.release() and lease.destroy() never act on a later borrow of the same resource', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 1 });
  const lease = await pool.borrow();
  pool.release(lease.resource); // given back directly...
  const other = await pool.acquire(); // ...and lent to someone else
  expect(() => lease.release()).toThrow(NotBorrowedError);
  await expect(lease.destroy()).rejects.toThrow(NotBorrowedError);
  expect(pool.isBorrowed(other)).toBe(true);
  expect(t.released).toEqual([]);
  pool.release(other);
  await pool.dispose();
});

test('a fail-fast probe waits for a free slot: after resize() down to the live size it does not loop', async () => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  let factoryCalls = 0;
  let down = true;
  // The budget is the only user code on the creation path before the size check, so its calls
  // count the creations started; past the cap it never answers, which ends a loop instead of hanging.
  let permits = 0;
  const pool = new AsyncPool<{ id: number }>({
    factory: () => {
      factoryCalls++;
      if (factoryCalls === 1 || !down) return { id: factoryCalls };
      throw new Error('down');
    },
    budget: {
      acquire: () => (++permits > 100 ? new Promise(() => {}) : Promise.resolve({ release() {} })),
    },
    maxSize: 2,
    minIdle: 1,
    failFastAfter: 2,
    createRetry: { minDelayMs: 10, maxDelayMs: 10 },
  });
  const held = await pool.acquire();
  await pool.acquire().catch(() => undefined);
  await pool.acquire().catch(() => undefined); // the second failure in a row: failing fast
  expect(permits).toBe(3);
  pool.resize(1); // the borrowed resource fills the pool: no room for a probe
  await jest.advanceTimersByTimeAsync(50);
  expect(permits).toBe(3);
  expect(pool.creating).toBe(0);
  // With room again, the probe runs, succeeds, and the pool stops failing fast.
  down = false;
  pool.resize(2);
  await jest.advanceTimersByTimeAsync(50);
  expect(factoryCalls).toBe(4);
  expect(pool.size).toBe(2);
  const fresh = await pool.acquire();
  expect(fresh.id).toBe(4);
  pool.release(fresh);
  pool.release(held);
  await pool.dispose();
});

test('failing fast, a caller put back in the queue by a failed validation is served by the next probe once a slot frees', async () => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  let factoryCalls = 0;
  let down = false;
  let answer: ((valid: boolean) => void) | undefined;
  const pool = new AsyncPool<{ id: number }>({
    factory: () => {
      factoryCalls++;
      if (down) throw new Error('down');
      return { id: factoryCalls };
    },
    validate: () => new Promise<boolean>((resolve) => (answer = resolve)),
    validateIdleAfterMs: 0,
    maxSize: 2,
    failFastAfter: 1,
    createRetry: { minDelayMs: 10, maxDelayMs: 10 },
  });
  await pool.prefill(1);
  // The caller's resource is being validated while the pool starts failing fast.
  const caller = pool.acquire({ timeoutMs: Infinity });
  down = true;
  await expect(pool.acquire()).rejects.toThrow('down'); // the one failure: failing fast
  pool.resize(1); // the resource under validation fills the pool: no room for a probe
  await jest.advanceTimersByTimeAsync(50); // the backoff ends with no slot free
  expect(pool.creating).toBe(0);
  down = false;
  answer!(false); // its validation fails: the resource closes and the caller goes back in the queue
  await jest.advanceTimersByTimeAsync(50);
  const got = await caller; // served by the probe the freed slot let start, not left waiting
  expect(got.id).toBe(factoryCalls);
  expect(pool.pending).toBe(0);
  pool.release(got);
  await pool.dispose();
});

test('a caller whose resource failed validation is back at the head of the queue before the destroy listener runs', async () => {
  let made = 0;
  let checked = 0;
  const check = deferred<boolean>();
  const pool = new AsyncPool<{ id: number }>({
    factory: () => ({ id: ++made }),
    // The first check is A's, answered below; every later one passes at once.
    validate: () => (++checked === 1 ? check.promise : true),
    maxSize: 3,
  });
  await pool.prefill(3);
  const served: string[] = [];
  const a = pool.acquire().then((r) => (served.push('a'), r));
  await flush();
  expect(checked).toBe(1); // A's resource is being checked; two more are idle
  let b: Promise<{ id: number }> | undefined;
  pool.once('destroy', () => {
    // A newcomer, arriving while A's failed resource is closed: A arrived first, and its check is over.
    b = pool.acquire().then((r) => (served.push('b'), r));
  });
  check.resolve(false);
  await flush();
  expect(b).toBeDefined();
  const held = await Promise.all([a, b!]);
  expect(served).toEqual(['a', 'b']);
  for (const r of held) pool.release(r);
  await pool.dispose();
});

test('a caller served while an older caller\'s rejection is on its way never overtakes a caller served before it (test:deep seed 1835435583)', async () => {
  // The shrunk case, replayed through the model: three creations and a validation end together;
  // a failed background creation rejects the oldest caller, and the two callers behind it are
  // served in turn. The second one must not see its resource before the first one does.
  const config: PoolConfig = {
    maxSize: 1, strategy: 'lifo', acquireTimeoutMs: Infinity, maxWaiters: Infinity, createConcurrency: undefined, createTimeoutMs: 50,
    validate: true, validateTimeoutMs: 20, validateIdleAfterMs: 0, reset: false, resetTimeoutMs: 20, destroyTimeoutMs: 20,
    idleTimeoutMs: Infinity, recycleMs: 3_600_000, failFastAfter: Infinity, leakDetectionMs: Infinity, maxIdle: 1, minIdle: 0,
  };
  const scripts: Scripts = { factory: ['ok', 'slowFail', 'ok', 'slowOk', 'ok'], releaser: ['ok'], validate: ['ok', 'slowFalse', 'ok'], reset: ['ok'], reentry: [] };
  const commands: Command[] = [
    { t: 'resize', maxSize: 3, idleGap: 0, minIdle: 2 },
    { t: 'use', timeoutMs: undefined, signal: false, body: 'return', priority: undefined },
    { t: 'acquire', timeoutMs: undefined, signal: 'none', priority: undefined },
    { t: 'clear' },
    { t: 'acquire', timeoutMs: undefined, signal: 'none', priority: undefined },
    { t: 'acquire', timeoutMs: undefined, signal: 'none', priority: undefined },
  ];
  await withSandbox(0, async () => {
    const h = new Harness(config, scripts);
    for (const command of commands) await h.exec(command);
    await h.finish(); // throws InvariantViolation (invariant 4, arrival order) without the fix
  });
  expect(lateSettlements()).toBe(0); // every late settlement was delivered
});
