/** poolkeeper/pg under hostile use: re-entrant listeners, double calls, odd times (fake Client). */
import { Pool, type PoolConfig } from '../../src/pg/index.js';
import { flush } from '../helpers.js';
import { FakeClient, fakes } from './fake-client.js';

type AnyPool = InstanceType<typeof Pool>;
type ClientOption = NonNullable<PoolConfig['Client']>;
const Fake = FakeClient as unknown as ClientOption;
const pools: AnyPool[] = [];

function makePool(config: PoolConfig = {}): AnyPool {
  const pool = new Pool({ Client: Fake, ...config });
  pools.push(pool);
  return pool;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));
beforeEach(() => {
  fakes.reset();
  unhandled.length = 0;
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => (pool.ending ? undefined : pool.end())));
  await flush();
  expect(unhandled).toEqual([]);
});

describe('listeners that throw or call back into the pool', () => {
  test('an acquire listener that throws fails that connect() and leaks no client', async () => {
    const pool = makePool({ max: 1 });
    const boom = new Error('listener');
    pool.once('acquire', () => {
      throw boom;
    });
    await expect(pool.connect()).rejects.toBe(boom);
    await flush();
    expect(pool.asyncPool.stats().borrowed).toBe(0);
    const client = await pool.connect();
    client.release();
    await pool.end();
    expect(pool.ended).toBe(true);
  });

  test('a release listener that throws: release() throws it, and the client is back in the pool anyway', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    const boom = new Error('listener');
    pool.once('release', () => {
      throw boom;
    });
    expect(() => client.release()).toThrow(boom);
    expect(pool.idleCount).toBe(1);
    const again = await pool.connect();
    expect(again).toBe(client);
    again.release();
    await pool.end();
    expect(pool.ended).toBe(true);
  });

  test('a release listener that throws on a release with an error: the client is still closed', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    pool.once('release', () => {
      throw new Error('listener');
    });
    expect(() => client.release(new Error('broken'))).toThrow('listener');
    await flush();
    expect(pool.totalCount).toBe(0);
    expect((client as unknown as FakeClient).endCalls).toBe(1);
  });

  test('a remove listener that throws does not hang end(), and crashes nothing', async () => {
    const pool = makePool();
    const client = await pool.connect();
    client.release();
    const boom = new Error('listener');
    const reported: unknown[] = [];
    pool.asyncPool.on('error', ({ error }) => void reported.push(error));
    pool.once('remove', () => {
      throw boom;
    });
    await pool.end();
    expect(pool.ended).toBe(true);
    expect(reported).toEqual([boom]);
  });

  test('an acquire listener that calls end() still hands the client out; end waits for it', async () => {
    const pool = makePool();
    pool.once('acquire', () => void pool.end());
    const client = await pool.connect();
    expect(pool.ending).toBe(true);
    client.release();
    await flush();
    expect(pool.ended).toBe(true);
  });

  test('a release listener that calls connect() gets the released client', async () => {
    const pool = makePool({ max: 1 });
    const first = await pool.connect();
    let second: Promise<unknown> | undefined;
    pool.once('release', () => {
      second = pool.connect();
    });
    first.release();
    expect(await second).toBe(first);
    first.release();
  });

  test('a remove listener that calls end() during idle eviction', async () => {
    const pool = makePool({ idleTimeoutMillis: 1 });
    pool.once('remove', () => void pool.end());
    const client = await pool.connect();
    client.release();
    const deadline = Date.now() + 10_000;
    while (!pool.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(pool.ended).toBe(true);
  });

  test('an error listener that calls connect() gets a fresh client', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    client.release();
    let next: Promise<unknown> | undefined;
    pool.once('error', () => {
      next = pool.connect();
    });
    (client as unknown as FakeClient).die();
    const fresh = (await next) as { release(): void };
    expect(fresh).not.toBe(client);
    fresh.release();
  });

  test('a connect listener that calls end() synchronously', async () => {
    const pool = makePool();
    pool.once('connect', () => void pool.end());
    const client = await pool.connect();
    client.release();
    await flush();
    expect(pool.ended).toBe(true);
  });

  test('a connect callback that calls end() then releases', async () => {
    const pool = makePool();
    await new Promise<void>((resolve, reject) => {
      pool.connect((err, client, release) => {
        if (err) return reject(err);
        pool.end(() => resolve());
        release();
      });
    });
    expect(pool.ended).toBe(true);
  });

  test('a query callback that queries again', async () => {
    const pool = makePool({ max: 1 });
    const rows = await new Promise((resolve, reject) => {
      pool.query('SELECT 1', (err) => {
        if (err) return reject(err);
        pool.query('SELECT 2', (err2, res) => (err2 ? reject(err2) : resolve(res)));
      });
    });
    expect(rows).toEqual({ rows: [] });
  });
});

describe('release and end misuse', () => {
  test('release() twice throws, and the pool stays sound', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    client.release();
    expect(() => client.release()).toThrow(/already been released/);
    const again = await pool.connect();
    expect(again).toBe(client);
    again.release();
  });

  test('release() after end() timed out does not throw an unexpected error', async () => {
    const pool = makePool({ endTimeoutMillis: 1 } as PoolConfig);
    const client = await pool.connect();
    await pool.end();
    expect(() => client.release()).not.toThrow();
  });

  test('release() during end() (drain) closes the client, end resolves', async () => {
    const pool = makePool();
    const client = await pool.connect();
    const ended = pool.end();
    client.release();
    await ended;
    expect((client as unknown as FakeClient).endCalls).toBe(1);
  });

  test('end() twice: the second rejects (promise) or calls back with an error', async () => {
    const pool = makePool();
    const first = pool.end();
    await expect(pool.end()).rejects.toThrow(/more than once/);
    const err = await new Promise((resolve) => (pool as unknown as { end(cb: (e?: Error) => void): void }).end((e) => resolve(e)));
    expect(err).toBeInstanceOf(Error);
    await first;
  });

  test('end() while a connect is in flight serves it first', async () => {
    fakes.behaviour.connectDelayMs = 20;
    const pool = makePool();
    const pending = pool.connect();
    const ended = pool.end();
    const client = await pending;
    client.release();
    await ended;
    expect(pool.ended).toBe(true);
  });

  test('connect() after end() rejects; callback form too', async () => {
    const pool = makePool();
    await pool.end();
    await expect(pool.connect()).rejects.toThrow(/after calling end/);
    const [err] = await new Promise<unknown[]>((resolve) => pool.connect((...args) => resolve(args)));
    expect(err).toBeInstanceOf(Error);
    const [qerr] = await new Promise<unknown[]>((resolve) => pool.query('SELECT 1', (...args) => resolve(args)));
    expect(qerr).toBeInstanceOf(Error);
  });
});

describe('times', () => {
  test('connectionTimeoutMillis above 2^31-1 ms is no timeout at all (not an immediate one)', async () => {
    const pool = makePool({ connectionTimeoutMillis: 2 ** 31 + 10 });
    fakes.behaviour.connectDelayMs = 20;
    const client = await pool.connect();
    client.release();
  });

  test('connectionTimeoutMillis 1 against a slow connect fails with pg\'s message, and leaks nothing', async () => {
    fakes.behaviour.connectDelayMs = 50;
    const pool = makePool({ connectionTimeoutMillis: 1 });
    await expect(pool.connect()).rejects.toThrow(/timeout/);
    await new Promise((r) => setTimeout(r, 100));
    expect(pool.totalCount).toBe(0);
  });

  test('idleTimeoutMillis 0 keeps idle clients', async () => {
    const pool = makePool({ idleTimeoutMillis: 0 });
    const client = await pool.connect();
    client.release();
    await new Promise((r) => setTimeout(r, 30));
    expect(pool.idleCount).toBe(1);
  });

  test('maxUses 1 closes the client after one use', async () => {
    const pool = makePool({ maxUses: 1 });
    const client = await pool.connect();
    client.release();
    const next = await pool.connect();
    expect(next).not.toBe(client);
    next.release();
  });

  test('Promise option: the promises returned are of that class', async () => {
    class MyPromise<T> extends Promise<T> {}
    const pool = makePool({ Promise: MyPromise as unknown as PromiseConstructor } as PoolConfig);
    const p = pool.connect();
    expect(p).toBeInstanceOf(MyPromise);
    (await p).release();
    const q = pool.query('SELECT 1');
    expect(q).toBeInstanceOf(MyPromise);
    await q;
    const e = pool.end();
    expect(e).toBeInstanceOf(MyPromise);
    await e;
  });
});

describe('errors on idle clients', () => {
  test('without an error listener: no crash, the client is removed', async () => {
    const pool = makePool();
    const client = await pool.connect();
    client.release();
    (client as unknown as FakeClient).die();
    await flush();
    expect(pool.totalCount).toBe(0);
  });

  test('a client that errors during a query fails the query and is not reused', async () => {
    const pool = makePool({ max: 1 });
    fakes.behaviour.onQuery = (c) => {
      setImmediate(() => c.die());
      return { rows: [] };
    };
    const result = pool.query('SELECT 1');
    await result.catch(() => undefined);
    await flush();
    fakes.behaviour.onQuery = () => ({ rows: [1] });
    expect(await pool.query('SELECT 2')).toEqual({ rows: [1] });
  });
});

describe('times beyond 2^31-1 ms', () => {
  test('idleTimeoutMillis, maxLifetimeSeconds and endTimeoutMillis beyond 2^31-1 ms never fire at once', async () => {
    const pool = makePool({ idleTimeoutMillis: 2 ** 31 + 10, maxLifetimeSeconds: 2 ** 31, endTimeoutMillis: 2 ** 32 } as PoolConfig);
    const client = await pool.connect();
    client.release();
    await new Promise((r) => setTimeout(r, 30));
    expect(pool.idleCount).toBe(1);
    expect(pool.expiredCount).toBe(0);
    const again = await pool.connect();
    expect(again).toBe(client);
    const ended = pool.end();
    await new Promise((r) => setTimeout(r, 30));
    expect(pool.ended).toBe(false); // end() waits for the checked-out client
    again.release();
    await ended;
  });

  test('connectionTimeoutMillis 1 on a pool whose client connects at once, under max 1 contention, never leaks', async () => {
    const pool = makePool({ max: 1, connectionTimeoutMillis: 1 });
    const results = await Promise.allSettled([pool.connect(), pool.connect(), pool.connect()]);
    for (const r of results) if (r.status === 'fulfilled') r.value.release();
    await new Promise((r) => setTimeout(r, 30));
    expect(pool.asyncPool.stats().borrowed).toBe(0);
    expect(pool.totalCount).toBeLessThanOrEqual(1);
  });
});

describe('a remove listener that throws for a client that never entered the pool', () => {
  test('a verify failure closes the client; the listener error is logged, never an unhandled rejection', async () => {
    const logged: unknown[][] = [];
    const boom = new Error('listener');
    const pool = makePool({
      verify: (_client: unknown, cb: (err?: Error) => void) => cb(new Error('verify')),
      log: (...messages: unknown[]) => void logged.push(messages),
    } as PoolConfig);
    pool.once('remove', () => {
      throw boom;
    });
    await expect(pool.connect()).rejects.toThrow('verify');
    await flush();
    expect(logged).toContainEqual(['remove listener failed', boom]);
  });
});
