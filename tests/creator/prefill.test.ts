import { AsyncPool } from '../../src/index.js';
import { outcome, tracked } from '../helpers.js';

describe('prefill', () => {
  test('creates resources until count are live, at most createConcurrency at once', async () => {
    let inFlight = 0;
    let peak = 0;
    let n = 0;
    const pool = new AsyncPool({
      maxSize: 10,
      createConcurrency: 3,
      factory: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return { id: ++n };
      },
    });
    const held = await pool.acquire();
    await pool.prefill(8);
    expect([pool.size, pool.idle, peak, n]).toEqual([8, 7, 3, 8]);
    pool.release(held);
  });

  test('defaults to maxIdle', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 6, maxIdle: 4 });
    await pool.prefill();
    expect(pool.idle).toBe(4);
  });

  test('rejects with the factory error; resources already created stay', async () => {
    let n = 0;
    const pool = new AsyncPool({
      maxSize: 5,
      createConcurrency: 1,
      factory: async () => {
        n++;
        if (n === 3) throw new Error('third failed');
        return { id: n };
      },
    });
    const result = await outcome(pool.prefill(5));
    expect(!result.ok && result.error.message).toBe('third failed');
    expect(pool.idle).toBe(4);
  });

  test.each([[-1], [1.5], [6]])('prefill(%p) is a RangeError naming count', async (count) => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 5 });
    await expect(pool.prefill(count)).rejects.toThrow(/"count"/);
    await expect(pool.prefill(count)).rejects.toBeInstanceOf(RangeError);
    expect(pool.size).toBe(0);
  });
});
