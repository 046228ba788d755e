/** poolkeeper/pg: the pg.Pool surface, with a fake Client (no server needed). */
import { jest } from '@jest/globals';
import { Pool, type PoolConfig } from '../../src/pg/index.js';
import { AsyncPool, PoolDisposedError } from '../../src/index.js';
import { deferred, flush } from '../helpers.js';
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

beforeEach(() => fakes.reset());
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => (pool.ending ? undefined : pool.end())));
});

/** Resolves once `check()` holds; real timers, generous limit (the machine may be busy). */
async function until(check: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs a callback-style call and resolves with the arguments the callback got. */
function viaCallback<A extends unknown[]>(call: (cb: (...args: A) => void) => unknown): Promise<A> {
  return new Promise((resolve) => call((...args) => resolve(args)));
}

describe('construction', () => {
  test('fills in pg-pool defaults on pool.options, leaves the given object alone, passes it to each client', async () => {
    const given = { Client: Fake, host: 'db', binary: true };
    const pool = new Pool(given);
    pools.push(pool);
    expect(given).toEqual({ Client: Fake, host: 'db', binary: true });
    expect(pool.options).toMatchObject({ max: 10, min: 0, idleTimeoutMillis: 10_000, maxUses: Infinity, allowExitOnIdle: false, maxLifetimeSeconds: 0 });
    const client = await pool.connect();
    expect((client as unknown as FakeClient).config).toBe(pool.options);
    expect((client as unknown as FakeClient).config.binary).toBe(true);
    client.release();
  });

  test('the password is kept off enumeration; so is ssl.key, without touching the caller\'s ssl object', () => {
    const ssl = { key: 'secret-key', rejectUnauthorized: false };
    const pool = makePool({ password: 'hunter2', ssl });
    expect(pool.options.password).toBe('hunter2');
    expect(Object.keys(pool.options)).not.toContain('password');
    expect(JSON.stringify(pool.options)).not.toContain('secret-key');
    expect((pool.options.ssl as { key: string }).key).toBe('secret-key');
    expect(Object.keys(ssl)).toContain('key');
  });

  test('poolSize is read as max, 0 means the default; the Client may come as the second argument', async () => {
    expect(makePool({ poolSize: 3 } as PoolConfig).options.max).toBe(3);
    expect(makePool({ max: 0 }).options.max).toBe(10);
    const pool = new Pool({ max: 2 }, FakeClient);
    pools.push(pool);
    const client = await pool.connect();
    expect(client).toBeInstanceOf(FakeClient);
    client.release();
  });

  test.each([
    [{ max: '10' }, /"max"/],
    [{ max: 1.5 }, /"max"/],
    [{ min: 3, max: 2 }, /"min"/],
    [{ maxUses: -1 }, /"maxUses"/],
    [{ idleTimeoutMillis: -5 }, /"idleTimeoutMillis"/],
    [{ connectionTimeoutMillis: 'soon' }, /"connectionTimeoutMillis"/],
    [{ endTimeoutMillis: -1 }, /"endTimeoutMillis"/],
    [{ maxLifetimeSeconds: -1 }, /"maxLifetimeSeconds"/],
    [{ Client: 'pg' }, /"Client"/],
  ])('rejects %p, naming the option', (config, message) => {
    expect(() => new Pool(config as unknown as PoolConfig)).toThrow(message);
  });

  test('asyncPool is the AsyncPool underneath, with its stats', async () => {
    const pool = makePool({ max: 4 });
    expect(pool.asyncPool).toBeInstanceOf(AsyncPool);
    expect(pool.asyncPool.maxSize).toBe(4);
    await pool.query('SELECT 1');
    expect(pool.asyncPool.stats().created).toBe(1);
  });
});

describe('connect()', () => {
  test('promise style: a connected client; release() puts it back for the next caller', async () => {
    const pool = makePool();
    const client = await pool.connect();
    expect((client as unknown as FakeClient).connected).toBe(true);
    expect([pool.totalCount, pool.idleCount, pool.waitingCount]).toEqual([1, 0, 0]);
    client.release();
    expect([pool.totalCount, pool.idleCount]).toEqual([1, 1]);
    const again = await pool.connect();
    expect(again).toBe(client);
    again.release();
  });

  test('callback style: (undefined, client, release), returns undefined, never calls back synchronously', async () => {
    const pool = makePool();
    (await pool.connect()).release(); // an idle client is ready: still not synchronous
    let called = false;
    const args = viaCallback<[Error | undefined, unknown, (err?: unknown) => void]>((cb) => {
      expect(pool.connect(cb)).toBeUndefined();
    }).then((a) => ((called = true), a));
    expect(called).toBe(false);
    const [err, client, release] = await args;
    expect(err).toBeUndefined();
    expect(client).toBeInstanceOf(FakeClient);
    expect(release).toBe((client as FakeClient).release);
    release();
  });

  test('a connection error reaches the caller with no client and a callable release; nothing is left behind', async () => {
    fakes.behaviour.connectError = new Error('ECONNREFUSED');
    const pool = makePool();
    const [err, client, release] = await viaCallback<[Error | undefined, unknown, () => void]>((cb) => pool.connect(cb));
    expect(err).toBe(fakes.behaviour.connectError);
    expect(client).toBeUndefined();
    expect(() => release()).not.toThrow();
    expect(pool.totalCount).toBe(0);
    await expect(pool.connect()).rejects.toBe(fakes.behaviour.connectError);
  });

  test('waiters are served in arrival order', async () => {
    const pool = makePool({ max: 1 });
    const first = await pool.connect();
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) => pool.connect().then((c) => { order.push(n); c.release(); }));
    expect(pool.waitingCount).toBe(3);
    first.release();
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
  });

  test('the Promise option is the class of the returned promises', async () => {
    class MyPromise<T> extends Promise<T> {}
    const pool = makePool({ Promise: MyPromise as PromiseConstructor });
    const connecting = pool.connect();
    expect(connecting).toBeInstanceOf(MyPromise);
    (await connecting).release();
    expect(pool.query('SELECT 1')).toBeInstanceOf(MyPromise);
  });
});

describe('client.release(err)', () => {
  test('an error or true destroys the client; the pool makes a new one next', async () => {
    const pool = makePool();
    const removed: unknown[] = [];
    pool.on('remove', (c) => removed.push(c));
    const a = await pool.connect();
    a.release(new Error('broken'));
    expect(pool.totalCount).toBe(0);
    const b = await pool.connect();
    expect(b).not.toBe(a);
    b.release(true);
    expect(pool.totalCount).toBe(0);
    await flush();
    expect(removed).toEqual([a, b]);
    expect((a as unknown as FakeClient).endCalls).toBe(1);
  });

  test('a second release throws, each time', async () => {
    const pool = makePool();
    const client = await pool.connect();
    client.release();
    expect(() => client.release()).toThrow(/already been released/);
    expect(() => client.release()).toThrow(/already been released/);
    expect(pool.idleCount).toBe(1);
  });

  test('a client the caller ended, or that can no longer be queried, is removed instead of kept', async () => {
    const pool = makePool({ max: 1 });
    const a = await pool.connect();
    void a.end();
    a.release();
    expect(pool.totalCount).toBe(0);
    const b = await pool.connect();
    (b as unknown as FakeClient)._queryable = false;
    b.release();
    expect(pool.totalCount).toBe(0);
  });

  test('a client released inside a transaction is rolled back before anyone else gets it', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query('INSERT 1');
    const next = pool.connect();
    client.release();
    const again = await next;
    expect(again).toBe(client);
    expect((again as unknown as FakeClient).queries).toEqual(['BEGIN', 'INSERT 1', 'ROLLBACK']);
    again.release();
    expect((again as unknown as FakeClient).queries).toHaveLength(3); // idle status: no round trip
  });

  test('a failed rollback closes the client instead of keeping it', async () => {
    fakes.behaviour.onQuery = (_c, text) => {
      if (text === 'ROLLBACK') throw new Error('connection lost');
      return { rows: [] };
    };
    const pool = makePool();
    const client = await pool.connect();
    await client.query('BEGIN');
    client.release();
    await flush();
    expect(pool.totalCount).toBe(0);
  });
});

describe('query()', () => {
  test('promise style, with and without values, text or config', async () => {
    fakes.behaviour.onQuery = (_c, text, values) => ({ rows: [{ text, values }] });
    const pool = makePool();
    expect((await pool.query('SELECT 1')).rows).toEqual([{ text: 'SELECT 1', values: undefined }]);
    expect((await pool.query('SELECT $1', ['a'])).rows).toEqual([{ text: 'SELECT $1', values: ['a'] }]);
    const config = { text: 'SELECT $1', values: ['b'] };
    expect((await pool.query(config)).rows[0].text).toBe(config);
    expect(pool.idleCount).toBe(1);
  });

  test('callback style, with and without values; returns undefined', async () => {
    const pool = makePool();
    let returned: unknown = 'unset';
    const [err, res] = await viaCallback<[Error | undefined, unknown]>((cb) => {
      returned = pool.query('SELECT 1', cb);
    });
    expect(returned).toBeUndefined();
    expect(err).toBeUndefined();
    expect(res).toEqual({ rows: [] });
    const [err2] = await viaCallback<[Error | undefined]>((cb) => pool.query('SELECT $1', ['x'], cb));
    expect(err2).toBeUndefined();
  });

  test('a failed query is passed on and its client closed', async () => {
    fakes.behaviour.onQuery = () => { throw new Error('syntax error'); };
    const pool = makePool();
    await expect(pool.query('SELEC')).rejects.toThrow('syntax error');
    expect(pool.totalCount).toBe(0);
  });

  test('a query the client refuses synchronously (null) rejects, and its client is closed', async () => {
    const pool = makePool();
    await expect(pool.query(null as unknown as string)).rejects.toThrow(/null or undefined/);
    expect(pool.totalCount).toBe(0);
  });

  test('a function as the first argument is called back with an error', async () => {
    const pool = makePool();
    const [err] = await viaCallback<[Error]>((cb) => pool.query(cb as unknown as string));
    expect(err.message).toMatch(/not supported/);
  });

  test('a client error during the query fails the query once and closes the client', async () => {
    fakes.behaviour.onQuery = (client) => {
      setImmediate(() => client.die());
      return new Promise(() => {});
    };
    const pool = makePool();
    const [err] = await viaCallback<[Error | undefined]>((cb) => pool.query('SELECT pg_sleep(5)', cb));
    expect(err?.message).toMatch(/terminated/);
    expect(pool.totalCount).toBe(0);
  });
});

describe('events', () => {
  test('connect once per new client before the caller has it; acquire on every checkout; release with (err, client)', async () => {
    const pool = makePool();
    const seen: string[] = [];
    pool.on('connect', (c) => seen.push(`connect ${(c as unknown as FakeClient).id}`));
    pool.on('acquire', (c) => seen.push(`acquire ${(c as unknown as FakeClient).id}`));
    pool.on('release', (err, c) => seen.push(`release ${(c as unknown as FakeClient).id} ${String(err)}`));
    const client = await pool.connect();
    const id = (client as unknown as FakeClient).id;
    seen.push('got');
    client.release();
    await pool.query('SELECT 1');
    const boom = new Error('boom');
    (await pool.connect()).release(boom);
    expect(seen).toEqual([`connect ${id}`, `acquire ${id}`, 'got', `release ${id} undefined`, `acquire ${id}`, `release ${id} undefined`, `acquire ${id}`, `release ${id} Error: boom`]);
  });

  test('an idle client whose holder removed every listener still reports its error to the pool, never crashes', async () => {
    const pool = makePool();
    const errors: unknown[] = [];
    pool.on('error', (error) => errors.push(error));
    const client = (await pool.connect()) as unknown as FakeClient & { release(): void };
    client.removeAllListeners();
    client.release();
    const failure = new Error('terminating connection due to administrator command');
    client.emit('error', failure); // would throw with no 'error' listener
    expect(errors).toEqual([failure]);
    await until(() => pool.totalCount === 0);
    expect(client.listenerCount('error')).toBe(1);
  });

  test('a client released with an error after its holder removed every listener: its socket failing while it closes never crashes', async () => {
    const pool = makePool();
    const client = (await pool.connect()) as unknown as FakeClient & { release(err?: unknown): void };
    client.removeAllListeners();
    client.release(new Error('bad state'));
    expect(() => client.emit('error', new Error('read ECONNRESET'))).not.toThrow();
    await until(() => pool.totalCount === 0);
  });

  test('a client released again and again keeps one listener of the pool per event', async () => {
    const pool = makePool();
    for (let i = 0; i < 3; i++) (await pool.connect()).release();
    const client = fakes.made[0]!;
    expect([client.listenerCount('error'), client.listenerCount('end')]).toEqual([1, 1]);
  });

  test('connect is not emitted for a failed connection', async () => {
    fakes.behaviour.connectError = new Error('bad news');
    const pool = makePool();
    const connect = jest.fn();
    pool.on('connect', connect);
    await expect(pool.connect()).rejects.toThrow('bad news');
    expect(connect).not.toHaveBeenCalled();
  });

  test('an idle client that errors is removed at once and reported as (err, client) with err.client', async () => {
    const pool = makePool();
    const client = await pool.connect();
    client.release();
    const reported = deferred<[Error & { client?: unknown }, unknown]>();
    pool.once('error', (err, c) => reported.resolve([err, c]));
    const removed = deferred<unknown>();
    pool.once('remove', removed.resolve);
    (client as unknown as FakeClient).die();
    expect([pool.idleCount, pool.totalCount]).toEqual([0, 0]);
    const [err, c] = await reported.promise;
    expect(c).toBe(client);
    expect(err.client).toBe(client);
    expect(await removed.promise).toBe(client);
  });

  test('with no error listener, an idle client that errors does not crash the process', async () => {
    const pool = makePool();
    const client = await pool.connect();
    client.release();
    expect(() => (client as unknown as FakeClient).die()).not.toThrow();
    expect(pool.totalCount).toBe(0);
    const next = await pool.connect();
    expect(next).not.toBe(client);
    next.release();
  });

  test('a checked-out client that errors stays with its holder, is not reported, and is removed on release', async () => {
    const pool = makePool();
    const error = jest.fn();
    pool.on('error', error);
    const client = await pool.connect();
    expect(() => (client as unknown as FakeClient).die()).not.toThrow();
    expect(pool.totalCount).toBe(1);
    client.release();
    expect(pool.totalCount).toBe(0);
    expect(error).not.toHaveBeenCalled();
  });

  test('log receives diagnostics, among them pg-pool\'s "remove expended client"', async () => {
    const messages: unknown[] = [];
    const pool = makePool({ maxUses: 1, log: (m: unknown) => messages.push(m) });
    (await pool.connect()).release();
    expect(messages).toContain('remove expended client');
    expect(messages).toContain('connecting new client');
  });
});

describe('sizing', () => {
  test('max caps the clients: the rest wait', async () => {
    const pool = makePool({ max: 2 });
    const results = await Promise.all(Array.from({ length: 10 }, () => pool.query('SELECT 1')));
    expect(results).toHaveLength(10);
    expect(fakes.made).toHaveLength(2);
  });

  test('maxUses: a client is closed when it comes back from its last use; a waiter gets a fresh one', async () => {
    const pool = makePool({ max: 1, maxUses: 2 });
    const a = await pool.connect();
    a.release();
    const b = await pool.connect();
    expect(b).toBe(a);
    const next = pool.connect();
    b.release();
    expect((b as unknown as FakeClient)._ending).toBe(true); // closed synchronously
    const c = await next;
    expect(c).not.toBe(a);
    c.release();
  });

  test('min: the pool keeps that many clients open once used, and idle timeout never goes below it', async () => {
    const pool = makePool({ max: 3, min: 2, idleTimeoutMillis: 20 });
    const a = await pool.connect();
    const b = await pool.connect();
    const c = await pool.connect();
    a.release();
    b.release();
    c.release();
    await until(() => pool.totalCount === 2);
    await new Promise((resolve) => setTimeout(resolve, 60)); // several idle timeouts later: still 2
    expect([pool.totalCount, pool.idleCount]).toEqual([2, 2]);
  });
});

describe('opening connections', () => {
  test('as pg-pool: one connection opens for every caller at once, up to max (no cap on connections in flight)', async () => {
    fakes.behaviour.connectDelayMs = 50;
    const pool = makePool({ max: 20 });
    const clients = Array.from({ length: 20 }, () => pool.connect());
    await flush();
    expect(fakes.made.filter((client) => client.connectCalls === 1).length).toBe(20);
    for (const client of await Promise.all(clients)) client.release();
  });
});

describe('timeouts', () => {
  test('connectionTimeoutMillis bounds the wait for a busy pool, with pg-pool\'s message', async () => {
    const pool = makePool({ max: 1, connectionTimeoutMillis: 30 });
    const held = await pool.connect();
    const [err, client] = await viaCallback<[Error | undefined, unknown]>((cb) => pool.connect(cb));
    expect(err?.message).toMatch(/^timeout exceeded when trying to connect/);
    expect(client).toBeUndefined();
    expect(pool.waitingCount).toBe(0);
    held.release();
    (await pool.connect()).release();
  });

  test('a connection that never completes is abandoned and its client ended', async () => {
    fakes.behaviour.connectDelayMs = Infinity;
    const pool = makePool({ connectionTimeoutMillis: 20 });
    await expect(pool.connect()).rejects.toThrow(/timeout/);
    await until(() => fakes.made[0]!.endCalls === 1); // the connection's own timer, started a little later
    await until(() => pool.totalCount === 0);
  });

  test('a connection is never abandoned before connectionTimeoutMillis, even when its timer fires early', async () => {
    // Node dates a timer from the start of the event loop's turn, so it can fire early by as long
    // as the turn had run: here every timer fires 5 ms early.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    const fakeSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => fakeSetTimeout(fn, Math.max(0, (ms ?? 0) - 5))) as typeof setTimeout;
    try {
      fakes.behaviour.connectDelayMs = Infinity;
      const pool = makePool({ connectionTimeoutMillis: 30 });
      const connecting = pool.connect().then(
        () => undefined,
        (error: Error & { code?: string }) => error,
      );
      await jest.advanceTimersByTimeAsync(29);
      expect(fakes.made[0]!.endCalls).toBe(0);
      await jest.advanceTimersByTimeAsync(1);
      const error = await connecting;
      expect(error?.code).toBe('ERR_ACQUIRE_TIMEOUT'); // the caller's deadline, whichever timer ran first
      await jest.advanceTimersByTimeAsync(1);
      expect(fakes.made[0]!.endCalls).toBe(1);
    } finally {
      globalThis.setTimeout = fakeSetTimeout;
      jest.useRealTimers();
    }
  });

  test('a connection that completes after the timeout is closed, not leaked', async () => {
    fakes.behaviour.connectDelayMs = 60;
    class SlowToStop extends FakeClient {
      override end(callback?: () => void): void {
        // A client that ignores end() while connecting (as pg's native client may).
        if (!this.connected) {
          this.endCalls++;
          callback?.();
          return;
        }
        super.end(callback);
      }
    }
    const pool = makePool({ Client: SlowToStop as unknown as ClientOption, connectionTimeoutMillis: 20 });
    await expect(pool.connect()).rejects.toThrow(/timeout/);
    const client = fakes.made[0]!;
    await until(() => client.endCalls >= 2); // ended at the timeout, and again once it connected late
    await until(() => !client.connected);
    expect(pool.totalCount).toBe(0);
  });

  test('idleTimeoutMillis removes idle clients; 0 keeps them', async () => {
    const pool = makePool({ idleTimeoutMillis: 10 });
    const removed = deferred<unknown>();
    pool.on('remove', removed.resolve);
    await pool.query('SELECT 1');
    await removed.promise;
    expect([pool.totalCount, pool.idleCount]).toEqual([0, 0]);
    const keep = makePool({ idleTimeoutMillis: 0 });
    await keep.query('SELECT 1');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(keep.idleCount).toBe(1);
  });

  test('maxLifetimeSeconds: a checked-out client past its lifetime counts in expiredCount and is closed on release', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    try {
      const pool = makePool({ maxLifetimeSeconds: 1, idleTimeoutMillis: 0 });
      const connecting = pool.connect();
      await jest.advanceTimersByTimeAsync(1);
      const client = await connecting;
      expect(pool.expiredCount).toBe(0);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(pool.expiredCount).toBe(1);
      client.release();
      expect([pool.totalCount, pool.expiredCount]).toEqual([0, 0]);
      const idle = pool.connect();
      await jest.advanceTimersByTimeAsync(1);
      (await idle).release();
      await jest.advanceTimersByTimeAsync(1_000);
      expect(pool.totalCount).toBe(0); // closed while idle too
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('verify and onConnect', () => {
  test('verify runs once per new client; its error reaches the caller and the client is closed', async () => {
    const pool = makePool({ verify: (_c: unknown, cb: (err?: Error) => void) => cb(new Error('nope')) } as PoolConfig);
    const [err] = await viaCallback<[Error | undefined]>((cb) => pool.connect(cb));
    expect(err?.message).toBe('nope');
    expect(pool.totalCount).toBe(0);
    await flush();
    expect(fakes.made[0]!.endCalls).toBe(1);
  });

  test('onConnect runs once per new client, may be async, and a failure fails that connection only', async () => {
    let fail = true;
    const calls: number[] = [];
    const pool = makePool({
      max: 1,
      onConnect: async (client) => {
        calls.push((client as unknown as FakeClient).id);
        if (fail) throw new Error('hook failed');
      },
    });
    await expect(pool.connect()).rejects.toThrow('hook failed');
    expect(pool.totalCount).toBe(0);
    fail = false;
    const client = await pool.connect();
    client.release();
    expect(await pool.connect()).toBe(client);
    client.release();
    expect(calls).toHaveLength(2);
  });
});

describe('allowExitOnIdle', () => {
  test('an idle client is unref()\'d, a checked-out one ref()\'d', async () => {
    const pool = makePool({ allowExitOnIdle: true });
    const client = (await pool.connect()) as unknown as FakeClient;
    expect(client.refs).toBeGreaterThan(0);
    const unrefs = client.unrefs;
    (client as unknown as { release(): void }).release();
    expect(client.unrefs).toBe(unrefs + 1);
  });

  test('read for its truth, as pg-pool reads it, and left in pool.options as given', async () => {
    for (const given of [1, 'true']) {
      const pool = makePool({ allowExitOnIdle: given as unknown as boolean });
      expect(pool.options.allowExitOnIdle).toBe(given);
      const client = (await pool.connect()) as unknown as FakeClient & { release(): void };
      const unrefs = client.unrefs;
      client.release();
      expect(client.unrefs).toBe(unrefs + 1);
    }
  });

  test('off by default: clients are never unref()\'d', async () => {
    const pool = makePool();
    const client = (await pool.connect()) as unknown as FakeClient;
    (client as unknown as { release(): void }).release();
    expect(client.unrefs).toBe(0);
  });
});

describe('end()', () => {
  test('resolves; ending and ended say where it is; every client is closed', async () => {
    const pool = makePool();
    await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2')]);
    const ending = pool.end();
    expect(pool.ending).toBe(true);
    expect(pool.ended).toBe(false);
    await ending;
    expect(pool.ended).toBe(true);
    expect(fakes.made.every((c) => c.endCalls === 1)).toBe(true);
  });

  test('callers already queued are served before the pool closes; new ones are refused', async () => {
    const pool = makePool({ max: 2 });
    const queries = Array.from({ length: 6 }, (_, i) => pool.query(`SELECT ${i}`));
    const ending = pool.end();
    await expect(pool.connect()).rejects.toThrow('Cannot use a pool after calling end on the pool');
    await expect(pool.connect()).rejects.toBeInstanceOf(PoolDisposedError);
    await expect(Promise.all(queries)).resolves.toHaveLength(6);
    await ending;
  });

  test('a checked-out client keeps end() waiting until it comes back', async () => {
    const pool = makePool();
    const client = await pool.connect();
    let ended = false;
    const ending = pool.end().then(() => (ended = true));
    await flush();
    expect(ended).toBe(false);
    client.release();
    await ending;
  });

  test('endTimeoutMillis bounds end(): clients still out are closed anyway', async () => {
    const pool = makePool({ endTimeoutMillis: 20 });
    const client = (await pool.connect()) as unknown as FakeClient;
    await pool.end();
    expect(client.endCalls).toBe(1);
  });

  test('callback style; a second end() is an error; so are query and connect afterwards', async () => {
    const pool = makePool();
    let returned: unknown = 'unset';
    const [err] = await viaCallback<[Error | undefined]>((cb) => {
      returned = pool.end(cb as () => void);
    });
    expect(returned).toBeUndefined();
    expect(err).toBeUndefined();
    const [again] = await viaCallback<[Error | undefined]>((cb) => pool.end(cb as () => void));
    expect(again?.message).toBe('Called end on pool more than once');
    await expect(pool.end()).rejects.toThrow('more than once');
    const [queryErr] = await viaCallback<[Error | undefined]>((cb) => pool.query('SELECT 1', cb));
    expect(queryErr).toBeInstanceOf(Error);
  });

  test('an unused pool ends at once', async () => {
    await makePool().end();
  });
});

describe('user code calling back into the pool', () => {
  test('an acquire listener that calls end() still gets its client; end() waits for it', async () => {
    const pool = makePool();
    let ending: Promise<void> | undefined;
    pool.once('acquire', () => {
      ending = pool.end();
    });
    const client = await pool.connect();
    expect(pool.ending).toBe(true);
    expect((await client.query('SELECT 1')).rows).toEqual([]);
    client.release();
    await ending;
    expect(pool.ended).toBe(true);
  });

  test('a release listener that connects again gets the client being released', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    let again: Promise<unknown> | undefined;
    pool.once('release', () => {
      again = pool.connect();
    });
    client.release();
    const next = (await again) as typeof client;
    expect(next).toBe(client);
    next.release();
  });

  test('an error listener that queries and a remove listener that ends the pool see a working pool', async () => {
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    client.release();
    const queried = deferred<unknown>();
    pool.once('error', () => {
      pool.query('SELECT 1').then(queried.resolve, queried.resolve);
    });
    (client as unknown as FakeClient).die();
    expect(await queried.promise).toEqual({ rows: [] });
    const removed = deferred<void>();
    pool.once('remove', () => {
      pool.end().then(removed.resolve, removed.resolve);
    });
    (await pool.connect()).release(true);
    await removed.promise;
    expect(pool.ended).toBe(true);
  });

  test('a client whose connect throws synchronously, or calls back twice, leaves the pool consistent', async () => {
    class Throwing extends FakeClient {
      override connect(): void {
        throw new Error('sync failure');
      }
    }
    const throwing = makePool({ Client: Throwing as unknown as ClientOption });
    await expect(throwing.connect()).rejects.toThrow('sync failure');
    expect(throwing.totalCount).toBe(0);

    class Twice extends FakeClient {
      override connect(callback: (err?: Error) => void): void {
        super.connect((err) => {
          callback(err);
          callback(new Error('second callback'));
        });
      }
    }
    const twice = makePool({ Client: Twice as unknown as ClientOption });
    const client = await twice.connect();
    client.release(); // marked broken by the second callback: removed, not kept
    expect(twice.totalCount).toBe(0);
  });
});

describe('durations', () => {
  test('connectionTimeoutMillis above 2^31-1 ms does not time out at once', async () => {
    fakes.behaviour.connectDelayMs = 5;
    const pool = makePool({ connectionTimeoutMillis: 2 ** 31 + 10 });
    const client = await pool.connect();
    expect((client as unknown as FakeClient).connected).toBe(true);
    client.release();
  });

  test('connectionTimeoutMillis 1 ms fails a slow connection and closes it', async () => {
    fakes.behaviour.connectDelayMs = 30;
    const pool = makePool({ connectionTimeoutMillis: 1 });
    await expect(pool.connect()).rejects.toThrow(/timeout/);
    await until(() => fakes.made[0]!.endCalls === 1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fakes.made[0]!.connected).toBe(false);
    await until(() => pool.totalCount === 0);
  });

  test('Infinity turns idleTimeoutMillis and connectionTimeoutMillis off', async () => {
    const pool = makePool({ idleTimeoutMillis: Infinity, connectionTimeoutMillis: Infinity, maxLifetimeSeconds: Infinity });
    await pool.query('SELECT 1');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pool.idleCount).toBe(1);
  });
});

// pg-pool queues a caller only when every client is checked out; one it opens a new connection
// for is not waiting. waitingCount > 0 must mean saturation, as dashboards read it.
test('waitingCount counts callers waiting for a release, not those a new connection is being opened for', async () => {
  fakes.behaviour.connectDelayMs = 30;
  const pool = makePool({ max: 2 });
  const first = pool.connect();
  expect([pool.totalCount, pool.waitingCount]).toEqual([1, 0]);
  const second = pool.connect();
  const third = pool.connect(); // the pool is full: only this one waits
  expect([pool.totalCount, pool.waitingCount]).toEqual([2, 1]);
  const clients = await Promise.all([first, second]);
  for (const client of clients) client!.release();
  (await third)!.release();
  expect(pool.waitingCount).toBe(0);
});
