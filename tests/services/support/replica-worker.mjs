// One replica of a service for the multi-process budget tests: an AsyncPool of pg clients that
// shares a RedisBudget with its siblings. Plain JavaScript on the built package (dist/esm), so it
// starts as a process of its own without a TypeScript loader. Driven over IPC by
// budget-replicas.test.ts; it reports every unhandled rejection instead of dying of it.
import os from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';
import { AsyncPool } from '../../../dist/esm/index.js';
import { RedisBudget } from '../../../dist/esm/redis-budget/index.js';

const env = process.env;
const unhandled = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(String(reason?.stack ?? reason));
  send({ type: 'unhandled', reason: String(reason?.stack ?? reason) });
});

function send(message) {
  if (process.connected) process.send(message);
}

const redis = new Redis(env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1_000, retryStrategy: () => 100 });
redis.on('error', () => {}); // outages are expected here; the budget reports what matters
const budgetErrors = { refresh: 0, lost: 0, release: 0, other: 0 };
const budget = new RedisBudget({
  client: redis,
  key: env.BUDGET_KEY,
  limit: Number(env.BUDGET_LIMIT),
  leaseTtlMs: Number(env.LEASE_TTL_MS),
  refreshIntervalMs: Math.round(Number(env.LEASE_TTL_MS) / 3),
  retryIntervalMs: 30,
  commandTimeoutMs: 500,
  onError: (error) => {
    budgetErrors[error?.operation ?? 'other']++;
  },
});

const pool = new AsyncPool({
  factory: async () => {
    const client = new pg.Client({
      host: env.PGHOST ?? '127.0.0.1',
      port: env.PGPORT === undefined ? 5432 : Number(env.PGPORT),
      database: env.PGDATABASE ?? 'test',
      user: env.PGUSER ?? os.userInfo().username,
      application_name: env.APP_NAME,
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', () => {}); // a broken connection fails its next query; the pool closes it
    await client.connect();
    return client;
  },
  releaser: (client) => client.end(),
  maxSize: Number(env.MAX_SIZE),
  budget,
  acquireTimeoutMs: 20_000,
  ...(env.RECYCLE_MS === undefined ? {} : { recycleMs: Number(env.RECYCLE_MS), recycleJitter: 0.5 }),
});
pool.on('error', () => {});

const holding = [];

async function load({ jobs, concurrency, sleepMs }) {
  let next = 0;
  let done = 0;
  const failed = {};
  const worker = async () => {
    while (next < jobs) {
      next++;
      try {
        await pool.use((client) => client.query('SELECT pg_sleep($1)', [sleepMs / 1000]));
        done++;
        if (done % 10 === 0) send({ type: 'progress', done });
      } catch (error) {
        const code = error?.code ?? String(error);
        failed[code] = (failed[code] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, failed };
}

function status() {
  return {
    held: budget.held,
    size: pool.size,
    idle: pool.idle,
    borrowed: pool.borrowed,
    redis: redis.status,
    budgetErrors,
    unhandled: unhandled.length,
    stats: pool.stats(),
  };
}

process.on('message', async (message) => {
  try {
    switch (message.type) {
      case 'load':
        send({ type: 'loaded', id: message.id, ...(await load(message)), status: status() });
        break;
      case 'hold':
        for (let i = 0; i < message.n; i++) holding.push(await pool.acquire());
        send({ type: 'holding', id: message.id, n: holding.length, status: status() });
        break;
      case 'unhold':
        for (const client of holding.splice(0)) pool.release(client);
        send({ type: 'unheld', id: message.id, status: status() });
        break;
      case 'status':
        send({ type: 'status', id: message.id, status: status() });
        break;
      case 'exit':
        for (const client of holding.splice(0)) pool.release(client);
        await pool.dispose({ timeoutMs: 5_000 });
        await budget.close();
        redis.disconnect();
        send({ type: 'exited', id: message.id, status: status() });
        process.disconnect();
        break;
    }
  } catch (error) {
    send({ type: 'failed', id: message.id, error: String(error?.stack ?? error), code: error?.code });
  }
});

await new Promise((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', resolve)));
send({ type: 'ready', pid: process.pid });
