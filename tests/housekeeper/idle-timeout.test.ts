/** idleTimeoutMs: resources idle longer are closed (reason idle), oldest-idle first, never below minIdle. */
import { jest } from '@jest/globals';
import { AsyncPool, type DestroyReason } from '../../src/index.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

function poolWith(options: { idleTimeoutMs?: number; minIdle?: number; maxSize?: number; strategy?: 'lifo' | 'fifo' }) {
  const f = switchableFactory();
  const reasons: [number, DestroyReason][] = [];
  const pool = new AsyncPool<Conn>({
    factory: f.factory,
    releaser: f.releaser,
    recycleMs: Infinity,
    acquireTimeoutMs: Infinity,
    ...options,
  });
  pool.on('destroy', (e) => reasons.push([e.resource.id, e.reason]));
  return { f, pool, reasons };
}

async function borrowAll(pool: AsyncPool<Conn>, n: number): Promise<Conn[]> {
  const out: Conn[] = [];
  for (let i = 0; i < n; i++) out.push(await pool.acquire());
  return out;
}

test('closes a resource idle longer than idleTimeoutMs, not a millisecond before', async () => {
  const { f, pool, reasons } = poolWith({ idleTimeoutMs: 1_000 });
  const r = await pool.acquire();
  await tick(5_000); // borrowed time does not count
  pool.release(r);
  await tick(999);
  expect(pool.idle).toBe(1);
  await tick(1);
  expect(pool.idle).toBe(0);
  expect(reasons).toEqual([[1, 'idle']]);
  expect(f.released).toEqual([r]);
  expect(pool.stats().destroyed.idle).toBe(1);
  expect(pool.size).toBe(0);
  await pool.dispose();
});

test('being borrowed again restarts the idle clock', async () => {
  const { pool, reasons } = poolWith({ idleTimeoutMs: 1_000 });
  const r = await pool.acquire();
  pool.release(r);
  await tick(800);
  pool.release(await pool.acquire()); // idle again since t = 800
  await tick(800); // t = 1 600: idle 800 ms only
  expect(pool.idle).toBe(1);
  expect(reasons).toEqual([]);
  await tick(200);
  expect(reasons).toEqual([[1, 'idle']]);
  await pool.dispose();
});

test('evicts oldest-idle first, each at its own deadline', async () => {
  const { pool, reasons } = poolWith({ idleTimeoutMs: 1_000, strategy: 'fifo' });
  const [a, b, c] = await borrowAll(pool, 3);
  pool.release(b!); // t = 0
  await tick(300);
  pool.release(c!); // t = 300
  await tick(300);
  pool.release(a!); // t = 600
  await tick(400); // t = 1 000
  expect(reasons).toEqual([[2, 'idle']]);
  await tick(300); // t = 1 300
  expect(reasons).toEqual([[2, 'idle'], [3, 'idle']]);
  await tick(300); // t = 1 600
  expect(reasons).toEqual([[2, 'idle'], [3, 'idle'], [1, 'idle']]);
  await pool.dispose();
});

test('never goes below minIdle', async () => {
  const { f, pool, reasons } = poolWith({ idleTimeoutMs: 1_000, minIdle: 2, maxSize: 5 });
  const all = await borrowAll(pool, 5);
  for (const r of all) pool.release(r);
  expect(pool.idle).toBe(5);
  await tick(10_000);
  expect(pool.idle).toBe(2);
  // The oldest-idle (first released) went first; the two most recently idle stay.
  expect(reasons).toEqual(all.slice(0, 3).map((r) => [r.id, 'idle']));
  expect(f.calls).toBe(5); // nothing was re-created
  await tick(60_000);
  expect(pool.idle).toBe(2);
  expect(jest.getTimerCount()).toBe(0); // nothing due: no timer keeps ticking for the two kept
  await pool.dispose();
});

test('is off by default: idle resources stay, and no timer is armed for them', async () => {
  const { pool, reasons } = poolWith({});
  const all = await borrowAll(pool, 3);
  for (const r of all) pool.release(r);
  expect(jest.getTimerCount()).toBe(0);
  await tick(24 * 3_600_000);
  expect(pool.idle).toBe(3);
  expect(reasons).toEqual([]);
  await pool.dispose();
});
