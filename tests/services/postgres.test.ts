/**
 * AsyncPool of `pg.Client`s (the pool from examples/postgres.ts) against a real PostgreSQL:
 * 127.0.0.1:5432, database `test`, user `$PGUSER` or the OS user; PG* variables override.
 * Run with `npm run test:services`. An unreachable server fails every test here, loudly.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { AsyncPool, PoolDisposedError, type PoolEvents } from '../../src/index.js';
import { createPgPool, disposeOnSignal, main, pgConfig, type PgPoolOptions } from '../../examples/postgres.js';
import { outcome } from '../helpers.js';

const config = pgConfig({ connectionTimeoutMillis: 3_000 });
let admin: pg.Client;
const pools: AsyncPool<pg.Client>[] = [];
let nextName = 0;

beforeAll(async () => {
  admin = new pg.Client({ ...config, application_name: 'poolkeeper-test-admin' });
  admin.on('error', () => {});
  try {
    await admin.connect();
    await admin.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL not reachable at ${config.host}:${config.port} (database "${config.database}", user "${config.user}") — ` +
      `start it or set PG* variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD). Cause: ${String(error)}`,
      { cause: error },
    );
  }
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.dispose({ timeoutMs: 2_000 })));
});

afterAll(async () => {
  await admin?.end();
});

/** A pool whose connections carry a name of their own, so the test can find its backends. */
function makePool(options: PgPoolOptions['pool'] = {}, idleCheckMs?: number): { pool: AsyncPool<pg.Client>; app: string } {
  const app = `poolkeeper-test-${process.pid}-${++nextName}`;
  const pool = createPgPool({
    config: { ...config, application_name: app },
    ...(idleCheckMs === undefined ? {} : { idleCheckMs }),
    pool: options,
  });
  pools.push(pool);
  return { pool, app };
}

async function backendPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]!.pid;
}

async function backends(app: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]);
  return rows[0]!.n;
}

/** Polls `condition` (server-side effects we cannot await directly), failing after `timeoutMs`. */
async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function ended(client: pg.Client): Promise<void> {
  return new Promise((resolve) => client.once('end', () => resolve()));
}

test('examples/postgres.ts runs against the server and reports what it did', async () => {
  const lines: string[] = [];
  const summary = await main({ log: (line) => lines.push(line), signals: new EventEmitter(), config });
  expect(summary).toEqual({
    clients: 5,
    lookups: 400,
    lookupsOk: 400,
    transfers: 30,
    balanceKept: true,
    leftOpenRolledBack: true,
    queriesAfterKill: 10,
    replacedAfterKill: 1,
    connectionsOpened: 6,
    backendsAfterDispose: 0,
  });
  expect(lines.length).toBeGreaterThanOrEqual(6);
});

test('64 callers share maxSize connections: the server never sees more', async () => {
  const { pool, app } = makePool({ maxSize: 4 });
  let peak = 0;
  const results = await Promise.all(Array.from({ length: 64 }, (_, i) =>
    pool.use(async (client) => {
      peak = Math.max(peak, pool.size);
      const { rows } = await client.query<{ n: number }>('SELECT $1::int AS n', [i]);
      return rows[0]!.n;
    })));
  expect(results).toEqual(Array.from({ length: 64 }, (_, i) => i));
  expect(peak).toBeLessThanOrEqual(4);
  // The 64 calls queued at once, so the pool started maxSize creations; but the callers may all
  // have been served by the first connections (a release goes to the oldest waiter) before the
  // last ones finished connecting. Counting the server's backends then saw fewer than 4 on a
  // loaded machine: wait for the creations in flight, then count.
  await waitFor(() => pool.creating === 0);
  expect(pool.stats().created).toBe(4);
  expect(await backends(app)).toBe(4);
});

test('a backend killed while its client is idle: the pool replaces it transparently for the next caller', async () => {
  const { pool, app } = makePool({ maxSize: 1 });
  const client = await pool.acquire();
  const pid = await backendPid(client);
  const gone = ended(client);
  pool.release(client);

  const { rows } = await admin.query<{ killed: boolean }>('SELECT pg_terminate_backend($1) AS killed', [pid]);
  expect(rows[0]!.killed).toBe(true);
  await gone; // the client has seen its connection close

  const next = await pool.use(async (c) => ({ client: c, pid: await backendPid(c) }));
  expect(next.client).not.toBe(client);
  expect(next.pid).not.toBe(pid);
  expect(pool.stats()).toMatchObject({ validationFailed: 1, created: 2, size: 1 });
  expect(pool.stats().destroyed.invalid).toBe(1);
  expect(await backends(app)).toBe(1);
});

test('a backend killed during a query: the query fails with 57P01; released, the client is closed, not reused', async () => {
  const { pool } = makePool({ maxSize: 1 });
  const errors: PoolEvents<pg.Client>['error'][] = [];
  pool.on('error', (event) => errors.push(event));
  const client = await pool.acquire();
  const pid = await backendPid(client);
  const sleeping = outcome(client.query('SELECT pg_sleep(10)'));
  await waitFor(async () => {
    const { rows } = await admin.query<{ state: string }>('SELECT state FROM pg_stat_activity WHERE pid = $1', [pid]);
    return rows[0]?.state === 'active';
  });
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  const result = await sleeping;
  expect(result.ok || result.error.code).toBe('57P01'); // admin_shutdown

  pool.release(client); // reset sees the broken connection and closes the client
  expect(pool.stats().destroyed.invalid).toBe(1);
  expect(errors.map((event) => event.operation)).toEqual(['reset']);
  expect(await pool.use((c) => backendPid(c))).not.toBe(pid);
});

test('reset rolls back a transaction left open, so the next caller does not inherit it', async () => {
  const { pool } = makePool({ maxSize: 1 });
  const client = await pool.acquire();
  await client.query('CREATE TEMP TABLE t (n int)'); // a temp table lives as long as this connection
  await client.query('BEGIN');
  await client.query('INSERT INTO t VALUES (1)');
  expect(client.getTransactionStatus()).toBe('T');
  pool.release(client);

  const next = await pool.acquire();
  expect(next).toBe(client);
  expect(next.getTransactionStatus()).toBe('I');
  const { rows } = await next.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
  expect(rows[0]!.n).toBe(0);
  pool.release(next);
});

test('reset rolls back a failed transaction: the next caller is not stuck with "current transaction is aborted"', async () => {
  const { pool } = makePool({ maxSize: 1 });
  const client = await pool.acquire();
  await client.query('BEGIN');
  const failed = await outcome(client.query('SELECT 1 / 0'));
  expect(failed.ok || failed.error.code).toBe('22012'); // division_by_zero
  // 'E' once the server's ReadyForQuery has arrived; until then pg still reports 'T'. Either way, not idle.
  expect(['T', 'E']).toContain(client.getTransactionStatus());
  pool.release(client);

  const { rows } = await pool.use((c) => c.query<{ n: number }>('SELECT 7 AS n'));
  expect(rows[0]!.n).toBe(7);
});

test('validate asks SELECT 1 only of a client idle at least idleCheckMs', async () => {
  const { pool } = makePool({ maxSize: 1 }, 300);
  const lastQuery = async (pid: number): Promise<string> => {
    const { rows } = await admin.query<{ query: string }>('SELECT query FROM pg_stat_activity WHERE pid = $1', [pid]);
    return rows[0]!.query;
  };
  const client = await pool.acquire();
  const pid = await backendPid(client);
  await client.query('SELECT 42');
  pool.release(client);

  await pool.acquire(); // idle a moment: no round trip
  expect(await lastQuery(pid)).toBe('SELECT 42');
  pool.release(client);

  await new Promise((resolve) => setTimeout(resolve, 400));
  await pool.acquire(); // idle longer than the window: checked first
  expect(await lastQuery(pid)).toBe('SELECT 1');
  pool.release(client);
});

test('recycling: a connection past recycleMs is closed and the next caller gets a new backend', async () => {
  const { pool, app } = makePool({ maxSize: 1, recycleMs: 200, recycleJitter: 0 });
  const first = await pool.use((c) => backendPid(c));
  await waitFor(() => pool.stats().destroyed.recycled === 1);
  await waitFor(async () => (await backends(app)) === 0);
  const second = await pool.use((c) => backendPid(c));
  expect(second).not.toBe(first);
});

test('a recycled client that is borrowed at expiry is closed when it comes back, never handed out again', async () => {
  const { pool } = makePool({ maxSize: 1, recycleMs: 200, recycleJitter: 0 });
  const client = await pool.acquire();
  await client.query('SELECT pg_sleep(0.4)'); // outlives its lifetime while borrowed
  pool.release(client);
  expect(pool.stats().destroyed.recycled).toBe(1);
  const next = await pool.acquire();
  expect(next).not.toBe(client);
  pool.release(next);
});

test('SIGTERM disposes the pool gracefully: a query in flight finishes, waiters are rejected, all connections close', async () => {
  const { pool, app } = makePool({ maxSize: 1 });
  const signals = new EventEmitter();
  const lines: string[] = [];
  disposeOnSignal(pool, { emitter: signals, log: (line) => lines.push(line) });
  expect(signals.listenerCount('SIGTERM')).toBe(1);

  const client = await pool.acquire();
  const inFlight = client.query<{ n: number }>('SELECT pg_sleep(0.2), 5 AS n');
  const waiter = outcome(pool.acquire());
  signals.emit('SIGTERM', 'SIGTERM');

  expect(pool.disposed).toBe(true);
  expect(signals.listenerCount('SIGTERM')).toBe(0);
  expect(signals.listenerCount('SIGINT')).toBe(0);
  const rejected = await waiter;
  expect(rejected.ok || rejected.error).toBeInstanceOf(PoolDisposedError);
  const late = await outcome(pool.acquire());
  expect(late.ok || late.error.code).toBe('ERR_POOL_DISPOSED');

  expect((await inFlight).rows[0]!.n).toBe(5);
  expect(await backends(app)).toBe(1);
  pool.release(client);
  await pool.dispose(); // the same promise the signal started
  await waitFor(async () => (await backends(app)) === 0);
  expect(pool.stats().destroyed.disposed).toBe(1);
  expect(lines[0]).toContain('SIGTERM');
});

test('an unreachable server: the caller gets the connection error itself', async () => {
  const pool = createPgPool({ config: { ...config, port: 1 }, pool: { maxSize: 1 } });
  pools.push(pool);
  const result = await outcome(pool.acquire());
  expect(result.ok || result.error.code).toBe('ECONNREFUSED');
});

test('a database that does not exist: the caller gets the server error (3D000)', async () => {
  const pool = createPgPool({ config: { ...config, database: 'poolkeeper_no_such_database' }, pool: { maxSize: 1 } });
  pools.push(pool);
  const result = await outcome(pool.acquire());
  expect(result.ok || result.error.code).toBe('3D000'); // invalid_catalog_name
  expect(pool.stats()).toMatchObject({ created: 0, createFailed: 1, size: 0 });
});
