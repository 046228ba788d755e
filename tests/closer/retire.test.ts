/** retire(resource, error?): take one resource out; idle ones now, borrowed ones when they come back. */
import { AsyncPool, type DestroyReason, type PoolEvents } from '../../src/index.js';
import { flush, tracked, type Res } from '../helpers.js';

function poolWith(extra: { maxSize?: number; min?: number; reset?: (r: Res) => void | Promise<void>; validate?: (r: Res) => boolean | Promise<boolean> } = {}) {
  const f = tracked();
  const destroyed: [number, DestroyReason][] = [];
  const errors: PoolEvents<Res>['error'][] = [];
  const pool = new AsyncPool<Res>({ factory: f.factory, releaser: f.releaser, ...extra });
  pool.on('destroy', (e) => destroyed.push([e.resource.id, e.reason]));
  pool.on('error', (e) => errors.push(e));
  return { f, pool, destroyed, errors };
}

test('an idle resource is closed at once (reason retired) and its error reported', async () => {
  const { f, pool, destroyed, errors } = poolWith();
  const a = await pool.acquire();
  pool.release(a);
  const error = new Error('connection reset');
  expect(pool.retire(a, error)).toBe(true);
  expect([pool.size, pool.idle]).toEqual([0, 0]); // synchronously
  expect(destroyed).toEqual([[1, 'retired']]);
  expect(errors).toEqual([{ error, operation: 'retire', resource: a }]);
  await flush();
  expect(f.released).toEqual([a]);
  expect(pool.stats().destroyed.retired).toBe(1);
  await pool.dispose();
});

test('without an error nothing is reported', async () => {
  const { pool, errors } = poolWith();
  const a = await pool.acquire();
  pool.release(a);
  expect(pool.retire(a)).toBe(true);
  expect(errors).toEqual([]);
  await pool.dispose();
});

test('a borrowed resource stays with its holder and is closed when it comes back', async () => {
  const { pool, destroyed } = poolWith({ maxSize: 1 });
  const a = await pool.acquire();
  expect(pool.retire(a)).toBe(true);
  expect(pool.isBorrowed(a)).toBe(true);
  expect(destroyed).toEqual([]);
  const next = pool.acquire();
  pool.release(a);
  expect(destroyed).toEqual([[1, 'retired']]);
  const b = await next;
  expect(b).not.toBe(a);
  pool.release(b);
  await pool.dispose();
});

test('a borrowed resource retired twice is closed once', async () => {
  const { pool, destroyed } = poolWith();
  const a = await pool.acquire();
  expect(pool.retire(a)).toBe(true);
  expect(pool.retire(a)).toBe(true);
  pool.release(a);
  expect(destroyed).toEqual([[1, 'retired']]);
  await pool.dispose();
});

test('a resource the pool does not hold (foreign, already closed, undefined) returns false', async () => {
  const { pool, destroyed } = poolWith();
  expect(pool.retire({ id: 99, closed: false })).toBe(false);
  expect(pool.retire(undefined as unknown as Res)).toBe(false);
  const a = await pool.acquire();
  await pool.destroy(a);
  expect(pool.retire(a)).toBe(false);
  expect(destroyed).toEqual([[1, 'destroyed']]);
  await pool.dispose();
});

test('a resource being reset is closed when the reset finishes, not put back', async () => {
  let finish!: () => void;
  const { pool, destroyed } = poolWith({ reset: () => new Promise<void>((resolve) => (finish = resolve)) });
  const a = await pool.acquire();
  pool.release(a);
  expect(pool.retire(a)).toBe(true);
  finish();
  await flush();
  expect(destroyed).toEqual([[1, 'retired']]);
  expect(pool.idle).toBe(0);
  await pool.dispose();
});

test('a resource being validated for a caller is not handed out; the caller gets another', async () => {
  let pass!: (valid: boolean) => void;
  const { pool, destroyed } = poolWith({ validate: () => new Promise<boolean>((resolve) => (pass = resolve)) });
  const a = await pool.acquire(); // fresh: not validated
  pool.release(a);
  const next = pool.acquire();
  await flush();
  expect(pool.retire(a)).toBe(true);
  pass(true);
  const b = await next;
  expect(b).not.toBe(a);
  expect(destroyed).toEqual([[1, 'retired']]);
  pool.release(b);
  await pool.dispose();
});

test('the freed slot serves a waiter; with min set it is refilled', async () => {
  const { f, pool } = poolWith({ maxSize: 1, min: 1 });
  const a = await pool.acquire();
  pool.release(a);
  pool.retire(a);
  await flush();
  expect([pool.size, pool.idle]).toEqual([1, 1]);
  expect(f.created).toHaveLength(2);
  await pool.dispose();
});

test('a listener of the error event that acquires or retires again sees a consistent pool', async () => {
  const { pool } = poolWith({ maxSize: 2 });
  const a = await pool.acquire();
  const b = await pool.acquire();
  pool.release(a);
  pool.release(b);
  let inner: Promise<Res> | undefined;
  pool.on('error', () => {
    pool.retire(b);
    inner = pool.acquire();
  });
  pool.retire(a, new Error('boom'));
  const c = await inner!;
  expect(c).not.toBe(a);
  expect(c).not.toBe(b);
  expect(pool.size).toBe(1);
  pool.release(c);
  await pool.dispose();
});

test('after dispose() it returns false and does nothing', async () => {
  const { pool, errors } = poolWith();
  const a = await pool.acquire();
  pool.release(a);
  await pool.dispose();
  expect(pool.retire(a, new Error('late'))).toBe(false);
  expect(errors).toEqual([]);
});
