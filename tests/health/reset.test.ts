/** reset / resetTimeoutMs: runs on every release before the resource may be reused. */
import { AsyncPool, ResetTimeoutError, type PoolEvents } from '../../src/index.js';
import { deferred } from '../helpers.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

function poolWith(options: { reset: (c: Conn) => void | Promise<void>; maxSize?: number; resetTimeoutMs?: number }) {
  const f = switchableFactory();
  const errors: PoolEvents<Conn>['error'][] = [];
  const pool = new AsyncPool<Conn>({ factory: f.factory, releaser: f.releaser, recycleMs: Infinity, ...options });
  pool.on('error', (e) => errors.push(e));
  return { f, pool, errors };
}

test('runs on every release, before the resource is idle again', async () => {
  const resets: number[] = [];
  const { pool } = poolWith({ reset: (c) => void resets.push(c.id) });
  const a = await pool.acquire();
  const b = await pool.acquire();
  pool.release(a);
  pool.release(b);
  expect(resets).toEqual([1, 2]);
  pool.release(await pool.acquire());
  expect(resets).toEqual([1, 2, 2]);
  expect([pool.idle, pool.borrowed]).toEqual([2, 0]);
  expect(pool.stats().destroyed.total).toBe(0);
  await pool.dispose();
});

test('an async reset holds the resource out of the idle store until it finishes', async () => {
  const gate = deferred();
  const { pool } = poolWith({ maxSize: 1, reset: () => gate.promise });
  const r = await pool.acquire();
  pool.release(r);
  expect([pool.idle, pool.borrowed]).toEqual([0, 1]); // being reset counts as borrowed
  let got: Conn | undefined;
  const next = pool.acquire().then((c) => (got = c));
  await tick(0);
  expect(got).toBeUndefined(); // not handed out mid-reset
  gate.resolve();
  await next;
  expect(got).toBe(r);
  pool.release(r);
  await pool.dispose();
});

test.each([
  ['throws', (error: Error) => () => { throw error; }],
  ['rejects', (error: Error) => async () => { throw error; }],
] as const)('a reset that %s closes the resource (invalid) and is an error event {operation: reset}', async (_, make) => {
  const boom = new Error('ROLLBACK failed');
  const { f, pool, errors } = poolWith({ maxSize: 1, reset: make(boom) });
  const r = await pool.acquire();
  const next = pool.acquire(); // waits; gets a fresh resource once the broken one is closed
  pool.release(r);
  const fresh = await next;
  expect(fresh).not.toBe(r);
  expect(f.released).toEqual([r]);
  expect(errors).toEqual([{ error: boom, operation: 'reset', resource: r }]);
  expect(pool.stats().destroyed.invalid).toBe(1);
  expect(pool.stats().released).toBe(1);
  await pool.destroy(fresh);
  await pool.dispose();
});

test('a reset that hangs is abandoned after resetTimeoutMs and the resource closed', async () => {
  const { f, pool, errors } = poolWith({ resetTimeoutMs: 300, reset: () => new Promise<void>(() => {}) });
  const r = await pool.acquire();
  pool.release(r);
  await tick(299);
  expect(f.released).toEqual([]);
  expect(pool.borrowed).toBe(1);
  await tick(1);
  expect(f.released).toEqual([r]);
  expect([pool.size, pool.borrowed, pool.idle]).toEqual([0, 0, 0]);
  expect(errors.map((e) => [e.operation, e.resource])).toEqual([['reset', r]]);
  expect(errors[0]!.error).toBeInstanceOf(ResetTimeoutError);
  expect((errors[0]!.error as ResetTimeoutError).code).toBe('ERR_RESET_TIMEOUT');
  expect(pool.stats().destroyed.invalid).toBe(1);
  await pool.dispose();
});

test('resetTimeoutMs defaults to 5 000 ms', async () => {
  const { f, pool } = poolWith({ reset: () => new Promise<void>(() => {}) });
  const r = await pool.acquire();
  pool.release(r);
  await tick(4_999);
  expect(f.released).toEqual([]);
  await tick(1);
  expect(f.released).toEqual([r]);
  await pool.dispose();
});

test('after a successful async reset the resource goes straight to the oldest waiter', async () => {
  const gate = deferred();
  const { pool } = poolWith({ maxSize: 1, reset: () => gate.promise });
  const r = await pool.acquire();
  const order: string[] = [];
  const first = pool.acquire().then((c) => (order.push('first'), c));
  const second = pool.acquire().then((c) => (order.push('second'), c));
  pool.release(r);
  gate.resolve();
  expect(await first).toBe(r);
  expect(order).toEqual(['first']);
  pool.release(r);
  expect(await second).toBe(r);
  pool.release(r);
  await pool.dispose();
});

test('a resource released while the pool is disposing is closed without a reset', async () => {
  const resets: number[] = [];
  const { f, pool } = poolWith({ reset: (c) => void resets.push(c.id) });
  const r = await pool.acquire();
  const disposing = pool.dispose();
  pool.release(r);
  await disposing;
  expect(resets).toEqual([]);
  expect(f.released).toEqual([r]);
});
