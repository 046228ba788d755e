/**
 * AsyncPool of ioredis connections (the pool from examples/redis.ts) against a real Redis at
 * 127.0.0.1:6379 (REDIS_URL overrides). Run with `npm run test:services`. An unreachable server
 * fails every test here, loudly.
 */
import { Redis } from 'ioredis';
import { AsyncPool, type PoolEvents } from '../../src/index.js';
import { connectionsNamed, createRedisPool, main, redisUrl, update, type RedisPoolOptions } from '../../examples/redis.js';
import { outcome } from '../helpers.js';

const url = redisUrl();
const prefix = `poolkeeper:test:${process.pid}`;
let admin: Redis;
const pools: AsyncPool<Redis>[] = [];
let nextName = 0;

beforeAll(async () => {
  admin = new Redis(url, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 3_000, connectionName: 'poolkeeper-test-admin' });
  let cause: unknown;
  admin.on('error', (error: Error) => {
    cause = error;
  });
  try {
    await admin.connect();
    await admin.ping();
  } catch (error) {
    throw new Error(`Redis not reachable at ${url} — start it or set REDIS_URL. Cause: ${String(cause ?? error)}`, { cause: cause ?? error });
  }
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.dispose({ timeoutMs: 2_000 })));
  if (admin.status === 'ready') {
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
  }
});

afterAll(async () => {
  if (admin?.status === 'ready') await admin.quit();
  else if (admin !== undefined && admin.status !== 'end') admin.disconnect();
});

/** A pool whose connections carry a name of their own, so the test can find them on the server. */
function makePool(pool: RedisPoolOptions['pool'] = {}, idleCheckMs?: number): { pool: AsyncPool<Redis>; name: string } {
  const name = `poolkeeper-test-${process.pid}-${++nextName}`;
  const created = createRedisPool({
    url,
    redis: { connectionName: name },
    ...(idleCheckMs === undefined ? {} : { idleCheckMs }),
    pool,
  });
  pools.push(created);
  return { pool: created, name };
}

/** Polls `condition` (server-side effects we cannot await directly), failing after `timeoutMs`. */
async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function ended(connection: Redis): Promise<void> {
  return new Promise((resolve) => connection.once('end', () => resolve()));
}

/** The last command the server ran for client `id`, from CLIENT LIST. */
async function lastCommand(id: number): Promise<string | undefined> {
  const list = String(await admin.client('LIST'));
  const line = list.split('\n').find((entry) => entry.startsWith(`id=${id} `));
  return /\bcmd=(\S+)/.exec(line ?? '')?.[1];
}

test('examples/redis.ts runs against the server and reports what it did', async () => {
  const lines: string[] = [];
  const summary = await main({ log: (line) => lines.push(line), url });
  expect(summary).toMatchObject({
    connections: 4,
    increments: 100,
    counter: 100,
    jobsPushed: 9,
    jobsConsumed: 9,
    staleWatchCleared: true,
    commandsAfterKill: 8,
    replacedAfterKill: 1,
    connectionsOpened: 5,
    openAfterDispose: 0,
  });
  expect(summary.retries).toBeGreaterThanOrEqual(0);
  expect(lines.length).toBeGreaterThanOrEqual(6);
});

test('concurrent optimistic transactions on pooled connections: no lost update, never more than maxSize connections', async () => {
  const { pool, name } = makePool({ maxSize: 3 });
  const key = `${prefix}:counter`;
  let peak = 0;
  await Promise.all(Array.from({ length: 30 }, async () => {
    await update(pool, key, (current) => String(Number(current ?? 0) + 1));
    peak = Math.max(peak, await connectionsNamed(admin, name));
  }));
  expect(await admin.get(key)).toBe('30');
  expect(peak).toBeLessThanOrEqual(3);
  expect(pool.stats().created).toBeLessThanOrEqual(3);
});

test('CLIENT KILL of an idle pooled connection: the pool replaces it transparently for the next caller', async () => {
  const { pool } = makePool({ maxSize: 1 });
  const connection = await pool.acquire();
  const id = await connection.client('ID');
  const gone = ended(connection);
  pool.release(connection);
  await waitFor(() => pool.idle === 1); // reset (a round trip) has finished

  expect(await admin.client('KILL', 'ID', id)).toBe(1);
  await gone; // the client has seen its connection close

  const next = await pool.use(async (c) => ({ connection: c, id: await c.client('ID') }));
  expect(next.connection).not.toBe(connection);
  expect(next.id).not.toBe(id);
  expect(pool.stats()).toMatchObject({ validationFailed: 1, created: 2, size: 1 });
  expect(pool.stats().destroyed.invalid).toBe(1);
});

test('CLIENT KILL during a blocking command: the command fails; released, the connection is closed, not reused', async () => {
  const { pool } = makePool({ maxSize: 1 });
  const errors: PoolEvents<Redis>['error'][] = [];
  pool.on('error', (event) => errors.push(event));
  const connection = await pool.acquire();
  const id = await connection.client('ID');
  const gone = ended(connection);
  const blocked = outcome(connection.blpop(`${prefix}:never`, 10));
  await waitFor(async () => (await lastCommand(id)) === 'blpop');
  await admin.client('KILL', 'ID', id);
  expect((await blocked).ok).toBe(false);
  await gone;

  pool.release(connection); // reset sees the dead connection and closes it
  await waitFor(() => pool.stats().destroyed.invalid === 1);
  expect(errors.map((event) => event.operation)).toEqual(['reset']);
  expect(await pool.use((c) => c.client('ID'))).not.toBe(id);
});

test('reset clears a WATCH left behind, so it cannot abort the next transaction on that connection', async () => {
  const { pool } = makePool({ maxSize: 1 });
  const key = `${prefix}:watched`;
  const careless = await pool.acquire();
  await careless.watch(key);
  pool.release(careless);
  await admin.set(key, 'changed by someone else');
  // The only connection is being reset: the next caller waits for it.

  const result = await pool.use(async (connection) => {
    expect(connection).toBe(careless);
    return connection.multi().incr(`${prefix}:n`).exec();
  });
  expect(result).toEqual([[null, 1]]);
});

test('a connection left in subscriber mode is closed on release, not handed to the next caller', async () => {
  const { pool } = makePool({ maxSize: 1 });
  const subscriber = await pool.acquire();
  await subscriber.subscribe(`${prefix}:channel`);
  pool.release(subscriber);
  await waitFor(() => pool.stats().destroyed.invalid === 1);
  const next = await pool.acquire();
  expect(next).not.toBe(subscriber);
  expect(await next.ping()).toBe('PONG');
  pool.release(next);
});

test('a connection left inside an open MULTI is closed on release', async () => {
  const { pool } = makePool({ maxSize: 1 });
  const connection = await pool.acquire();
  const transaction = outcome(connection.multi({ pipeline: false }));
  await connection.set(`${prefix}:queued`, '1'); // queued, never executed
  pool.release(connection);
  await waitFor(() => pool.stats().destroyed.invalid === 1);
  expect(await admin.exists(`${prefix}:queued`)).toBe(0);
  const next = await pool.acquire();
  expect(next).not.toBe(connection);
  pool.release(next);
  await transaction;
});

test('validate PINGs only a connection idle at least idleCheckMs', async () => {
  const { pool } = makePool({ maxSize: 1 }, 300);
  const connection = await pool.acquire();
  const id = await connection.client('ID');
  await connection.echo('hello');
  pool.release(connection); // reset: UNWATCH + CLIENT INFO

  await pool.acquire(); // idle a moment (or still being reset): no PING
  expect(await lastCommand(id)).toMatch(/^client/);
  pool.release(connection);

  await new Promise((resolve) => setTimeout(resolve, 400));
  await pool.acquire(); // idle longer than the window: PING first
  expect(await lastCommand(id)).toBe('ping');
  pool.release(connection);
});

test('dispose() closes every pooled connection on the server', async () => {
  const { pool, name } = makePool({ maxSize: 3 });
  await pool.prefill();
  expect(await connectionsNamed(admin, name)).toBe(3);
  await pool.dispose();
  await waitFor(async () => (await connectionsNamed(admin, name)) === 0);
  expect(pool.stats().destroyed.disposed).toBe(3);
});

test('an unreachable server: the caller gets the connection error itself (ECONNREFUSED)', async () => {
  const pool = createRedisPool({ url: 'redis://127.0.0.1:1', pool: { maxSize: 1 } });
  pools.push(pool);
  const result = await outcome(pool.acquire());
  expect(result.ok || result.error.code).toBe('ECONNREFUSED');
});
