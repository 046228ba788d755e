/**
 * poolkeeper/pg against a real PostgreSQL (127.0.0.1:5432, database `test`; PG* variables
 * override), and Kysely running queries and transactions through it. Run with `npm run test:services`.
 */
import net from 'node:net';
import { Kysely, PostgresDialect, sql, type Generated } from 'kysely';
import pg from 'pg';
import { Pool, type PoolConfig } from '../../src/pg/index.js';
import { pgConfig } from '../../examples/postgres.js';

const base = pgConfig({ connectionTimeoutMillis: 3_000 });
let admin: pg.Client;
const pools: InstanceType<typeof Pool>[] = [];
let nextName = 0;

beforeAll(async () => {
  admin = new pg.Client({ ...base, application_name: 'poolkeeper-pg-admin' });
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL not reachable at ${base.host}:${base.port} (database "${base.database}", user "${base.user}"): ${String(error)}`, { cause: error });
  }
});

afterEach(async () => {
  await Promise.all(pools.splice(0).filter((p) => !p.ending).map((p) => p.end()));
});

afterAll(async () => {
  await admin?.end();
});

function makePool(config: PoolConfig = {}): { pool: InstanceType<typeof Pool>; app: string } {
  const app = `poolkeeper-pg-${process.pid}-${++nextName}`;
  const pool = new Pool({ ...base, application_name: app, ...config });
  pools.push(pool);
  return { pool, app };
}

async function backends(app: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]);
  return rows[0]!.n;
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('query() and connect() against the server; end() closes every backend', async () => {
  const { pool, app } = makePool({ max: 3 });
  const { rows } = await pool.query<{ name: string }>('SELECT $1::text AS name', ['brianc']);
  expect(rows).toEqual([{ name: 'brianc' }]);
  const client = await pool.connect();
  expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  client.release();
  expect(await backends(app)).toBeGreaterThan(0);
  await pool.end();
  expect(pool.ended).toBe(true);
  await until(async () => (await backends(app)) === 0);
});

test('end() lets queued queries finish (pg-pool drops them)', async () => {
  const { pool, app } = makePool({ max: 2 });
  const queries = Array.from({ length: 10 }, (_, i) => pool.query('SELECT $1::int AS i, pg_sleep(0.01)', [i]));
  await pool.end();
  const results = await Promise.all(queries);
  expect(results.map((r) => r.rows[0].i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  await until(async () => (await backends(app)) === 0);
});

test('an idle client whose backend is terminated is removed and reported; the process survives; the next query works', async () => {
  const { pool } = makePool({ max: 1 });
  const client = await pool.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  client.release();
  const reported = new Promise<[Error, unknown]>((resolve) => pool.once('error', (err, c) => resolve([err, c])));
  await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
  const [err, errClient] = await reported;
  expect(errClient).toBe(client);
  expect(err.message).toMatch(/terminat/);
  expect(pool.totalCount).toBe(0);
  const again = await pool.query<{ one: number }>('SELECT 1 AS one');
  expect(again.rows).toEqual([{ one: 1 }]);
});

test('with no error listener, a terminated idle client does not crash the process', async () => {
  const { pool } = makePool({ max: 1 });
  const client = await pool.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  client.release();
  await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
  await until(() => pool.totalCount === 0);
  expect((await pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
});

test('a client released inside a transaction is rolled back: its row is gone and its locks are free', async () => {
  const table = `pk_pg_tx_${process.pid}`;
  await admin.query(`CREATE TABLE IF NOT EXISTS ${table} (id int PRIMARY KEY)`);
  try {
    const { pool } = makePool({ max: 1 });
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${table} VALUES (1)`);
    client.release(); // forgot COMMIT/ROLLBACK
    const next = await pool.connect();
    expect(next).toBe(client);
    expect(next.getTransactionStatus?.() ?? 'I').toBe('I');
    next.release();
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(rows[0].n).toBe(0);
    await admin.query(`INSERT INTO ${table} VALUES (1)`); // no lock left behind
  } finally {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
  }
});

test('maxUses closes a connection after that many checkouts; the next is a new backend', async () => {
  const { pool } = makePool({ max: 1, maxUses: 2 });
  const pid = async (): Promise<number> => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const first = await pid();
  expect(await pid()).toBe(first);
  expect(await pid()).not.toBe(first);
});

test('connectionTimeoutMillis against a server that never answers: the caller gets a timeout, the socket is closed', async () => {
  const sockets = new Set<net.Socket>();
  let closed = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('close', () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const { pool } = makePool({ host: '127.0.0.1', port, connectionTimeoutMillis: 200 });
    await expect(pool.connect()).rejects.toThrow(/timeout/);
    await until(() => sockets.size === 1 && closed === 1);
    expect(pool.totalCount).toBe(0);
    await pool.end();
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

interface Database {
  [table: string]: { id: Generated<number>; name: string };
}

test('Kysely runs queries and transactions through poolkeeper/pg', async () => {
  const table = `pk_kysely_${process.pid}`;
  const { pool, app } = makePool({ max: 4 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await db.schema.createTable(table).ifNotExists().addColumn('id', 'serial', (c) => c.primaryKey()).addColumn('name', 'text', (c) => c.notNull()).execute();
    await db.insertInto(table).values([{ name: 'ada' }, { name: 'grace' }]).execute();
    await db.transaction().execute(async (trx) => {
      await trx.insertInto(table).values({ name: 'edsger' }).execute();
    });
    await expect(db.transaction().execute(async (trx) => {
      await trx.insertInto(table).values({ name: 'rolled back' }).execute();
      throw new Error('abort the transaction');
    })).rejects.toThrow('abort the transaction');
    const names = await db.selectFrom(table).select('name').orderBy('id').execute();
    expect(names.map((r) => r.name)).toEqual(['ada', 'grace', 'edsger']);
    const counted = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db);
    expect(counted.rows[0]!.n).toBe(3);
    // Concurrent queries share the pool's four connections.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => sql<{ i: number }>`SELECT ${i}::int AS i`.execute(db)));
    expect(many.map((r) => r.rows[0]!.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pool.totalCount).toBeLessThanOrEqual(4);
    await db.schema.dropTable(table).execute();
  } finally {
    await db.destroy(); // calls pool.end()
  }
  expect(pool.ended).toBe(true);
  await until(async () => (await backends(app)) === 0);
});
