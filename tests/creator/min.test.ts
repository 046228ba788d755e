/** min: a floor on live resources (idle + borrowed + being created), kept by background creation. */
import { AsyncPool, type PoolEvents } from '../../src/index.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

function poolWith(options: { min: number; maxSize?: number; minIdle?: number; maxIdle?: number; idleTimeoutMs?: number; recycleMs?: number; maxUses?: number }) {
  const f = switchableFactory();
  const events: string[] = [];
  const errors: PoolEvents<Conn>['error'][] = [];
  const pool = new AsyncPool<Conn>({
    factory: f.factory,
    releaser: f.releaser,
    recycleMs: Infinity,
    recycleJitter: 0,
    createRetry: { minDelayMs: 100, maxDelayMs: 100 },
    ...options,
  });
  pool.on('create', (e) => events.push(`create ${e.resource.id}`));
  pool.on('destroy', (e) => events.push(`destroy ${e.resource.id} ${e.reason}`));
  pool.on('error', (e) => errors.push(e));
  return { f, pool, events, errors };
}

test('the constructor creates nothing; the first acquire brings the pool up to min live resources', async () => {
  const { f, pool } = poolWith({ min: 3, maxSize: 5 });
  await tick(1_000);
  expect(f.calls).toBe(0);
  const r = await pool.acquire();
  await tick(0);
  expect(f.calls).toBe(3); // one for the caller, two to reach the floor: borrowed ones count
  expect([pool.size, pool.idle, pool.borrowed]).toEqual([3, 2, 1]);
  pool.release(r);
  await pool.dispose();
});

test('prefill() also arms the floor, and borrowing does not create more while live >= min', async () => {
  const { f, pool } = poolWith({ min: 2, maxSize: 4 });
  await pool.prefill(1);
  await tick(0);
  expect(pool.size).toBe(2);
  const a = await pool.acquire();
  const b = await pool.acquire();
  await tick(0);
  expect(f.calls).toBe(2); // both live ones are borrowed: the floor counts them, unlike minIdle
  pool.release(a);
  pool.release(b);
  await pool.dispose();
});

test('idleTimeoutMs never evicts below min', async () => {
  const { pool, events } = poolWith({ min: 1, maxSize: 3, idleTimeoutMs: 1_000 });
  const a = await pool.acquire();
  const b = await pool.acquire();
  const c = await pool.acquire();
  pool.release(a);
  pool.release(b);
  pool.release(c);
  await tick(5_000);
  expect([pool.size, pool.idle]).toEqual([1, 1]);
  expect(events.filter((e) => e.endsWith(' idle'))).toHaveLength(2);
  await pool.dispose();
});

test('a resource closed for its lifetime, for maxUses or by destroy() is replaced in the background', async () => {
  const { f, pool, events } = poolWith({ min: 1, maxSize: 2, recycleMs: 10_000, maxUses: 1 });
  const a = await pool.acquire();
  pool.release(a); // closed: maxUses 1
  await tick(0);
  expect(events).toEqual(['create 1', 'destroy 1 maxUses', 'create 2']);
  expect([pool.size, pool.idle]).toEqual([1, 1]);
  await tick(10_000); // resource 2 reaches its lifetime while idle
  expect(events.slice(3)).toEqual(['destroy 2 recycled', 'create 3']);
  const c = await pool.acquire();
  await pool.destroy(c);
  await tick(0);
  expect([pool.size, pool.idle]).toEqual([1, 1]);
  expect(f.calls).toBe(4);
  await pool.dispose();
});

test('a failing factory is retried with backoff, not in a loop, and reported through the error event', async () => {
  const { f, pool, errors } = poolWith({ min: 2, maxSize: 2 });
  const r = await pool.acquire();
  f.failing = true;
  await pool.destroy(r);
  await tick(0);
  const callsAfterFailure = f.calls;
  expect(errors.map((e) => e.operation)).toContain('create');
  await tick(50);
  expect(f.calls).toBe(callsAfterFailure); // backing off
  f.failing = false;
  await tick(1_000);
  expect(pool.size).toBe(2);
  await pool.dispose();
});

test('min and minIdle together: the floor and the idle reserve are both kept', async () => {
  const { pool } = poolWith({ min: 3, minIdle: 1, maxSize: 5 });
  const held = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
  await tick(0);
  expect([pool.size, pool.idle, pool.borrowed]).toEqual([4, 1, 3]);
  for (const r of held) pool.release(r);
  await pool.dispose();
});

test('dispose() stops the floor: nothing is created after it', async () => {
  const { f, pool } = poolWith({ min: 2, maxSize: 2 });
  const r = await pool.acquire();
  await tick(0);
  await pool.destroy(r); // starts a replacement
  const before = f.calls;
  await pool.dispose(); // the replacement is closed when it arrives, and not replaced
  await tick(1_000);
  expect(f.calls).toBe(before);
  expect(pool.size).toBe(0);
});

test('a listener that clears the pool from a destroy event does not make the floor overshoot', async () => {
  const { pool } = poolWith({ min: 2, maxSize: 3 });
  let cleared = false;
  pool.on('destroy', () => {
    if (!cleared) {
      cleared = true;
      pool.clear();
    }
  });
  const r = await pool.acquire();
  await tick(0);
  await pool.destroy(r);
  await tick(0);
  expect(pool.size).toBe(2);
  expect(pool.size).toBeLessThanOrEqual(pool.maxSize);
  await pool.dispose();
});

describe('option checks', () => {
  test.each([
    [-1, RangeError],
    [1.5, RangeError],
    [Infinity, RangeError],
    ['2', TypeError],
    [NaN, RangeError],
  ])('min: %p is rejected', (min, Kind) => {
    expect(() => new AsyncPool({ factory: () => ({}), min: min as number })).toThrow(Kind);
    expect(() => new AsyncPool({ factory: () => ({}), min: min as number })).toThrow(/"min"/);
  });

  test('min above maxSize is rejected, naming both', () => {
    expect(() => new AsyncPool({ factory: () => ({}), maxSize: 2, min: 3 })).toThrow(/"min" must be <= maxSize \(2\); got 3/);
  });

  test('min 0 is the default and min = maxSize is allowed', () => {
    expect(() => new AsyncPool({ factory: () => ({}), maxSize: 2, min: 2 })).not.toThrow();
  });
});
