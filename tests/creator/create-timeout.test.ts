/** createTimeoutMs: a factory call that takes longer fails with CreateTimeoutError; a late resource is closed. */
import { AsyncPool, CreateTimeoutError, NotBorrowedError, type PoolEvents } from '../../src/index.js';
import { outcome } from '../helpers.js';
import { gatedFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

function poolWith(options: { createTimeoutMs?: number; maxSize?: number; minIdle?: number }) {
  const g = gatedFactory();
  const errors: PoolEvents<Conn>['error'][] = [];
  const created: Conn[] = [];
  const pool = new AsyncPool<Conn>({
    factory: g.factory,
    releaser: g.releaser,
    recycleMs: Infinity,
    acquireTimeoutMs: Infinity,
    ...options,
  });
  pool.on('error', (e) => errors.push(e));
  pool.on('create', (e) => created.push(e.resource));
  return { g, pool, errors, created };
}

test('a factory call slower than createTimeoutMs fails its acquire with CreateTimeoutError', async () => {
  const { g, pool } = poolWith({ createTimeoutMs: 1_000 });
  const p = outcome(pool.acquire());
  await tick(999);
  expect(pool.pending).toBe(1);
  await tick(1);
  const result = await p;
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(CreateTimeoutError);
    expect(result.error.code).toBe('ERR_CREATE_TIMEOUT');
    expect(result.error.timeoutMs).toBe(1_000);
  }
  expect(g.calls).toHaveLength(1);
  const s = pool.stats();
  expect([s.size, s.creating, s.pending]).toEqual([0, 0, 0]);
  expect([s.createFailed, s.rejectedCreateFailed, s.created]).toEqual([1, 1, 0]);
  await pool.dispose();
});

test('createTimeoutMs defaults to 30 000 ms', async () => {
  const { pool } = poolWith({});
  const p = outcome(pool.acquire());
  await tick(29_999);
  expect(pool.pending).toBe(1);
  await tick(1);
  const result = await p;
  expect(!result.ok && result.error.code).toBe('ERR_CREATE_TIMEOUT');
  await pool.dispose();
});

test('a resource that arrives after its create timeout is passed to the releaser, never leaked', async () => {
  const { g, pool, created } = poolWith({ createTimeoutMs: 1_000 });
  const p = outcome(pool.acquire());
  await tick(1_000);
  expect((await p).ok).toBe(false);
  const late = g.calls[0]!.succeed();
  await tick(0);
  expect(g.released).toEqual([late]); // exactly one releaser call, with the late resource
  expect(late.closed).toBe(true);
  expect(created).toEqual([]); // it never entered the pool
  const s = pool.stats();
  expect([s.size, s.idle, s.borrowed, s.created]).toEqual([0, 0, 0, 0]);
  expect(() => pool.release(late)).toThrow(NotBorrowedError);
  // The next acquire gets a fresh resource, not the late one.
  const next = pool.acquire();
  await tick(0);
  const fresh = g.calls[1]!.succeed();
  expect(await next).toBe(fresh);
  pool.release(fresh);
  await pool.dispose();
  expect(g.released).toEqual([late, fresh]);
});

test('a failure that arrives after the timeout is ignored: one error, counted once', async () => {
  const { g, pool, errors } = poolWith({ createTimeoutMs: 1_000 });
  const p = outcome(pool.acquire());
  await tick(1_000);
  const result = await p;
  expect(!result.ok && result.error).toBeInstanceOf(CreateTimeoutError);
  g.calls[0]!.fail(new Error('connect ECONNREFUSED'));
  await tick(0);
  expect(errors).toEqual([]);
  expect(pool.stats().createFailed).toBe(1);
  await pool.dispose();
});

test('the slot is freed at the timeout, so a waiter behind it gets a new creation', async () => {
  const { g, pool } = poolWith({ createTimeoutMs: 1_000, maxSize: 1 });
  const first = outcome(pool.acquire());
  const second = pool.acquire();
  await tick(1_000);
  expect((await first).ok).toBe(false);
  expect(g.calls).toHaveLength(2);
  expect(pool.creating).toBe(1);
  const r = g.calls[1]!.succeed();
  expect(await second).toBe(r);
  g.calls[0]!.succeed(); // the late one: closed, the pool stays within maxSize
  await tick(0);
  expect(pool.size).toBe(1);
  expect(g.released.map((c) => c.id)).toEqual([2]); // ids follow settle order: the late one is 2
  pool.release(r);
  await pool.dispose();
});

test('a background refill that times out is an error event, and its late resource is closed too', async () => {
  const { g, pool, errors } = poolWith({ createTimeoutMs: 1_000, minIdle: 1, maxSize: 2 });
  const p = pool.prefill(1);
  g.calls[0]!.succeed();
  await p;
  const r = await pool.acquire(); // the refill starts now
  await tick(0);
  expect(g.calls).toHaveLength(2);
  await tick(1_000);
  expect(errors.map((e) => [e.operation, (e.error as CreateTimeoutError).code])).toEqual([['create', 'ERR_CREATE_TIMEOUT']]);
  const late = g.calls[1]!.succeed();
  await tick(0);
  expect(g.released).toEqual([late]);
  expect(pool.idle).toBe(0);
  pool.release(r);
  await pool.dispose();
});
