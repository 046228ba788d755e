/** leakDetectionMs: a resource borrowed too long raises one leak event with the stack of its acquire(). */
import { jest } from '@jest/globals';
import { AsyncPool, type PoolEvents } from '../../src/index.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

function poolWith(options: { leakDetectionMs?: number; maxSize?: number }) {
  const f = switchableFactory();
  const leaks: PoolEvents<Conn>['leak'][] = [];
  const pool = new AsyncPool<Conn>({ factory: f.factory, releaser: f.releaser, recycleMs: Infinity, acquireTimeoutMs: Infinity, ...options });
  pool.on('leak', (e) => leaks.push(e));
  return { f, pool, leaks };
}

// Named call sites, so the captured stacks can be recognised.
function borrowForTheReport(pool: AsyncPool<Conn>): Promise<Conn> {
  return pool.acquire();
}
function borrowForTheInvoice(pool: AsyncPool<Conn>): Promise<Conn> {
  return pool.acquire();
}

test('one leak event per borrow, at leakDetectionMs, with the stack captured at the acquire() call', async () => {
  const { pool, leaks } = poolWith({ leakDetectionMs: 2_000 });
  const r = await borrowForTheReport(pool); // waited for a creation
  await tick(1_999);
  expect(leaks).toEqual([]);
  await tick(1);
  expect(leaks).toHaveLength(1);
  expect(leaks[0]!.resource).toBe(r);
  expect(leaks[0]!.borrowedMs).toBe(2_000);
  expect(leaks[0]!.stack).toContain('borrowForTheReport');
  await tick(60_000);
  expect(leaks).toHaveLength(1); // reported once, not repeatedly
  expect(pool.stats().leaks).toBe(1);
  expect(jest.getTimerCount()).toBe(0);
  pool.release(r);
  await pool.dispose();
});

test('a resource handed out at once from idle carries the stack of that acquire() call', async () => {
  const { pool, leaks } = poolWith({ leakDetectionMs: 1_000 });
  pool.release(await borrowForTheReport(pool));
  const r = await borrowForTheInvoice(pool); // the hot path: idle, nobody waiting
  await tick(1_000);
  expect(leaks.map((l) => l.resource)).toEqual([r]);
  expect(leaks[0]!.stack).toContain('borrowForTheInvoice');
  expect(leaks[0]!.stack).not.toContain('borrowForTheReport');
  pool.release(r);
  await pool.dispose();
});

test('a resource released in time raises nothing; the next borrow is timed afresh', async () => {
  const { pool, leaks } = poolWith({ leakDetectionMs: 1_000 });
  const r = await pool.acquire();
  await tick(999);
  pool.release(r);
  await tick(5_000);
  expect(leaks).toEqual([]);
  const again = await pool.acquire(); // t = 5 999
  expect(again).toBe(r);
  await tick(999);
  expect(leaks).toEqual([]);
  await tick(1);
  expect(leaks.map((l) => [l.resource, l.borrowedMs])).toEqual([[r, 1_000]]);
  pool.release(r);
  await pool.dispose();
});

test('each of several borrowed resources is reported at its own deadline', async () => {
  const { pool, leaks } = poolWith({ leakDetectionMs: 1_000 });
  const a = await pool.acquire();
  await tick(300);
  const b = await pool.acquire();
  await tick(700);
  expect(leaks.map((l) => l.resource)).toEqual([a]);
  await tick(300);
  expect(leaks.map((l) => l.resource)).toEqual([a, b]);
  pool.release(a);
  pool.release(b);
  await pool.dispose();
});

test('counted in stats even with no listener', async () => {
  const f = switchableFactory();
  const pool = new AsyncPool<Conn>({ factory: f.factory, leakDetectionMs: 500 });
  const r = await pool.acquire();
  await tick(500);
  expect(pool.stats().leaks).toBe(1);
  pool.release(r);
  await pool.dispose();
});

describe('off by default', () => {
  /** Counts `new Error(…)` evaluated by any module while `fn` runs. */
  async function errorsConstructedDuring(fn: () => Promise<void>): Promise<number> {
    const RealError = globalThis.Error;
    let constructed = 0;
    globalThis.Error = new Proxy(RealError, {
      construct(target, args, newTarget) {
        constructed++;
        return Reflect.construct(target, args, newTarget) as object;
      },
    });
    try {
      await fn();
    } finally {
      globalThis.Error = RealError;
    }
    return constructed;
  }

  async function borrowTwice(pool: AsyncPool<Conn>): Promise<void> {
    const r = await pool.acquire(); // waits for a creation
    pool.release(r);
    pool.release(await pool.acquire()); // from idle
  }

  test('no stack is captured per acquire, and no timer is armed', async () => {
    const { pool, leaks } = poolWith({});
    expect(await errorsConstructedDuring(() => borrowTwice(pool))).toBe(0);
    const r = await pool.acquire();
    expect(jest.getTimerCount()).toBe(0);
    await tick(24 * 3_600_000);
    expect(leaks).toEqual([]);
    pool.release(r);
    await pool.dispose();
  });

  test('(the same measurement sees the stacks when it is on)', async () => {
    const { pool } = poolWith({ leakDetectionMs: 60_000 });
    expect(await errorsConstructedDuring(() => borrowTwice(pool))).toBe(2);
    await pool.dispose();
  });
});
