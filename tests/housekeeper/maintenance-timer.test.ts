/**
 * All maintenance (lifetime, idle timeout, leak detection, create retry) runs off one timer set
 * for the next deadline: no polling loop, nothing armed when nothing is due, every timer unref'd.
 */
import { jest } from '@jest/globals';
import { AsyncPool } from '../../src/index.js';
import { deferred, outcome } from '../helpers.js';
import { switchableFactory, tick, type Conn } from '../support.js';

describe('with fake timers', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  });
  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  test('many resources with idle, lifetime and leak deadlines share one timer', async () => {
    const f = switchableFactory();
    const pool = new AsyncPool<Conn>({
      factory: f.factory,
      releaser: f.releaser,
      maxSize: 50,
      acquireTimeoutMs: Infinity,
      idleTimeoutMs: 10_000,
      recycleMs: 60_000,
      leakDetectionMs: 30_000,
    });
    const held: Conn[] = [];
    for (let i = 0; i < 50; i++) {
      held.push(await pool.acquire());
      await tick(7); // spread the deadlines out
    }
    expect(jest.getTimerCount()).toBe(1);
    for (const r of held.splice(0, 25)) pool.release(r);
    expect(jest.getTimerCount()).toBe(1);
    await tick(10_000); // the released ones go idle-timeout; the timer re-arms for what is next
    expect(pool.idle).toBe(0);
    expect(jest.getTimerCount()).toBe(1);
    for (const r of held) pool.release(r);
    await pool.dispose();
  });

  test('no polling: once nothing is due, no timer is armed and the clock can run for a day', async () => {
    const f = switchableFactory();
    const pool = new AsyncPool<Conn>({ factory: f.factory, releaser: f.releaser, maxSize: 5, idleTimeoutMs: 1_000, recycleMs: Infinity });
    const all = await Promise.all(Array.from({ length: 5 }, () => pool.acquire()));
    for (const r of all) pool.release(r);
    await tick(30_000); // idle timeout closes them; the shared wait timer (acquireTimeoutMs) lapses
    expect(pool.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    const calls = f.calls;
    await tick(24 * 3_600_000);
    expect(f.calls).toBe(calls);
    expect(jest.getTimerCount()).toBe(0);
    await pool.dispose();
  });

  test('the timer is set for the next deadline, not a fixed tick: it fires exactly when something is due', async () => {
    const f = switchableFactory();
    const pool = new AsyncPool<Conn>({
      factory: f.factory,
      releaser: f.releaser,
      acquireTimeoutMs: Infinity,
      createTimeoutMs: Infinity,
      idleTimeoutMs: 5_000,
      recycleMs: Infinity,
    });
    const setTimeoutSpy = jest.spyOn(globalThis, 'setTimeout');
    pool.release(await pool.acquire());
    const delays = setTimeoutSpy.mock.calls.map((c) => c[1]);
    expect(delays).toEqual([5_000]);
    setTimeoutSpy.mockRestore();
    await pool.dispose();
  });
});

describe('with real timers', () => {
  /**
   * Collects the timers the pool arms. Only timers set from the library's own code count: the
   * process-wide count of ref'd timers (`process.getActiveResourcesInfo()`) also sees whatever
   * earlier test files left running in this jest worker.
   */
  function recordPoolTimers(): { handles: NodeJS.Timeout[]; restore(): void } {
    const handles: NodeJS.Timeout[] = [];
    const original = globalThis.setTimeout;
    const spy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((...args: Parameters<typeof setTimeout>) => {
      const handle = original(...args);
      if (/[\\/]src[\\/]/.test(new Error().stack ?? '')) handles.push(handle);
      return handle;
    }) as typeof setTimeout);
    return { handles, restore: () => spy.mockRestore() };
  }

  /**
   * Armed timers that keep the process alive. A cleared timer is left out: the pool ref()s a
   * timer just before clearing it (so Node frees its list at once), and Node has no public flag
   * for "still armed", hence `_destroyed`.
   */
  function keepingAlive(handles: NodeJS.Timeout[]): NodeJS.Timeout[] {
    return handles.filter((h) => h.hasRef() && !(h as unknown as { _destroyed: boolean })._destroyed);
  }

  test('a timer keeps the process alive only while someone awaits what it settles', async () => {
    const control = recordPoolTimers();
    const ref = setTimeout(() => {}, 60_000); // the measurement sees an armed ref'd timer...
    control.restore();
    expect(keepingAlive([ref])).toEqual([ref]);
    clearTimeout(ref);
    expect(keepingAlive([ref])).toEqual([]); // ...and not a cleared one
    const timers = recordPoolTimers();
    const hanging = deferred<boolean>();
    const creation = deferred<{ id: number }>();
    const closing = deferred();
    let creations = 0;
    const pool = new AsyncPool<{ id: number }>({
      factory: () => (++creations === 3 ? creation.promise : { id: creations }), // the third one hangs: a create timer
      releaser: () => closing.promise, // hangs: a destroy timer
      maxSize: 3,
      idleTimeoutMs: 60_000, // maintenance timer
      leakDetectionMs: 60_000,
      validate: () => hanging.promise, // validate timer
    });
    try {
      const a = await pool.acquire();
      const b = await pool.acquire();
      pool.release(b);
      // Lifetimes, idle eviction, leak detection: an idle pool holds nothing.
      expect(timers.handles.length).toBeGreaterThanOrEqual(1);
      expect(keepingAlive(timers.handles)).toEqual([]);
      const validating = outcome(pool.acquire({ timeoutMs: 60_000 })); // per-call wait timer
      const creatingOne = outcome(pool.acquire()); // shared wait timer
      const destroyed = pool.destroy(a); // destroy timer
      await new Promise((resolve) => setImmediate(resolve));
      expect(pool.creating).toBe(1);
      // maintenance, per-call wait, shared wait, create, validate and destroy timers...
      expect(timers.handles.length).toBeGreaterThanOrEqual(6);
      // ...of which the two waiters' timers hold the process: each acquire will settle.
      expect(keepingAlive(timers.handles)).toHaveLength(2);
      const before = timers.handles.length;
      const disposed = pool.dispose({ timeoutMs: 60_000 }); // the dispose timer, once draining begins
      await new Promise((resolve) => setImmediate(resolve));
      expect(timers.handles.length).toBe(before + 1);
      expect((await validating).ok).toBe(false);
      expect((await creatingOne).ok).toBe(false);
      // The waiters are gone; dispose() holds the process through its timer and those that bound
      // what it waits for (the creation, the validation, the releaser).
      expect(keepingAlive(timers.handles)).toHaveLength(4);
      hanging.resolve(true);
      creation.resolve({ id: 3 });
      closing.resolve();
      await destroyed;
      await disposed;
      expect(keepingAlive(timers.handles)).toEqual([]);
    } finally {
      timers.restore();
    }
  });
});
