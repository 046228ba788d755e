import { AsyncPool, NotBorrowedError, ObjectPool } from '../../src/index.js';

describe('ObjectPool', () => {
  test('reuses released objects and builds new ones when none is idle', () => {
    let built = 0;
    const pool = new ObjectPool({ factory: () => ({ id: ++built }) });
    const a = pool.acquire();
    const b = pool.acquire();
    expect([a.id, b.id]).toEqual([1, 2]);
    pool.release(a);
    expect(pool.acquire()).toBe(a);
    expect(built).toBe(2);
  });

  test('never caps the objects out, and keeps at most maxIdle idle', () => {
    const pool = new ObjectPool({ factory: () => ({}), maxIdle: 2 });
    const objects = Array.from({ length: 5 }, () => pool.acquire());
    expect(pool.borrowed).toBe(5);
    for (const o of objects) pool.release(o);
    expect([pool.idle, pool.borrowed]).toEqual([2, 0]);
  });

  test('runs reset on release; an object whose reset throws is dropped and the error thrown', () => {
    const pool = new ObjectPool({
      factory: () => ({ data: [] as number[], poisoned: false }),
      reset: (o) => {
        if (o.poisoned) throw new Error('cannot reset');
        o.data.length = 0;
      },
    });
    const a = pool.acquire();
    a.data.push(1);
    pool.release(a);
    expect(a.data).toEqual([]);
    const b = pool.acquire();
    b.poisoned = true;
    expect(() => pool.release(b)).toThrow('cannot reset');
    expect([pool.idle, pool.borrowed]).toEqual([0, 0]);
  });

  test('releasing twice or releasing a foreign object throws NotBorrowedError', () => {
    const pool = new ObjectPool({ factory: () => ({}) });
    const a = pool.acquire();
    pool.release(a);
    expect(() => pool.release(a)).toThrow(NotBorrowedError);
    expect(() => pool.release({})).toThrow(NotBorrowedError);
    expect(pool.idle).toBe(1);
  });

  test('use releases after the callback, also when it throws', () => {
    const pool = new ObjectPool({ factory: () => ({}) });
    expect(pool.use(() => 7)).toBe(7);
    expect(() => pool.use(() => { throw new Error('x'); })).toThrow('x');
    expect([pool.idle, pool.borrowed]).toEqual([1, 0]);
  });

  test.each([
    [{}, /"factory"/],
    [{ factory: () => ({}), maxIdle: -1 }, /"maxIdle"/],
    [{ factory: () => ({}), maxIdel: 3 }, /"maxIdel"/],
  ])('invalid options throw naming the option: %p', (options, name) => {
    expect(() => new ObjectPool(options as never)).toThrow(name);
  });

  test.each([
    [undefined],
    [null],
    [{}],
    [{ factory: 1 }],
    [{ factory: () => ({}), reset: 'no' }],
    [{ factory: () => ({}), maxIdle: 1.5 }],
    [{ factory: () => ({}), maxIdel: 3 }],
  ])('options are checked with the same messages as AsyncPool\'s: %p', (options) => {
    const thrown = (make: () => unknown): Error => {
      try {
        make();
      } catch (error) {
        return error as Error;
      }
      throw new Error('did not throw');
    };
    // AsyncPool's own options around the same value, so both see the same first mistake.
    const asAsync = options === undefined || options === null ? options : { maxSize: 10, ...options };
    const fromObjectPool = thrown(() => new ObjectPool(options as never));
    const fromAsyncPool = thrown(() => new AsyncPool(asAsync as never));
    expect([fromObjectPool.constructor, fromObjectPool.message]).toEqual([fromAsyncPool.constructor, fromAsyncPool.message]);
  });
});

describe('ObjectPool acts on this borrow only', () => {
  test("a lease disposed after its object was given back and lent again leaves the new holder's borrow alone", () => {
    const pool = new ObjectPool({ factory: () => ({}) });
    const lease = pool.borrow();
    pool.release(lease.resource); // given back directly
    const other = pool.acquire(); // the same object, now someone else's
    expect(other).toBe(lease.resource);
    lease[Symbol.dispose]();
    expect(pool.isBorrowed(other)).toBe(true);
    expect(pool.acquire()).not.toBe(other);
  });

  test('a lease released after its object was lent again throws and leaves the new holder alone', () => {
    const pool = new ObjectPool({ factory: () => ({}) });
    const lease = pool.borrow();
    pool.release(lease.resource);
    const other = pool.acquire();
    expect(() => lease.release()).toThrow(NotBorrowedError);
    expect(pool.isBorrowed(other)).toBe(true);
  });

  test("use() does not release the object when fn gave it back and it was lent again", () => {
    const pool = new ObjectPool({ factory: () => ({}) });
    let kept: object | undefined;
    pool.use((o) => {
      pool.release(o);
      kept = pool.acquire(); // the same object, lent again inside fn
      expect(kept).toBe(o);
    });
    expect(pool.isBorrowed(kept!)).toBe(true);
    expect(pool.acquire()).not.toBe(kept);
  });
});
