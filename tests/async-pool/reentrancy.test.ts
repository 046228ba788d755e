/**
 * User code calling back into the pool, and user code that misbehaves. Listeners, the factory,
 * validate and abort handlers may call acquire, release, destroy, clear or dispose on the same
 * pool synchronously: the pool's state is complete before any of them runs, and every path that
 * resumes afterwards re-checks what it relies on. Each test here reproduces a defect found from
 * outside, through the public API only.
 */
import { AbortError, AsyncPool, NotBorrowedError, PoolDisposedError } from '../../src/index.js';
import { deferred, flush, outcome } from '../helpers.js';

interface Conn {
  readonly id: number;
  closed: number;
}

/** A factory and releaser that count: `closed` is how many times the releaser saw a resource. */
function counting() {
  let next = 0;
  const created: Conn[] = [];
  return {
    created,
    factory: async (): Promise<Conn> => {
      const c = { id: ++next, closed: 0 };
      created.push(c);
      return c;
    },
    releaser: (c: Conn): void => {
      c.closed++;
    },
  };
}

/** Resolves with true if `promise` settles within a few event-loop turns, false otherwise. */
async function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => (settled = true), () => (settled = true));
  await flush();
  return settled;
}

/** Every resource ever created was closed exactly once. */
function closedOnce(created: readonly Conn[]): boolean {
  return created.every((c) => c.closed === 1);
}

describe('the duplicate-resource check (defect 2)', () => {
  test('two creations in flight that return the same object: only one caller gets it', async () => {
    const shared: Conn = { id: 1, closed: 0 };
    const gates = [deferred<Conn>(), deferred<Conn>()];
    let calls = 0;
    const pool = new AsyncPool<Conn>({ factory: () => gates[calls++]!.promise, releaser: (c) => void c.closed++, maxSize: 2 });
    const a = outcome(pool.acquire());
    const b = outcome(pool.acquire());
    await flush();
    expect(calls).toBe(2);
    gates[0]!.resolve(shared);
    gates[1]!.resolve(shared);
    const results = [await a, await b];
    const got = results.filter((r) => r.ok);
    const failed = results.filter((r) => !r.ok);
    expect(got.length).toBe(1);
    expect(failed.length).toBe(1);
    expect((failed[0] as { error: unknown }).error).toBeInstanceOf(TypeError);
    expect([pool.borrowed, pool.size]).toEqual([1, 1]);
    pool.release(shared);
    const disposed = pool.dispose();
    expect(await settlesSoon(disposed)).toBe(true);
    expect(shared.closed).toBe(1); // closed once, not once per "creation"
  });
});

describe("a 'release' listener (defect 3)", () => {
  test('that destroys the resource cannot put a closed resource back into the idle store', async () => {
    const t = counting();
    const pool = new AsyncPool<Conn>({ factory: t.factory, releaser: t.releaser, maxSize: 2 });
    const refusals: unknown[] = [];
    pool.on('release', ({ resource }) => {
      pool.destroy(resource).catch((error: unknown) => refusals.push(error));
    });
    const r = await pool.acquire();
    pool.release(r);
    await flush();
    expect(pool.borrowed).toBe(0);
    expect(pool.size).toBe(pool.idle + pool.borrowed + pool.creating);
    const next = await pool.acquire();
    expect(next.closed).toBe(0);
    expect(pool.borrowed).toBe(1);
    pool.release(next);
    await pool.dispose();
    expect(closedOnce(t.created)).toBe(true);
  });

  test('that releases the resource again gets NotBorrowedError, and the resource is idle once', async () => {
    const t = counting();
    const pool = new AsyncPool<Conn>({ factory: t.factory, releaser: t.releaser, maxSize: 2 });
    const refusals: unknown[] = [];
    pool.on('release', ({ resource }) => {
      try {
        pool.release(resource);
      } catch (error) {
        refusals.push(error);
      }
    });
    const r = await pool.acquire();
    pool.release(r);
    expect(refusals.length).toBe(1);
    expect(refusals[0]).toBeInstanceOf(NotBorrowedError);
    expect([pool.idle, pool.borrowed]).toEqual([1, 0]);
    const x = await pool.acquire();
    const y = await pool.acquire();
    expect(x).not.toBe(y);
    pool.release(x);
    pool.release(y);
    await pool.dispose();
    expect(closedOnce(t.created)).toBe(true);
  });

  test('that acquires gets a resource only once the released one is back in the pool', async () => {
    const t = counting();
    const pool = new AsyncPool<Conn>({ factory: t.factory, releaser: t.releaser, maxSize: 1 });
    let inner: Promise<Conn> | undefined;
    pool.on('release', () => {
      inner ??= pool.acquire();
    });
    const r = await pool.acquire();
    pool.release(r);
    expect(await inner).toBe(r);
    expect([pool.borrowed, pool.idle, pool.size]).toEqual([1, 0, 1]);
    pool.release(r);
    await pool.dispose();
  });
});

describe("a 'create' listener (defect 4)", () => {
  test('that destroys the new resource: the caller never gets a closed resource and counts stay right', async () => {
    const t = counting();
    const pool = new AsyncPool<Conn>({ factory: t.factory, releaser: t.releaser, maxSize: 2 });
    let destroys = 0;
    pool.on('create', ({ resource }) => {
      if (destroys++ === 0) pool.destroy(resource).catch(() => {});
    });
    const got = await pool.acquire();
    expect(got.closed).toBe(0);
    await flush();
    expect(got.closed).toBe(0);
    expect(pool.borrowed).toBe(1);
    expect(pool.size).toBe(pool.idle + pool.borrowed + pool.creating);
    expect(pool.size).toBeLessThanOrEqual(2);
    pool.release(got);
    await pool.dispose();
    expect(closedOnce(t.created)).toBe(true);
  });
});

describe('validate that calls back into the pool, synchronously (defect 5)', () => {
  test("aborting the caller's signal: the caller gets AbortError, the resource goes back idle", async () => {
    const t = counting();
    const controller = new AbortController();
    const pool = new AsyncPool<Conn>({
      factory: t.factory,
      releaser: t.releaser,
      validate: () => {
        controller.abort();
        return true;
      },
    });
    await pool.prefill(1);
    const result = await outcome(pool.acquire({ signal: controller.signal }));
    expect(result.ok).toBe(false);
    expect((result as { error: unknown }).error).toBeInstanceOf(AbortError);
    expect([pool.idle, pool.borrowed, pool.pending]).toEqual([1, 0, 0]);
    expect(pool.stats().acquired).toBe(0);
    const disposed = pool.dispose();
    expect(await settlesSoon(disposed)).toBe(true);
    expect(closedOnce(t.created)).toBe(true);
  });

  test('calling dispose(): the caller gets PoolDisposedError and dispose() resolves', async () => {
    const t = counting();
    let disposed: Promise<void> | undefined;
    const pool = new AsyncPool<Conn>({
      factory: t.factory,
      releaser: t.releaser,
      validate: () => {
        disposed = pool.dispose();
        return true;
      },
    });
    await pool.prefill(1);
    const result = await outcome(pool.acquire());
    expect(result.ok).toBe(false);
    expect((result as { error: unknown }).error).toBeInstanceOf(PoolDisposedError);
    expect(await settlesSoon(disposed!)).toBe(true);
    expect([pool.size, pool.borrowed]).toEqual([0, 0]);
    expect(closedOnce(t.created)).toBe(true);
  });

  test('calling clear(): the retired resource is not handed out', async () => {
    const t = counting();
    let cleared = false;
    const pool = new AsyncPool<Conn>({
      factory: t.factory,
      releaser: t.releaser,
      validate: () => {
        if (!cleared) {
          cleared = true;
          pool.clear();
        }
        return true;
      },
    });
    await pool.prefill(1);
    const old = t.created[0]!;
    const got = await pool.acquire();
    expect(got).not.toBe(old);
    expect(got.closed).toBe(0);
    expect(old.closed).toBe(1);
    expect([pool.borrowed, pool.size]).toEqual([1, 1]);
    pool.release(got);
    await pool.dispose();
    expect(closedOnce(t.created)).toBe(true);
  });
});

describe('prefill (defect 6)', () => {
  test('rejects when the factory rejects with undefined', async () => {
    const pool = new AsyncPool<Conn>({ factory: () => Promise.reject(undefined) });
    const result = await outcome(pool.prefill(2));
    expect(result).toEqual({ ok: false, error: undefined });
    expect(pool.size).toBe(0);
    await pool.dispose();
  });

  test('rejects when the factory throws undefined', async () => {
    const pool = new AsyncPool<Conn>({
      factory: () => {
        throw undefined; // eslint-disable-line no-throw-literal
      },
    });
    expect(await outcome(pool.prefill(1))).toEqual({ ok: false, error: undefined });
    await pool.dispose();
  });
});

describe('a newcomer never overtakes a caller whose resource is being validated (defect 8)', () => {
  test('a resource released during that validation is kept for that caller', async () => {
    const t = counting();
    const verdicts: ReturnType<typeof deferred<boolean>>[] = [];
    const pool = new AsyncPool<Conn>({
      factory: t.factory,
      releaser: t.releaser,
      maxSize: 2,
      strategy: 'fifo',
      validate: () => {
        const d = deferred<boolean>();
        verdicts.push(d);
        return d.promise;
      },
    });
    await pool.prefill(2); // r1, r2 idle
    const order: string[] = [];
    const x = await (async () => {
      const p = pool.acquire(); // X is validating r1
      await flush();
      verdicts[0]!.resolve(true);
      return p;
    })();
    const a = pool.acquire().then((r) => (order.push('A'), r)); // A: r2 is being validated
    await flush();
    expect(verdicts.length).toBe(2);
    pool.release(x); // r1 comes back while A's validation runs
    const b = pool.acquire().then((r) => (order.push('B'), r)); // newcomer
    await flush();
    verdicts[1]!.resolve(false); // A's resource was bad
    await flush();
    // A must get r1 (validated if needed) before B gets anything.
    for (let i = 2; i < verdicts.length; i++) verdicts[i]!.resolve(true);
    await flush();
    for (const d of verdicts) d.resolve(true);
    await flush();
    const ra = await a;
    expect(order[0]).toBe('A');
    expect(ra).toBe(x);
    pool.release(ra);
    pool.release(await b);
    await pool.dispose();
  });
});

describe('a factory result that is a misbehaving thenable (defect 10)', () => {
  test('a thenable that fulfils twice does not get its live resource closed', async () => {
    let next = 0;
    const closed: number[] = [];
    const pool = new AsyncPool<Conn>({
      factory: () => {
        const c = { id: ++next, closed: 0 };
        return {
          then(onFulfilled: (v: Conn) => void) {
            onFulfilled(c);
            onFulfilled(c);
          },
        } as unknown as Promise<Conn>;
      },
      releaser: (c) => void closed.push(c.id),
      createTimeoutMs: 1_000,
    });
    const got = await pool.acquire();
    await flush();
    expect(closed).toEqual([]);
    pool.release(got);
    await pool.dispose();
    expect(closed).toEqual([got.id]);
  });

  test('a thenable that fulfils then rejects, or whose then() throws after fulfilling, still counts as one success', async () => {
    let next = 0;
    const closed: number[] = [];
    const pool = new AsyncPool<Conn>({
      factory: () => {
        const c = { id: ++next, closed: 0 };
        return {
          then(onFulfilled: (v: Conn) => void, onRejected: (e: unknown) => void) {
            onFulfilled(c);
            onRejected(new Error('late'));
            throw new Error('later');
          },
        } as unknown as Promise<Conn>;
      },
      releaser: (c) => void closed.push(c.id),
    });
    const got = await pool.acquire();
    await flush();
    expect([closed, pool.borrowed]).toEqual([[], 1]);
    pool.release(got);
    await pool.dispose();
    expect(closed).toEqual([got.id]);
  });
});

describe('prefill() with a factory that calls back', () => {
  // Found by `npm run test:deep`: prefill() counted the creations it still had to start from the
  // size it saw before the first factory call, so a factory that acquires (starting a creation
  // for its caller) made prefill() start one creation too many, past maxSize.
  test('a factory that acquires during prefill() never takes the pool past maxSize', async () => {
    const { created, factory, releaser } = counting();
    let calledBack = false;
    let peak = 0;
    const pool: AsyncPool<Conn> = new AsyncPool<Conn>({
      factory: () => {
        if (!calledBack) {
          calledBack = true;
          void pool.acquire();
        }
        peak = Math.max(peak, pool.size);
        return factory();
      },
      releaser,
      maxSize: 2,
      minIdle: 2,
    });
    pool.on('create', () => (peak = Math.max(peak, pool.size)));
    await pool.prefill(2);
    await flush();
    expect({ peak, created: created.length, size: pool.size }).toEqual({ peak: 2, created: 2, size: 2 });
    expect(pool.borrowed + pool.idle).toBe(2);
  });
});
