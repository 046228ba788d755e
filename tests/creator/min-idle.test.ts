/** minIdle: keep at least this many idle resources ready, within maxSize, refilled in the background. */
import { AsyncPool, type PoolEvents } from '../../src/index.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

function poolWith(options: { minIdle: number; maxSize?: number; maxIdle?: number; recycleMs?: number }) {
  const f = switchableFactory();
  const events: string[] = [];
  const errors: PoolEvents<Conn>['error'][] = [];
  const pool = new AsyncPool<Conn>({
    factory: f.factory,
    releaser: f.releaser,
    recycleMs: Infinity,
    recycleJitter: 0,
    ...options,
  });
  pool.on('create', (e) => events.push(`create ${e.resource.id}`));
  pool.on('destroy', (e) => events.push(`destroy ${e.resource.id} ${e.reason}`));
  pool.on('error', (e) => errors.push(e));
  return { f, pool, events, errors };
}

test('prefill() at start creates minIdle resources when maxIdle is unbounded', async () => {
  const { f, pool } = poolWith({ minIdle: 3, maxSize: Infinity });
  await pool.prefill();
  expect(f.calls).toBe(3);
  expect([pool.size, pool.idle]).toEqual([3, 3]);
  await pool.dispose();
});

test('an acquire that takes an idle one is followed by a background refill up to minIdle', async () => {
  const { f, pool } = poolWith({ minIdle: 2, maxSize: 5 });
  await pool.prefill(2);
  const r = await pool.acquire();
  await tick(0);
  expect([pool.size, pool.idle, pool.borrowed]).toEqual([3, 2, 1]);
  expect(f.calls).toBe(3);
  pool.release(r);
  await tick(0);
  expect([pool.size, pool.idle]).toEqual([3, 3]); // above minIdle is fine: nothing is closed for it
  await pool.dispose();
});

test('stays within maxSize: no refill when every slot is borrowed', async () => {
  const { f, pool } = poolWith({ minIdle: 2, maxSize: 2 });
  await pool.prefill(2);
  const a = await pool.acquire();
  const b = await pool.acquire();
  await tick(1_000);
  expect(f.calls).toBe(2);
  expect([pool.size, pool.idle, pool.creating]).toEqual([2, 0, 0]);
  pool.release(a);
  pool.release(b);
  await pool.dispose();
});

test('refills after destroy()', async () => {
  const { f, pool, events } = poolWith({ minIdle: 2, maxSize: 2 });
  await pool.prefill(2);
  const a = await pool.acquire();
  const b = await pool.acquire();
  await pool.destroy(a);
  await tick(0);
  expect(events.slice(-2)).toEqual([`destroy ${a.id} destroyed`, 'create 3']);
  expect([pool.size, pool.idle, pool.borrowed]).toEqual([2, 1, 1]);
  expect(f.calls).toBe(3);
  pool.release(b);
  await pool.dispose();
});

test('refills after recycling', async () => {
  const { pool, events } = poolWith({ minIdle: 2, maxSize: 4, recycleMs: 1_000 });
  await pool.prefill(2);
  events.length = 0;
  await tick(999);
  expect(events).toEqual([]);
  await tick(1);
  expect(events).toEqual(['destroy 1 recycled', 'destroy 2 recycled', 'create 3', 'create 4']);
  expect([pool.size, pool.idle]).toEqual([2, 2]);
  expect(pool.stats().destroyed.recycled).toBe(2);
  await pool.dispose();
});

test('an overflowing release is closed; minIdle is kept without churn', async () => {
  const { f, pool } = poolWith({ minIdle: 1, maxIdle: 1, maxSize: 3 });
  await pool.prefill(1);
  const a = await pool.acquire();
  const b = await pool.acquire();
  await tick(0);
  expect([pool.idle, pool.borrowed]).toEqual([1, 2]);
  pool.release(a); // idle is full: closed as overflow
  pool.release(b); // same
  await tick(0);
  expect(pool.stats().destroyed.overflow).toBe(2);
  expect([pool.size, pool.idle]).toEqual([1, 1]);
  const calls = f.calls;
  await tick(1_000);
  expect(f.calls).toBe(calls); // no churn: the idle one is kept, nothing more is made
  await pool.dispose();
});

test('a failing refill is reported as an error event {operation: create}, never to a caller', async () => {
  const { f, pool, errors } = poolWith({ minIdle: 1, maxSize: 2 });
  await pool.prefill(1);
  f.failing = true;
  const r = await pool.acquire(); // takes the idle one; the refill fails in the background
  await tick(0);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.operation).toBe('create');
  expect(errors[0]!.error).toBe(f.errors[0]);
  expect(errors[0]!.resource).toBeUndefined();
  expect(pool.stats().createFailed).toBe(1);
  expect(pool.stats().rejectedCreateFailed).toBe(0);
  f.failing = false;
  await tick(10_000); // the backoff ends and the refill succeeds
  expect([pool.idle, pool.borrowed]).toEqual([1, 1]);
  pool.release(r);
  await pool.dispose();
});
