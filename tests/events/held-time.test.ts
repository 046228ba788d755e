/**
 * `heldMs` on `release` and on `destroy()` of a borrowed resource, and what it costs: the borrow
 * time is taken only while a `release` or `destroy` listener is attached (or leak detection
 * needs it), so an unobserved pool reads no clock and builds no payload per acquire/release.
 */
import { jest } from '@jest/globals';
import { AsyncPool } from '../../src/index.js';
import { Emitter } from '../../src/events.js';
import { tick, useFakeClock } from '../support.js';

interface Res {
  readonly id: number;
}

function newPool(options: { leakDetectionMs?: number } = {}): AsyncPool<Res> {
  let next = 0;
  return new AsyncPool<Res>({ factory: () => ({ id: ++next }), maxSize: 2, recycleMs: Infinity, ...options });
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('cost when nobody listens (counted, not timed)', () => {
  /** Acquires and releases `n` times on the immediate path; returns performance.now() and emit() calls. */
  async function cycle(pool: AsyncPool<Res>, n: number): Promise<{ clock: number; emits: number }> {
    const clock = jest.spyOn(performance, 'now');
    const emit = jest.spyOn(Emitter.prototype, 'emit');
    for (let i = 0; i < n; i++) {
      const r = await pool.acquire();
      pool.release(r);
    }
    const counts = { clock: clock.mock.calls.length, emits: emit.mock.calls.length };
    clock.mockRestore();
    emit.mockRestore();
    return counts;
  }

  test('no listener: acquire/release reads no clock and emits (so allocates) no payload', async () => {
    const pool = newPool();
    await pool.prefill();
    expect(await cycle(pool, 100)).toEqual({ clock: 0, emits: 0 });
    // An acquire listener alone needs no clock either (waitedMs is 0 on this path).
    const onAcquire = jest.fn();
    pool.on('acquire', onAcquire);
    expect(await cycle(pool, 100)).toEqual({ clock: 0, emits: 100 });
    await pool.dispose();
  });

  test('a release listener costs two clock reads per borrow, and nothing once removed', async () => {
    const pool = newPool();
    await pool.prefill();
    const onRelease = jest.fn();
    pool.on('release', onRelease);
    expect(await cycle(pool, 50)).toEqual({ clock: 100, emits: 50 }); // stamp at checkout, read at release
    pool.off('release', onRelease);
    expect(await cycle(pool, 50)).toEqual({ clock: 0, emits: 0 });
    const onDestroy = jest.fn();
    pool.on('destroy', onDestroy); // a destroy listener also stamps: destroy() may report heldMs
    expect((await cycle(pool, 10)).clock).toBe(10);
    pool.off('destroy', onDestroy);
    expect(await cycle(pool, 10)).toEqual({ clock: 0, emits: 0 });
    await pool.dispose();
  });

  test('removeListener() turns the clock reads off like off()', async () => {
    const pool = newPool();
    await pool.prefill();
    const onRelease = jest.fn();
    pool.on('release', onRelease);
    pool.removeListener('release', onRelease);
    expect(await cycle(pool, 10)).toEqual({ clock: 0, emits: 0 });
    const onDestroy = jest.fn();
    pool.on('destroy', onDestroy);
    pool.removeListener('destroy', onDestroy);
    expect(await cycle(pool, 10)).toEqual({ clock: 0, emits: 0 });
    expect(onRelease).not.toHaveBeenCalled();
    await pool.dispose();
  });

  test('a once() release listener stamps the borrow it reports, and no borrow after it has fired', async () => {
    const pool = newPool();
    await pool.prefill();
    const onRelease = jest.fn();
    pool.once('release', onRelease);
    // Stamped at checkout, read at release; the listener then removes itself.
    expect(await cycle(pool, 1)).toEqual({ clock: 2, emits: 1 });
    expect(await cycle(pool, 10)).toEqual({ clock: 0, emits: 0 });
    // A once() listener removed before it fired leaves no clock reads behind either.
    const never = jest.fn();
    pool.once('release', never);
    pool.off('release', never);
    expect(await cycle(pool, 10)).toEqual({ clock: 0, emits: 0 });
    pool.once('destroy', never);
    pool.removeListener('destroy', never);
    expect(await cycle(pool, 10)).toEqual({ clock: 0, emits: 0 });
    expect(onRelease).toHaveBeenCalledTimes(1);
    expect(never).not.toHaveBeenCalled();
    await pool.dispose();
  });
});

describe('heldMs values', () => {
  useFakeClock();

  test('release reports how long the resource was borrowed; destroy() of a borrowed one too', async () => {
    const pool = newPool();
    const released: (number | undefined)[] = [];
    const destroyed: [string, number | undefined][] = [];
    pool.on('release', (e) => released.push(e.heldMs));
    pool.on('destroy', (e) => destroyed.push([e.reason, e.heldMs]));
    const a = await pool.acquire();
    await tick(25);
    pool.release(a);
    const b = await pool.acquire();
    pool.release(b); // 0 ms
    const c = await pool.acquire();
    await tick(2 ** 31); // beyond a 32-bit timer delay
    await pool.destroy(c);
    expect(released).toEqual([25, 0]);
    expect(destroyed).toEqual([['destroyed', 2 ** 31]]);
    await pool.dispose();
    // Closed by dispose, not by a caller: no use time.
    expect(destroyed.slice(1).every(([reason, held]) => reason === 'disposed' && held === undefined)).toBe(true);
  });

  test('a listener added with once() gets heldMs, on release and on destroy() of a borrowed resource', async () => {
    const pool = newPool();
    const released: (number | undefined)[] = [];
    const destroyed: (number | undefined)[] = [];
    pool.once('release', (e) => released.push(e.heldMs));
    const a = await pool.acquire();
    await tick(25);
    pool.release(a);
    pool.once('destroy', (e) => destroyed.push(e.heldMs));
    const b = await pool.acquire();
    await tick(40);
    await pool.destroy(b);
    expect(released).toEqual([25]);
    expect(destroyed).toEqual([40]);
    await pool.dispose();
  });

  test('a borrow that began unobserved reports undefined, also after the listener comes and goes', async () => {
    const pool = newPool();
    const held: (number | undefined)[] = [];
    const listener = (e: { heldMs: number | undefined }): void => void held.push(e.heldMs);
    const a = await pool.acquire(); // nobody listening: no stamp
    await tick(10);
    pool.on('release', listener);
    pool.release(a);
    const b = await pool.acquire(); // stamped
    pool.release(b);
    pool.off('release', listener);
    const c = await pool.acquire(); // the same record (LIFO), not stamped: its old stamp must not be used
    expect(c).toBe(b);
    await tick(10);
    pool.on('release', listener);
    pool.release(c);
    expect(held).toEqual([undefined, 0, undefined]);
    await pool.dispose();
  });

  test('with leak detection the borrow time is already taken, so a late listener still gets heldMs', async () => {
    const pool = newPool({ leakDetectionMs: 60_000 });
    const a = await pool.acquire();
    await tick(7);
    const held: (number | undefined)[] = [];
    pool.on('release', (e) => held.push(e.heldMs));
    pool.release(a);
    expect(held).toEqual([7]);
    await pool.dispose();
  });

  test('a release listener that re-enters the pool sees consistent times', async () => {
    const pool = newPool();
    const held: (number | undefined)[] = [];
    let again: Res | undefined;
    pool.on('release', (e) => {
      held.push(e.heldMs);
      if (again === undefined) {
        // Synchronously borrow the other resource and give it back at once.
        void pool.acquire().then((r) => {
          again = r;
          pool.release(r);
        });
      }
    });
    const a = await pool.acquire();
    await tick(3);
    pool.release(a);
    await tick(0);
    expect(again).toBeDefined();
    expect(held).toEqual([3, 0]);
    await pool.dispose();
  });
});
