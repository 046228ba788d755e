/**
 * clear(), dispose() and lifetimes ending together close several idle resources one after the
 * other. User code each close runs (destroy listeners, releasers) may retire, acquire or count the
 * others: each is closed once, none is handed out, and the counts add up at every step.
 */
import { AsyncPool } from '../../src/index.js';
import { flush } from '../helpers.js';
import { tick, useFakeClock } from '../support.js';

interface R {
  id: number;
}

/** A pool with three idle resources; the releaser counts its calls per resource. */
async function poolOfThree(extra: Record<string, unknown> = {}, onRelease?: (r: R, all: R[]) => void) {
  let next = 0;
  const calls = new Map<number, number>();
  const all: R[] = [];
  const pool = new AsyncPool<R>({
    factory: () => {
      const r = { id: ++next };
      all.push(r);
      return r;
    },
    releaser: (r) => {
      calls.set(r.id, (calls.get(r.id) ?? 0) + 1);
      onRelease?.(r, all);
    },
    maxSize: 3,
    ...extra,
  });
  await pool.prefill(3);
  return { pool, calls, all };
}

/** On the first destroy event, retires every other resource. */
function retireOthersOnFirstDestroy(pool: AsyncPool<R>, all: R[]): boolean[] {
  const answers: boolean[] = [];
  let first = true;
  pool.on('destroy', (e) => {
    if (!first) return;
    first = false;
    for (const r of all) if (r !== e.resource) answers.push(pool.retire(r));
  });
  return answers;
}

describe('clear()', () => {
  test('a destroy listener retiring the other idle resources: each releaser runs once', async () => {
    const { pool, calls, all } = await poolOfThree();
    const answers = retireOthersOnFirstDestroy(pool, all);
    pool.clear();
    await flush();
    expect([...calls.values()]).toEqual([1, 1, 1]);
    expect(pool.stats().destroyed.total).toBe(3);
    expect(pool.stats().destroyed.cleared).toBe(3);
    expect(answers).toEqual([true, true]); // held by the pool, on their way out
    await pool.dispose();
  });

  test('a releaser retiring another idle resource: its releaser runs once', async () => {
    const { pool, calls, all } = await poolOfThree({}, (r, rs) => {
      if (r === rs[0]) pool.retire(rs[1]!);
    });
    pool.clear();
    await flush();
    expect([...calls.values()]).toEqual([1, 1, 1]);
    await pool.dispose();
  });

  test('a destroy listener that acquires gets a fresh resource, never one being closed', async () => {
    const { pool, all } = await poolOfThree();
    let got: Promise<R> | undefined;
    pool.on('destroy', () => {
      got ??= pool.acquire();
    });
    pool.clear();
    const r = await got!;
    expect(all.slice(0, 3)).not.toContain(r);
    pool.release(r);
    await pool.dispose();
  });

  test('counts seen from a destroy listener add up: created = destroyed + size', async () => {
    const { pool } = await poolOfThree();
    const seen: number[] = [];
    pool.on('destroy', () => {
      const s = pool.stats();
      seen.push(s.created - s.destroyed.total - pool.size);
    });
    pool.clear();
    expect(seen).toEqual([0, 0, 0]);
    await pool.dispose();
  });
});

test('dispose(): counts seen from a destroy listener add up, and each releaser runs once', async () => {
  const { pool, calls, all } = await poolOfThree();
  const seen: number[] = [];
  pool.on('destroy', () => {
    const s = pool.stats();
    seen.push(s.created - s.destroyed.total - pool.size);
  });
  const answers = retireOthersOnFirstDestroy(pool, all);
  await pool.dispose();
  expect(seen).toEqual([0, 0, 0]);
  expect([...calls.values()]).toEqual([1, 1, 1]);
  expect(answers).toEqual([false, false]); // dispose() was called
});

describe('lifetimes ending together', () => {
  useFakeClock();

  test('a destroy listener retiring the others: each expired resource is closed once', async () => {
    const { pool, calls, all } = await poolOfThree({ recycleMs: 1_000, recycleJitter: 0 });
    retireOthersOnFirstDestroy(pool, all);
    await tick(1_001);
    await flush();
    expect([...calls.values()]).toEqual([1, 1, 1]);
    expect(pool.stats().destroyed.recycled).toBe(3);
    await pool.dispose();
  });
});
