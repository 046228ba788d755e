/** validate / validateTimeoutMs / validateIdleAfterMs: a resource is checked before it is handed out. */
import { AsyncPool, AcquireTimeoutError, ValidateTimeoutError, type PoolEvents } from '../../src/index.js';
import { deferred, outcome } from '../helpers.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

function poolWith(options: {
  validate: (c: Conn) => boolean | Promise<boolean>;
  maxSize?: number;
  validateTimeoutMs?: number;
  validateIdleAfterMs?: number;
}) {
  const f = switchableFactory();
  const errors: PoolEvents<Conn>['error'][] = [];
  const destroyed: PoolEvents<Conn>['destroy'][] = [];
  const pool = new AsyncPool<Conn>({ factory: f.factory, releaser: f.releaser, recycleMs: Infinity, ...options });
  pool.on('error', (e) => errors.push(e));
  pool.on('destroy', (e) => destroyed.push(e));
  return { f, pool, errors, destroyed };
}

test('false closes the resource (reason invalid) and the caller gets the next idle one, without an error event', async () => {
  const bad = new Set<number>();
  const checked: number[] = [];
  const { f, pool, errors, destroyed } = poolWith({
    maxSize: 3,
    validate: (c) => {
      checked.push(c.id);
      return !bad.has(c.id);
    },
  });
  await pool.prefill(2); // ids 1 and 2; LIFO hands out 2 first
  bad.add(2);
  const got = await pool.acquire();
  expect(got.id).toBe(1);
  expect(checked).toEqual([2, 1]);
  expect(f.calls).toBe(2); // no creation needed: the next idle one was good
  expect(f.released.map((c) => c.id)).toEqual([2]);
  expect(destroyed).toEqual([{ resource: f.created[1], reason: 'invalid' }]);
  expect(errors).toEqual([]); // a plain false is not an error
  const s = pool.stats();
  expect(s.validationFailed).toBe(1);
  expect(s.destroyed.invalid).toBe(1);
  expect(s.acquired).toBe(1);
  expect([s.size, s.idle, s.borrowed, s.pending]).toEqual([1, 0, 1, 0]);
  pool.release(got);
  await pool.dispose();
});

test('a throw closes the resource, is an error event {operation: validate}, and the caller gets a fresh one', async () => {
  const boom = new Error('ping failed');
  const { f, pool, errors } = poolWith({
    validate: (c) => {
      if (c.id === 1) throw boom;
      return true;
    },
  });
  await pool.prefill(1);
  const got = await pool.acquire();
  expect(got.id).toBe(2);
  expect(f.calls).toBe(2);
  expect(errors).toEqual([{ error: boom, operation: 'validate', resource: f.created[0] }]);
  expect(pool.stats().validationFailed).toBe(1);
  expect(pool.stats().destroyed.invalid).toBe(1);
  pool.release(got);
  await pool.dispose();
});

test('a rejected promise counts as a failed validation', async () => {
  const { pool, errors } = poolWith({ validate: async (c) => (c.id === 1 ? Promise.reject(new Error('nope')) : true) });
  await pool.prefill(1);
  const got = await pool.acquire();
  expect(got.id).toBe(2);
  expect(errors.map((e) => e.operation)).toEqual(['validate']);
  pool.release(got);
  await pool.dispose();
});

test('never runs on a freshly created resource', async () => {
  const checked: number[] = [];
  const { pool } = poolWith({ validate: (c) => (checked.push(c.id), true) });
  const a = await pool.acquire();
  const b = await pool.acquire();
  expect(checked).toEqual([]);
  pool.release(a);
  pool.release(b);
  await pool.dispose();
});

test('the caller sees an error only when no fresh resource can be made: then it is the factory error', async () => {
  const { f, pool } = poolWith({ validate: () => false });
  await pool.prefill(2);
  f.failing = true;
  const result = await outcome(pool.acquire());
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.error).toBe(f.errors[0]);
    expect(result.error.code).toBe('ECONNREFUSED');
  }
  expect(pool.stats().validationFailed).toBe(2); // both idle ones were tried first
  expect(pool.stats().rejectedCreateFailed).toBe(1);
  await pool.dispose();
});

test('while validating, the resource counts as borrowed and the caller as pending', async () => {
  const gate = deferred<boolean>();
  const { pool } = poolWith({ validate: () => gate.promise });
  await pool.prefill(1);
  let settled = false;
  const p = pool.acquire().then((c) => ((settled = true), c));
  await tick(0);
  expect(settled).toBe(false);
  expect([pool.size, pool.idle, pool.borrowed, pool.pending]).toEqual([1, 0, 1, 1]);
  gate.resolve(true);
  const got = await p;
  expect(got.id).toBe(1);
  expect([pool.size, pool.idle, pool.borrowed, pool.pending]).toEqual([1, 0, 1, 0]);
  pool.release(got);
  await pool.dispose();
});

test('a failed validation keeps the caller at the head of the queue', async () => {
  let calls = 0;
  const { pool } = poolWith({ maxSize: 1, validate: () => ++calls !== 1 });
  const first = await pool.acquire(); // id 1
  const order: string[] = [];
  const b = pool.acquire().then((c) => (order.push(`b:${c.id}`), c));
  const c = pool.acquire().then((conn) => (order.push(`c:${conn.id}`), conn));
  pool.release(first); // handed to b, validated (fails), closed; a fresh one is made for b, not c
  const gotB = await b;
  expect(gotB.id).toBe(2);
  expect(order).toEqual(['b:2']);
  expect(pool.pending).toBe(1);
  pool.release(gotB);
  expect((await c).id).toBe(2);
  expect(order).toEqual(['b:2', 'c:2']);
  pool.release(await c);
  await pool.dispose();
});

test('a resource whose lifetime ends while it is being validated is not handed out (closed as recycled)', async () => {
  const gate = deferred<boolean>();
  const f = switchableFactory();
  const reasons: [number, string][] = [];
  const pool = new AsyncPool<Conn>({
    factory: f.factory,
    releaser: f.releaser,
    recycleMs: 1_000,
    recycleJitter: 0,
    validate: (c) => (c.id === 1 ? gate.promise : true),
  });
  pool.on('destroy', (e) => reasons.push([e.resource.id, e.reason]));
  pool.release(await pool.acquire()); // id 1, expires at t = 1 000
  await tick(500);
  const p = pool.acquire(); // validating id 1
  await tick(500);
  gate.resolve(true);
  const got = await p;
  expect(got.id).toBe(2);
  expect(reasons).toEqual([[1, 'recycled']]);
  expect(pool.stats().validationFailed).toBe(0);
  pool.release(got);
  await pool.dispose();
});

describe('validateTimeoutMs', () => {
  test('a validation that hangs counts as failed after validateTimeoutMs (ValidateTimeoutError event)', async () => {
    const { f, pool, errors } = poolWith({ validateTimeoutMs: 2_000, validate: (c) => (c.id === 1 ? new Promise<boolean>(() => {}) : true) });
    await pool.prefill(1);
    const p = outcome(pool.acquire());
    await tick(1_999);
    expect(pool.pending).toBe(1);
    expect(f.released).toEqual([]);
    await tick(1);
    const result = await p;
    expect(result.ok && result.value.id).toBe(2);
    expect(f.released.map((c) => c.id)).toEqual([1]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.operation).toBe('validate');
    expect(errors[0]!.resource).toBe(f.created[0]);
    expect(errors[0]!.error).toBeInstanceOf(ValidateTimeoutError);
    expect((errors[0]!.error as ValidateTimeoutError).code).toBe('ERR_VALIDATE_TIMEOUT');
    expect(pool.stats().validationFailed).toBe(1);
    expect(pool.stats().destroyed.invalid).toBe(1);
    if (result.ok) pool.release(result.value);
    await pool.dispose();
  });

  test('defaults to 5 000 ms', async () => {
    const { pool, errors } = poolWith({ validate: (c) => (c.id === 1 ? new Promise<boolean>(() => {}) : true) });
    await pool.prefill(1);
    const p = outcome(pool.acquire());
    await tick(4_999);
    expect(errors).toEqual([]);
    await tick(1);
    expect(errors.map((e) => (e.error as ValidateTimeoutError).code)).toEqual(['ERR_VALIDATE_TIMEOUT']);
    const result = await p;
    expect(result.ok && result.value.id).toBe(2);
    if (result.ok) pool.release(result.value);
    await pool.dispose();
  });

  test('a hung validation that answers true after its timeout does not bring the resource back', async () => {
    const late = deferred<boolean>();
    const { f, pool } = poolWith({ validateTimeoutMs: 100, validate: (c) => (c.id === 1 ? late.promise : true) });
    await pool.prefill(1);
    const got = await (async () => {
      const p = pool.acquire();
      await tick(100);
      return p;
    })();
    late.resolve(true);
    await tick(0);
    expect(got.id).toBe(2);
    expect([pool.size, pool.idle, pool.borrowed]).toEqual([1, 0, 1]);
    expect(f.released.map((c) => c.id)).toEqual([1]);
    pool.release(got);
    await pool.dispose();
  });
});

test('a caller that times out during validation leaves; the valid resource goes back to idle', async () => {
  const gate = deferred<boolean>();
  const { pool } = poolWith({ validate: () => gate.promise });
  await pool.prefill(1);
  const p = outcome(pool.acquire({ timeoutMs: 100 }));
  await tick(100);
  const result = await p;
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toBeInstanceOf(AcquireTimeoutError);
  gate.resolve(true);
  await tick(0);
  expect([pool.size, pool.idle, pool.borrowed, pool.pending]).toEqual([1, 1, 0, 0]);
  await pool.dispose();
});

describe('validateIdleAfterMs', () => {
  test('skips validation for a resource idle less than the window, validates it from then on', async () => {
    const checked: number[] = [];
    const { pool } = poolWith({ validateIdleAfterMs: 1_000, validate: (c) => (checked.push(c.id), true) });
    const r = await pool.acquire();
    pool.release(r); // idle since t = 0
    await tick(999);
    pool.release(await pool.acquire()); // idle 999 ms: not validated; idle again since t = 999
    expect(checked).toEqual([]);
    await tick(1_000);
    pool.release(await pool.acquire()); // idle exactly 1 000 ms: validated
    expect(checked).toEqual([1]);
    await pool.dispose();
  });

  test('0 (the default) validates every hand-out from idle', async () => {
    const checked: number[] = [];
    const { pool } = poolWith({ validate: (c) => (checked.push(c.id), true) });
    pool.release(await pool.acquire());
    pool.release(await pool.acquire());
    pool.release(await pool.acquire());
    expect(checked).toEqual([1, 1]);
    await pool.dispose();
  });

  test('a direct hand-off from release() is validated only when the window is 0', async () => {
    for (const [windowMs, expected] of [[0, [1]], [1_000, []]] as const) {
      const checked: number[] = [];
      const { pool } = poolWith({ maxSize: 1, validateIdleAfterMs: windowMs, validate: (c) => (checked.push(c.id), true) });
      const r = await pool.acquire();
      const next = pool.acquire();
      pool.release(r);
      expect((await next).id).toBe(1);
      expect(checked).toEqual(expected);
      pool.release(r);
      await pool.dispose();
    }
  });
});

test('a synchronous true hands the resource over without waiting on a promise', async () => {
  const calls: string[] = [];
  let n = 0;
  const pool = new AsyncPool({ factory: () => ({ id: ++n }), validate: () => { calls.push('validate'); return true; } });
  const r = await pool.acquire();
  pool.release(r);
  const again = pool.acquire();
  // Served within the same tick: resolved before any other microtask queued after it runs.
  const order: string[] = [];
  void again.then(() => order.push('acquired'));
  await Promise.resolve();
  order.push('next microtask');
  await again;
  expect(order).toEqual(['acquired', 'next microtask']);
  expect(await again).toBe(r);
  expect(calls).toEqual(['validate']);
});
