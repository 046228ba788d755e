/**
 * Pooling Redis connections (ioredis, one connection per pooled resource).
 *
 *     npm run example -- redis
 *
 * Needs a Redis server at 127.0.0.1:6379 (REDIS_URL overrides, e.g. redis://host:6380/0).
 *
 * One ioredis client multiplexes every command on one connection, which is right for plain
 * commands. A pool of connections is for what needs a connection of its own: WATCH/MULTI/EXEC
 * (WATCH belongs to a connection), blocking commands (BLPOP holds its connection until an item
 * arrives) and anything that changes a connection's state.
 *
 * What the pool does for each connection:
 * - factory: `lazyConnect` then `connect()`, so a failure reaches the caller; no automatic
 *   reconnect (a reconnected connection has silently lost its WATCH and state: the pool replaces
 *   broken connections instead) and no offline queue (commands on a dead connection fail at once).
 * - validate: a connection that is not `ready` (killed, server restarted) is never handed out;
 *   that check is local and free. One idle `idleCheckMs` or more is also sent a PING first.
 * - reset: on every release, one round trip (UNWATCH + CLIENT INFO, pipelined): a WATCH left
 *   behind is dropped so it cannot abort the next caller's transaction; a connection left
 *   subscribed, in monitor mode, inside an open MULTI, or broken is closed instead of kept.
 *   (CLIENT INFO needs Redis 6.2 or later.)
 */
import { pathToFileURL } from 'node:url';
import { Redis, type RedisOptions } from 'ioredis';
import { AsyncPool, type AsyncPoolOptions } from 'poolkeeper';

/** The server: REDIS_URL, or redis://127.0.0.1:6379. */
export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** Options of {@link createRedisPool}. */
export interface RedisPoolOptions {
  /** @defaultValue redisUrl() */
  readonly url?: string;
  /** More ioredis options (connectionName, db, password …). */
  readonly redis?: RedisOptions;
  /** A connection idle at least this long gets a PING before it is handed out. 0 pings every time. @defaultValue 30 000 */
  readonly idleCheckMs?: number;
  /** Any other pool option (maxSize, recycleMs, name …). */
  readonly pool?: Omit<AsyncPoolOptions<Redis>, 'factory' | 'releaser' | 'validate' | 'reset' | 'validateIdleAfterMs'>;
}

/** A pool of connected ioredis clients, one connection each. */
export function createRedisPool(options: RedisPoolOptions = {}): AsyncPool<Redis> {
  const url = options.url ?? redisUrl();
  const idleCheckMs = options.idleCheckMs ?? 30_000;
  const idleSince = new WeakMap<Redis, number>();

  return new AsyncPool<Redis>({
    name: 'redis',
    maxSize: 10,
    acquireTimeoutMs: 10_000,
    createTimeoutMs: 10_000,
    recycleMs: 30 * 60_000,
    idleTimeoutMs: 5 * 60_000,
    ...options.pool,
    factory: async () => {
      const connection = new Redis(url, {
        connectTimeout: 5_000,
        ...options.redis,
        lazyConnect: true,
        retryStrategy: () => null,
        enableOfflineQueue: false,
      });
      // Later failures reach callers through their commands (and validate/reset); this listener
      // keeps ioredis from printing "Unhandled error event", and keeps the cause of a failed
      // connect, which ioredis reports only as "Connection is closed.".
      let lastError: Error | undefined;
      connection.on('error', (error: Error) => {
        lastError = error;
      });
      try {
        await connection.connect();
      } catch (error) {
        // disconnect() on an ended connection would arm a 2 s timer for nothing.
        if (connection.status !== 'end') connection.disconnect();
        throw lastError ?? error; // e.g. ECONNREFUSED, or the server's NOAUTH
      }
      idleSince.set(connection, performance.now());
      return connection;
    },
    // Closing the socket is all Redis needs (QUIT would only be queued inside an open MULTI).
    releaser: (connection) => new Promise<void>((resolve) => {
      if (connection.status === 'end') return resolve();
      connection.once('end', () => resolve());
      connection.disconnect();
    }),
    // Called on every hand-out (validateIdleAfterMs 0): the status check is free, and the PING
    // round trip happens only after an idle window, decided here.
    validateIdleAfterMs: 0,
    validate: (connection) => {
      if (connection.status !== 'ready') return false;
      if (performance.now() - idleSince.get(connection)! < idleCheckMs) return true;
      return connection.ping().then((reply) => reply === 'PONG');
    },
    reset: async (connection) => {
      if (connection.status !== 'ready') throw new Error(`connection is ${connection.status}`);
      if (connection.mode !== 'normal') throw new Error(`connection left in ${connection.mode} mode`);
      // One round trip: UNWATCH drops a WATCH left behind; CLIENT INFO shows the rest of the
      // connection's state on the server (with RESP3, ioredis's default, a subscribed connection
      // still reports mode 'normal'). Inside an open MULTI both are only QUEUED.
      const replies = await connection.pipeline().unwatch().client('INFO').exec();
      const [[unwatchError, unwatched], [infoError, info]] = replies!;
      if (unwatchError ?? infoError) throw unwatchError ?? infoError;
      if (unwatched !== 'OK') throw new Error('connection left inside MULTI');
      const subscriptions = [...String(info).matchAll(/\b[ps]?sub=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      if (subscriptions > 0) throw new Error('connection left subscribed');
      idleSince.set(connection, performance.now());
    },
  });
}

/**
 * Optimistic transaction on one pooled connection: WATCH `key`, compute the new value from the
 * current one, and SET it in MULTI/EXEC; retried when another client changed `key` meanwhile.
 * Returns how many attempts it took.
 */
export async function update(pool: AsyncPool<Redis>, key: string, next: (current: string | null) => string): Promise<number> {
  return pool.use(async (connection) => {
    for (let attempt = 1; ; attempt++) {
      await connection.watch(key);
      const current = await connection.get(key);
      const result = await connection.multi().set(key, next(current)).exec();
      if (result !== null) return attempt; // null: a watched key changed, EXEC did nothing
    }
  });
}

/** Connections the server has open under `name` (CLIENT SETNAME, ioredis `connectionName`). */
export async function connectionsNamed(connection: Redis, name: string): Promise<number> {
  const list = String(await connection.client('LIST'));
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}

/** {@link connectionsNamed}, waiting (up to 2 s) for it to reach `expected`: the server drops a connection a moment after QUIT. */
async function settledConnectionsNamed(connection: Redis, name: string, expected: number): Promise<number> {
  let count = await connectionsNamed(connection, name);
  for (let i = 0; i < 40 && count !== expected; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    count = await connectionsNamed(connection, name);
  }
  return count;
}

/** Resolves once `count` connections are idle (for the demo: release() returns while reset still runs). */
async function untilIdle(pool: AsyncPool<Redis>, count: number): Promise<void> {
  while (pool.idle < count) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** What {@link main} did, for the reader and for tests. */
export interface RedisSummary {
  readonly connections: number;
  readonly increments: number;
  readonly counter: number;
  /** Transactions that had to be retried because another caller changed the key first. */
  readonly retries: number;
  readonly jobsPushed: number;
  readonly jobsConsumed: number;
  /** True when a WATCH left behind by a careless caller did not abort the next transaction. */
  readonly staleWatchCleared: boolean;
  /** Commands run right after a connection was killed (all should succeed). */
  readonly commandsAfterKill: number;
  /** Connections validate found dead and the pool replaced. */
  readonly replacedAfterKill: number;
  /** Connections opened over the whole run. */
  readonly connectionsOpened: number;
  /** Connections of this example still open on the server once `dispose()` resolved. */
  readonly openAfterDispose: number;
}

export interface MainOptions {
  /** Where the example prints what it does. @defaultValue console.log */
  readonly log?: (line: string) => void;
  /** @defaultValue redisUrl() */
  readonly url?: string;
}

/** Runs the example against the server at `redisUrl()`. */
export async function main({ log = console.log, url = redisUrl() }: MainOptions = {}): Promise<RedisSummary> {
  const name = `poolkeeper-example-${process.pid}`;
  const prefix = `poolkeeper:example:${process.pid}`;
  const connections = 4;
  const pool = createRedisPool({ url, redis: { connectionName: name }, pool: { maxSize: connections } });
  // Outside the pool: an observer that counts the example's connections on the server, and
  // cleans up its keys even if the example fails.
  const observer = new Redis(url, { lazyConnect: true, retryStrategy: () => null, connectionName: `${name}-observer` });
  observer.on('error', () => {});
  try {
    await observer.connect();
    await pool.prefill();
    log(`Connected ${pool.size} Redis connections to ${url} (prefill).`);

    // 1. WATCH/MULTI/EXEC needs a connection of its own: 20 callers increment one counter.
    const counterKey = `${prefix}:counter`;
    const callers = 20;
    const perCaller = 5;
    let retries = 0;
    await Promise.all(Array.from({ length: callers }, async () => {
      for (let i = 0; i < perCaller; i++) {
        retries += (await update(pool, counterKey, (current) => String(Number(current ?? 0) + 1))) - 1;
      }
    }));
    const counter = Number(await observer.get(counterKey));
    log(`${callers} concurrent callers made ${callers * perCaller} optimistic increments on ${connections} connections: ` +
      `counter = ${counter}, after ${retries} retries on conflicts.`);

    // 2. Blocking pops hold a connection each: three consumers, one producer.
    const queueKey = `${prefix}:jobs`;
    const jobs = 9;
    let consumed = 0;
    const consumers = Array.from({ length: 3 }, () => pool.use(async (connection) => {
      for (;;) {
        const item = await connection.blpop(queueKey, 5);
        if (item === null || item[1] === 'stop') return;
        consumed++;
      }
    }));
    await pool.use(async (connection) => {
      for (let i = 1; i <= jobs; i++) await connection.rpush(queueKey, `job ${i}`);
      await connection.rpush(queueKey, 'stop', 'stop', 'stop');
    });
    await Promise.all(consumers);
    log(`Three consumers blocked in BLPOP on their own connections while a fourth pushed ${jobs} jobs; ${consumed} consumed.`);

    // 3. Careless callers WATCH a key and give their connections back without EXEC. reset sends
    //    UNWATCH, so once the key has changed, transactions on those connections still run.
    const watchedKey = `${prefix}:watched`;
    const careless = await Promise.all(Array.from({ length: connections }, () => pool.acquire()));
    for (const connection of careless) await connection.watch(watchedKey);
    for (const connection of careless) pool.release(connection);
    await observer.set(watchedKey, 'changed');
    // All connections are out (being reset), so these wait for them: each runs on one of them.
    const results = await Promise.all(careless.map(() => pool.use((connection) => connection.multi().incr(`${prefix}:other`).exec())));
    const staleWatchCleared = results.every((result) => result !== null);
    log(`${connections} callers left a WATCH on their connections; reset cleared them, so the next ${connections} MULTI/EXEC there ` +
      `${staleWatchCleared ? 'all ran' : 'were ABORTED'}.`);

    // 4. The server kills one pooled connection while it is idle.
    const victim = await pool.acquire();
    const id = await victim.client('ID');
    const ended = new Promise((resolve) => victim.once('end', resolve));
    pool.release(victim);
    await untilIdle(pool, connections); // reset is a round trip: wait until the victim is idle again
    await observer.client('KILL', 'ID', id);
    await ended; // the client has seen its connection close
    let commandsAfterKill = 0;
    await Promise.all(Array.from({ length: connections * 2 }, async () => {
      if ((await pool.use((connection) => connection.ping())) === 'PONG') commandsAfterKill++;
    }));
    const replacedAfterKill = pool.stats().validationFailed;
    log(`CLIENT KILL closed connection ${id}; the next ${commandsAfterKill} commands all succeeded: ` +
      `validate caught ${replacedAfterKill} dead connection and the pool opened a new one.`);

    await pool.dispose();
    const connectionsOpened = pool.stats().created; // after dispose(): a replacement may still have been connecting
    const openAfterDispose = await settledConnectionsNamed(observer, name, 0);
    log(`dispose() closed every connection (${connectionsOpened} opened in all; ${openAfterDispose} left on the server).`);
    return {
      connections,
      increments: callers * perCaller,
      counter,
      retries,
      jobsPushed: jobs,
      jobsConsumed: consumed,
      staleWatchCleared,
      commandsAfterKill,
      replacedAfterKill,
      connectionsOpened,
      openAfterDispose,
    };
  } finally {
    await pool.dispose();
    if (observer.status === 'ready') {
      await observer.del(`${prefix}:counter`, `${prefix}:jobs`, `${prefix}:watched`, `${prefix}:other`);
      await observer.quit();
    } else if (observer.status !== 'end') {
      observer.disconnect();
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
