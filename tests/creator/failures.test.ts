import { jest } from '@jest/globals';
import { AsyncPool } from '../../src/index.js';
import { FAKE_TIMERS_CONFIG, flush, outcome, tracked } from '../helpers.js';

describe('factory failures', () => {
  test.each([
    ['throws', () => { throw new Error('no'); }],
    ['rejects', async () => { throw new Error('no'); }],
  ])('a factory that %s: the caller gets its error, the slot is freed, the next acquire retries', async (_, failing) => {
    let fail = true;
    let n = 0;
    const pool = new AsyncPool({ maxSize: 1, factory: () => (fail ? failing() : { id: ++n }) });
    const result = await outcome(pool.acquire());
    expect(!result.ok && result.error.message).toBe('no');
    expect([pool.size, pool.creating, pool.pending]).toEqual([0, 0, 0]);
    fail = false;
    expect(await pool.acquire()).toEqual({ id: 1 });
  });

  test('failures never eat slots: after maxSize failures, acquire still works', async () => {
    let calls = 0;
    const pool = new AsyncPool({
      maxSize: 3,
      factory: async () => {
        calls++;
        if (calls <= 3) throw new Error(`failure ${calls}`);
        return { id: calls };
      },
    });
    for (let i = 1; i <= 3; i++) expect((await outcome(pool.acquire())).ok).toBe(false);
    expect(pool.size).toBe(0);
    const rs = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(rs.map((r) => r.id).sort()).toEqual([4, 5, 6]);
  });

  test('no waiter is left hanging when every creation fails', async () => {
    const pool = new AsyncPool({ maxSize: 2, acquireTimeoutMs: Infinity, factory: async () => { throw new Error('down'); } });
    const results = await Promise.all(Array.from({ length: 20 }, () => outcome(pool.acquire())));
    expect(results.every((r) => !r.ok && r.error.message === 'down')).toBe(true);
    expect([pool.size, pool.pending]).toEqual([0, 0]);
    expect(pool.stats().createFailed).toBe(20);
  });

  test('a factory that returns nothing is a creation failure with a TypeError', async () => {
    const pool = new AsyncPool<object>({ factory: () => undefined as unknown as object });
    const result = await outcome(pool.acquire());
    expect(!result.ok && result.error).toBeInstanceOf(TypeError);
    expect(pool.size).toBe(0);
  });
});

describe('releaser failures', () => {
  let unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  test.each([
    ['throws', (): void => { throw new Error('close failed'); }],
    ['rejects', async (): Promise<void> => { throw new Error('close failed'); }],
  ])('a releaser that %s: reported as an error event; the resource still leaves the pool', async (_, releaser) => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser });
    const events: unknown[] = [];
    pool.on('error', (e) => events.push(e));
    const r = await pool.acquire();
    await pool.destroy(r); // resolves even though the releaser failed
    await flush();
    expect(events).toEqual([{ error: new Error('close failed'), operation: 'destroy', resource: r }]);
    expect([pool.size, pool.stats().destroyFailed]).toEqual([0, 1]);
    expect(unhandled).toEqual([]);
  });

  test('with no error listener, a failing releaser throws nothing anywhere', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: async () => { throw new Error('close failed'); } });
    const rs = await Promise.all([pool.acquire(), pool.acquire()]);
    await pool.destroy(rs[0]!);
    pool.release(rs[1]!);
    await pool.dispose();
    await flush();
    expect(unhandled).toEqual([]);
    expect(pool.stats().destroyFailed).toBe(2);
  });

  test('a hanging releaser is abandoned after destroyTimeoutMs', async () => {
    jest.useFakeTimers(FAKE_TIMERS_CONFIG);
    try {
      const t = tracked();
      const pool = new AsyncPool({ factory: t.factory, releaser: () => new Promise<void>(() => {}), destroyTimeoutMs: 500 });
      const errors: unknown[] = [];
      pool.on('error', ({ error }) => errors.push(error));
      const r = await pool.acquire();
      let destroyed = false;
      void pool.destroy(r).then(() => { destroyed = true; });
      await jest.advanceTimersByTimeAsync(499);
      expect(destroyed).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(destroyed).toBe(true);
      expect(errors).toHaveLength(1);
      expect((errors[0] as { code: string }).code).toBe('ERR_DESTROY_TIMEOUT');
    } finally {
      jest.useRealTimers();
    }
  });
});
