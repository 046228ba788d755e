/**
 * With `validateOnCreate`, a new resource that fails its first check says the backend hands out
 * broken ones. Creating the next at once would loop through factory, validate and releaser in
 * microtasks, where no timer runs: the caller's own timeout could never fire. Creation backs off
 * instead, as after an over-capacity refusal.
 */
import { AcquireTimeoutError, AsyncPool, type AsyncPoolOptions } from '../../src/index.js';
import { outcome } from '../helpers.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

/** A pool over `f` that validates new resources, with a 100 ms first backoff. */
function checkedPool(f: ReturnType<typeof switchableFactory>, options: Partial<AsyncPoolOptions<Conn>>): AsyncPool<Conn> {
  return new AsyncPool<Conn>({
    factory: f.factory,
    releaser: f.releaser,
    validateOnCreate: true,
    createRetry: { minDelayMs: 100, maxDelayMs: 1_000 },
    ...options,
  });
}

test('a validate that rejects every new resource: the caller times out on time, and creation is not a busy loop', async () => {
  const f = switchableFactory();
  // Every new resource fails, but for the thousandth: were creation a loop in microtasks, the
  // test would see that one served instead of hanging.
  let checks = 0;
  const pool = checkedPool(f, {
    maxSize: 1,
    acquireTimeoutMs: 50,
    validate: async () => ++checks > 1_000,
  });
  const result = outcome(pool.acquire());
  await tick(50);
  const r = await result;
  expect(!r.ok && r.error).toBeInstanceOf(AcquireTimeoutError);
  expect(f.calls).toBe(1); // the next creation waits for the backoff (50-100 ms)
  expect(pool.stats().validationFailed).toBe(1);
  await pool.dispose();
});

test('after the backoff, creation resumes for the caller, who is served once a new resource passes', async () => {
  const f = switchableFactory();
  let checks = 0;
  const pool = checkedPool(f, {
    maxSize: 1,
    acquireTimeoutMs: 10_000,
    validate: () => ++checks > 2,
  });
  const result = outcome(pool.acquire());
  await tick(0);
  expect(f.calls).toBe(1);
  await tick(100); // the first backoff: 50-100 ms
  expect(f.calls).toBe(2);
  await tick(200); // the next one doubles: 100-200 ms
  expect(f.calls).toBe(3);
  const r = await result;
  expect(r.ok && r.value).toBe(f.created[2]);
  expect(f.released).toEqual([f.created[0], f.created[1]]);
  pool.release(f.created[2]!);
  await pool.dispose();
});

test('an idle resource that fails its check (it went stale) is replaced at once: no backoff', async () => {
  const f = switchableFactory();
  let checks = 0;
  const pool = checkedPool(f, {
    maxSize: 1,
    validate: () => ++checks > 1,
    validateIdleAfterMs: 0,
  });
  await pool.prefill(1); // idle, never handed out (prefill checks nothing: no caller waits)
  const result = outcome(pool.acquire());
  await tick(0);
  const r = await result;
  expect(r.ok && r.value).toBe(f.created[1]);
  expect(f.calls).toBe(2);
  pool.release(f.created[1]!);
  await pool.dispose();
});

test('the backoff grows with each new resource that fails in a row, as after over-capacity refusals', async () => {
  const f = switchableFactory();
  const pool = checkedPool(f, {
    maxSize: 4,
    acquireTimeoutMs: 10_000,
    validate: () => false,
    createRetry: { minDelayMs: 100, maxDelayMs: 5_000 },
  });
  const waiting = [0, 1, 2, 3].map(() => outcome(pool.acquire()));
  await tick(10_000);
  for (const r of await Promise.all(waiting)) expect(!r.ok && r.error).toBeInstanceOf(AcquireTimeoutError);
  // At 100, 200, 400 … 5 000 ms ceilings, 10 s hold well under 20 rounds of 4; a backoff that
  // stayed at 100 ms would have made hundreds of calls.
  expect(f.calls).toBeLessThanOrEqual(80);
  await pool.dispose();
});

test('the backoff after a failed new resource ends with it: ordinary factory failures later reject at once', async () => {
  const f = switchableFactory();
  let checks = 0;
  const pool = checkedPool(f, {
    maxSize: 2,
    acquireTimeoutMs: 60_000,
    validate: () => ++checks !== 2, // only the second new resource fails
  });
  const first = outcome(pool.acquire());
  await tick(0);
  const x = (await first) as { ok: true; value: unknown };
  const w = outcome(pool.acquire()); // its new resource fails: a backoff starts
  await tick(0);
  expect(f.calls).toBe(2);
  pool.release(x.value as never); // w is served by that release, not by a creation
  const served = await w;
  expect(served.ok && served.value).toBe(x.value);
  await tick(5_000);
  f.failing = true;
  const z1 = outcome(pool.acquire());
  const z2 = outcome(pool.acquire());
  await tick(0);
  for (const r of [await z1, await z2]) expect(!r.ok && r.error).toBeInstanceOf(Error);
  expect(f.calls).toBe(4); // both creations started at once, neither held back by a stale backoff
  pool.release(x.value as never);
  await pool.dispose();
});
