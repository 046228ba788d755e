/**
 * Running N replicas against one PostgreSQL: three worker processes, each with its own pool of
 * `maxSize` 8, share a budget of 10 connections through Redis (`poolkeeper/redis-budget`), so
 * together they never open more than 10, however busy each one is.
 *
 *     npm run example -- replicas
 *
 * Needs PostgreSQL (127.0.0.1:5432, database `test`; PG* variables override) and Redis
 * (127.0.0.1:6379; REDIS_URL overrides). The parent process starts the workers, watches
 * `pg_stat_activity` while they run, and prints the most connections it saw at once.
 *
 * What each worker sets up, and why:
 * - `RedisBudget` with `leaseTtlMs` 5 000: a worker that dies gives its permits back to the others
 *   within 5 s, without anyone cleaning up.
 * - `recycleMs` 2 000: connections are replaced now and then, so permits move between workers
 *   that compete for them (a pool never gives up a connection it keeps busy).
 * - `isOverCapacity` for SQLSTATE 53300: should the server still refuse a connection (another
 *   client took the last slot), the caller waits and retries instead of failing.
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { AsyncPool } from 'poolkeeper';
import { RedisBudget } from 'poolkeeper/redis-budget';

const WORKERS = 3;
const MAX_SIZE = 8;
const BUDGET = 10;
const JOBS = 200;

function pgConfig(applicationName: string): pg.ClientConfig {
  const env = process.env;
  return {
    host: env.PGHOST ?? '127.0.0.1',
    port: env.PGPORT === undefined ? 5432 : Number(env.PGPORT),
    database: env.PGDATABASE ?? 'test',
    user: env.PGUSER ?? os.userInfo().username,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
  };
}

/** One replica: its own pool, the shared budget, `JOBS` queries 8 at a time. */
async function worker(key: string, applicationName: string): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  redis.on('error', (error: Error) => console.error(`[${process.pid}] redis: ${error.message}`));
  const budget = new RedisBudget({ client: redis, key, limit: BUDGET, leaseTtlMs: 5_000 });
  const pool = new AsyncPool<pg.Client>({
    factory: async () => {
      const client = new pg.Client(pgConfig(applicationName));
      client.on('error', () => {}); // a dead connection fails its next query
      await client.connect();
      return client;
    },
    releaser: (client) => client.end(),
    maxSize: MAX_SIZE,
    budget,
    recycleMs: 2_000,
    isOverCapacity: (error) => (error as { code?: unknown }).code === '53300',
  });
  let done = 0;
  await Promise.all(Array.from({ length: MAX_SIZE }, async () => {
    while (done < JOBS) {
      done++;
      await pool.use((client) => client.query('SELECT pg_sleep(0.01)'));
    }
  }));
  await pool.dispose();
  await budget.close();
  await redis.quit();
  process.send?.({ done, created: pool.stats().created });
}

/** What {@link main} saw. */
export interface ReplicasSummary {
  /** Most connections of the workers that PostgreSQL listed at once. */
  readonly peak: number;
  /** Queries each worker ran. */
  readonly done: readonly number[];
}

/** Starts the workers, samples `pg_stat_activity` until they finish, and reports. */
export async function main({ log = console.log }: { log?: (line: string) => void } = {}): Promise<ReplicasSummary> {
  const run = `${process.pid}-${Date.now()}`;
  const applicationName = `poolkeeper-replicas-${run}`;
  const key = `poolkeeper:example:replicas:${run}`;
  const observer = new pg.Client(pgConfig('poolkeeper-replicas-observer'));
  await observer.connect();
  const file = fileURLToPath(import.meta.url);
  const children = Array.from({ length: WORKERS }, () => fork(file, ['worker', key, applicationName]));
  const results = children.map((child) => new Promise<{ done: number; created: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { done: number; created: number }));
    child.once('exit', (code) => reject(new Error(`worker ${child.pid} exited with ${code} before reporting`)));
  }));
  let finished = false;
  const all = Promise.all(results).finally(() => (finished = true));
  let peak = 0;
  while (!finished) {
    const { rows } = await observer.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    peak = Math.max(peak, rows[0]!.n);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const reports = await all;
  await observer.end();
  for (const [i, report] of reports.entries()) log(`worker ${i + 1}: ${report.done} queries on ${report.created} connections it opened over time`);
  log(`PostgreSQL saw at most ${peak} of these connections at once (budget ${BUDGET}, ${WORKERS} pools of maxSize ${MAX_SIZE}).`);
  return { peak, done: reports.map((r) => r.done) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, key, applicationName] = process.argv.slice(2);
  const running = mode === 'worker' ? worker(key!, applicationName!) : main().then(() => undefined);
  running.catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
