import { AsyncPool, NotBorrowedError, ObjectPool } from '../../src/index.js';
import { tracked } from '../helpers.js';

describe('leases', () => {
  test('await using returns the resource at the end of the block', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory });
    {
      await using lease = await pool.borrow();
      expect(pool.borrowed).toBe(1);
      expect(lease.resource.id).toBe(1);
    }
    expect([pool.borrowed, pool.idle]).toEqual([0, 1]);
  });

  test('await using returns the resource when the block throws', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory });
    await expect(
      (async () => {
        await using lease = await pool.borrow();
        void lease;
        throw new Error('inside');
      })(),
    ).rejects.toThrow('inside');
    expect([pool.borrowed, pool.idle]).toEqual([0, 1]);
  });

  test('a lease destroyed inside the block is not released again', async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser });
    {
      await using lease = await pool.borrow();
      await lease.destroy();
      expect(lease.done).toBe(true);
    }
    expect([pool.size, t.released.length]).toEqual([0, 1]);
  });

  test('using returns an ObjectPool object at block end', () => {
    const pool = new ObjectPool({ factory: () => ({ n: 0 }) });
    {
      using lease = pool.borrow();
      lease.resource.n = 1;
      expect(pool.borrowed).toBe(1);
    }
    expect([pool.borrowed, pool.idle]).toEqual([0, 1]);
  });

  test('an ObjectPool lease names its object `resource`, as an AsyncPool lease does; `object` is a deprecated alias', () => {
    const made = { n: 0 };
    const pool = new ObjectPool({ factory: () => made });
    using lease = pool.borrow();
    expect(lease.resource).toBe(made);
    expect(lease.object).toBe(lease.resource);
  });
});

describe('a lease that is done', () => {
  test("refuses a second release, which would return someone else's borrow", async () => {
    const t = tracked();
    const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
    const lease = await pool.borrow();
    lease.release();
    const other = await pool.acquire(); // the same resource, now lent to someone else
    expect(() => lease.release()).toThrow(NotBorrowedError);
    await expect(lease.destroy()).rejects.toBeInstanceOf(NotBorrowedError);
    expect(pool.isBorrowed(other)).toBe(true);
  });

  test('a SyncLease refuses a second release too', () => {
    const pool = new ObjectPool({ factory: () => ({}) });
    const lease = pool.borrow();
    lease.release();
    const other = pool.acquire();
    expect(() => lease.release()).toThrow(NotBorrowedError);
    expect(pool.isBorrowed(other)).toBe(true);
  });
});
