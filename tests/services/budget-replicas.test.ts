/**
 * Several Node processes, each with an AsyncPool of pg clients (maxSize 8), share one RedisBudget
 * (limit 10), against the real PostgreSQL and Redis. What PostgreSQL itself sees
 * (`pg_stat_activity`, filtered by an application_name unique to the test) is the ground truth.
 * The replicas run tests/services/support/replica-worker.mjs on the built package; dist/esm is
 * rebuilt first if it is older than src/.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { OwnRedis } from './support/redis-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const workerPath = path.join(root, 'tests/services/support/replica-worker.mjs');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MAX_SIZE = 8;
const LIMIT = 10;
let admin: pg.Client;
let redisAdmin: Redis;
const replicas: Replica[] = [];
let run = 0;

type Message = { type: string; id?: number; [key: string]: unknown };

/** One replica process, driven over IPC. */
class Replica {
  readonly child: ChildProcess;
  readonly messages: Message[] = [];
  readonly unhandled: string[] = [];
  exitCode: number | null | undefined = undefined;
  exitSignal: NodeJS.Signals | null = null;
  #nextId = 0;
  readonly #waiting = new Map<number, (message: Message) => void>();
  readonly ready: Promise<void>;

  constructor(env: Record<string, string>) {
    this.child = fork(workerPath, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let onReady!: () => void;
    this.ready = new Promise((resolve) => (onReady = resolve));
    this.child.on('message', (message: Message) => {
      this.messages.push(message);
      if (message.type === 'ready') onReady();
      if (message.type === 'unhandled') this.unhandled.push(String(message.reason));
      if (message.id !== undefined) {
        const done = this.#waiting.get(message.id);
        this.#waiting.delete(message.id);
        done?.(message);
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      for (const done of this.#waiting.values()) done({ type: 'died', code, signal });
      this.#waiting.clear();
    });
  }

  request(message: Message): Promise<Message> {
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.child.send({ ...message, id });
    });
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }
}

function ensureBuilt(): void {
  const newest = (dir: string): number => Math.max(0, ...fs.readdirSync(dir, { withFileTypes: true }).map((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs;
  }));
  const built = path.join(root, 'dist/esm/redis-budget/index.js');
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newest(path.join(root, 'src'))) {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }
}

async function backends(app: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]);
  return rows[0]!.n;
}

function startReplicas(count: number, env: Record<string, string>): Replica[] {
  const started = Array.from({ length: count }, () => new Replica(env));
  replicas.push(...started);
  return started;
}

function names(): { app: string; key: string } {
  run++;
  return { app: `poolkeeper-budget-${process.pid}-${run}`, key: `poolkeeper:test:replicas:${process.pid}:${run}` };
}

beforeAll(async () => {
  ensureBuilt();
  admin = new pg.Client({
    host: process.env.PGHOST ?? '127.0.0.1',
    port: process.env.PGPORT === undefined ? 5432 : Number(process.env.PGPORT),
    database: process.env.PGDATABASE ?? 'test',
    user: process.env.PGUSER ?? os.userInfo().username,
    application_name: 'poolkeeper-test-observer',
  });
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL not reachable (PG* variables override 127.0.0.1:5432/test). Cause: ${String(error)}`, { cause: error });
  }
  redisAdmin = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 3_000 });
  redisAdmin.on('error', () => {});
  try {
    await redisAdmin.connect();
  } catch (error) {
    throw new Error(`Redis not reachable at ${redisUrl} — start it or set REDIS_URL. Cause: ${String(error)}`, { cause: error });
  }
}, 120_000);

afterEach(async () => {
  // Each replica disposes its pool, closes its budget and exits; one that does not within 8 s is killed.
  await Promise.all(replicas.splice(0).map(async (replica) => {
    if (!replica.alive) return;
    const exited = new Promise((resolve) => replica.child.once('exit', resolve));
    replica.child.send({ type: 'exit', id: 0 });
    const timer = setTimeout(() => replica.child.kill('SIGKILL'), 8_000);
    await exited;
    clearTimeout(timer);
  }));
});

afterAll(async () => {
  await admin?.end();
  const keys = await redisAdmin.keys(`semaphore:poolkeeper:test:replicas:${process.pid}:*`);
  if (keys.length > 0) await redisAdmin.del(...keys);
  await redisAdmin?.quit();
});

test('three processes with maxSize 8 share a budget of 10: PostgreSQL never sees more than 10 connections, every process finishes its work', async () => {
  const { app, key } = names();
  const group = startReplicas(3, {
    REDIS_URL: redisUrl, BUDGET_KEY: key, BUDGET_LIMIT: String(LIMIT), LEASE_TTL_MS: '3000',
    MAX_SIZE: String(MAX_SIZE), APP_NAME: app, RECYCLE_MS: '400', // connections churn, so permits move between processes
  });
  await Promise.all(group.map((r) => r.ready));

  let peak = 0;
  let samples = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await backends(app));
      samples++;
    }
  })();
  const results = await Promise.all(group.map((r) => r.request({ type: 'load', jobs: 150, concurrency: MAX_SIZE, sleepMs: 10 })));
  sampling = false;
  await sampler;

  for (const result of results) {
    expect(result).toMatchObject({ type: 'loaded', done: 150, failed: {} });
  }
  console.log(`budget-replicas: peak ${peak} connections in pg_stat_activity over ${samples} samples (limit ${LIMIT}, 3 × maxSize ${MAX_SIZE})`);
  expect(samples).toBeGreaterThan(10);
  expect(peak).toBeGreaterThan(MAX_SIZE); // the processes really competed beyond what one pool holds
  expect(peak).toBeLessThanOrEqual(LIMIT);
  for (const replica of group) expect(replica.unhandled).toEqual([]);
}, 60_000);

test('a process SIGKILLed while holding permits: the others get them within the lease TTL plus a margin, and finish', async () => {
  const { app, key } = names();
  const ttl = 2_000;
  const group = startReplicas(3, {
    REDIS_URL: redisUrl, BUDGET_KEY: key, BUDGET_LIMIT: String(LIMIT), LEASE_TTL_MS: String(ttl),
    MAX_SIZE: String(MAX_SIZE), APP_NAME: app,
  });
  await Promise.all(group.map((r) => r.ready));
  const [victim, a, b] = group as [Replica, Replica, Replica];
  expect(await victim.request({ type: 'hold', n: 8 })).toMatchObject({ type: 'holding', n: 8 });
  await Promise.all([a.request({ type: 'hold', n: 1 }), b.request({ type: 'hold', n: 1 })]);
  expect(await redisAdmin.zcard(`semaphore:${key}`)).toBe(LIMIT);

  // Both survivors now want 5 each: 8 more, which only the victim's permits can give.
  const wanted = [a.request({ type: 'hold', n: 4 }), b.request({ type: 'hold', n: 4 })];
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  const got = await Promise.all(wanted);
  const recoveryMs = Date.now() - killedAt;
  console.log(`budget-replicas: permits of the SIGKILLed process recovered after ${recoveryMs} ms (lease TTL ${ttl} ms)`);
  for (const message of got) expect(message).toMatchObject({ type: 'holding', n: 5 });
  expect(recoveryMs).toBeLessThan(ttl + 8_000); // generous: the machine may be loaded
  expect(await backends(app)).toBeLessThanOrEqual(LIMIT);

  await Promise.all([a.request({ type: 'unhold' }), b.request({ type: 'unhold' })]);
  const finished = await Promise.all([a, b].map((r) => r.request({ type: 'load', jobs: 40, concurrency: MAX_SIZE, sleepMs: 5 })));
  for (const result of finished) expect(result).toMatchObject({ type: 'loaded', done: 40, failed: {} });
  expect(victim.exitSignal).toBe('SIGKILL');
  for (const replica of [a, b]) expect(replica.unhandled).toEqual([]);
}, 60_000);

describe('Redis stopped and restarted mid-run (a redis-server of the test\'s own)', () => {
  let server: OwnRedis;
  beforeAll(async () => {
    server = await OwnRedis.start();
  }, 20_000);
  afterAll(async () => {
    await server?.cleanup();
  });

  test('no process crashes, no unhandled rejection, idle resources keep being served, the budget resumes when Redis returns', async () => {
    const { app, key } = names();
    const ttl = 1_500;
    const group = startReplicas(3, {
      REDIS_URL: server.url, BUDGET_KEY: key, BUDGET_LIMIT: String(LIMIT), LEASE_TTL_MS: String(ttl),
      MAX_SIZE: String(MAX_SIZE), APP_NAME: app,
    });
    await Promise.all(group.map((r) => r.ready));
    // Warm: 3 idle connections in each pool (9 permits of 10).
    for (const result of await Promise.all(group.map((r) => r.request({ type: 'load', jobs: 9, concurrency: 3, sleepMs: 20 })))) {
      expect(result).toMatchObject({ done: 9, failed: {} });
    }

    await server.kill();
    // Every process has met a failed lease refresh (the path that crashes processes in
    // redis-semaphore's own refresh timer).
    const deadline = Date.now() + 15_000;
    for (;;) {
      const statuses = await Promise.all(group.map((r) => r.request({ type: 'status' })));
      if (statuses.every((s) => (s.status as { budgetErrors: { refresh: number } }).budgetErrors.refresh > 0)) break;
      if (Date.now() > deadline) throw new Error('no refresh failure seen during the outage');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Idle connections are served with Redis down...
    for (const result of await Promise.all(group.map((r) => r.request({ type: 'load', jobs: 30, concurrency: 3, sleepMs: 2 })))) {
      expect(result).toMatchObject({ done: 30, failed: {} });
    }
    // ...and callers that need a new connection fail fast with the budget's typed error.
    const outage = await Promise.all(group.map((r) => r.request({ type: 'load', jobs: 30, concurrency: 6, sleepMs: 2 })));
    let unavailable = 0;
    for (const result of outage) {
      const failed = result.failed as Record<string, number>;
      expect(Object.keys(failed).filter((code) => code !== 'ERR_BUDGET_UNAVAILABLE')).toEqual([]);
      unavailable += failed.ERR_BUDGET_UNAVAILABLE ?? 0;
      expect(result.done).toBeGreaterThan(0);
    }
    expect(unavailable).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, ttl)); // leases would have expired by now

    await server.restart(); // empty: every lease is gone
    for (const replica of group) {
      for (;;) {
        const s = await replica.request({ type: 'status' });
        if ((s.status as { redis: string }).redis === 'ready') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const after = await Promise.all(group.map((r) => r.request({ type: 'load', jobs: 30, concurrency: 3, sleepMs: 2 })));
    for (const result of after) expect(result).toMatchObject({ done: 30, failed: {} });
    // New connections are created under the budget again.
    const grown = await Promise.all(group.slice(0, 1).map((r) => r.request({ type: 'hold', n: 4 })));
    expect(grown[0]).toMatchObject({ type: 'holding', n: 4 });
    // Redis came back empty: each process's next refresh takes new leases for the permits it
    // holds, so the leases in Redis catch up with the permits held (within a refresh interval).
    const probe = new Redis(server.url);
    probe.on('error', () => {});
    let leases = -1;
    let sizes: { size: number; held: number }[] = [];
    const catchUp = Date.now() + 10_000;
    for (;;) {
      leases = await probe.zcard(`semaphore:${key}`);
      sizes = await Promise.all(group.map(async (r) => ((await r.request({ type: 'status' })).status as { size: number; held: number })));
      if (leases === sizes.reduce((sum, s) => sum + s.held, 0)) break;
      if (Date.now() > catchUp) throw new Error(`leases in Redis (${leases}) never matched the permits held (${sizes.map((s) => s.held).join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    probe.disconnect();
    console.log(`budget-replicas: after the Redis restart ${leases} leases in Redis; pools ${sizes.map((s) => `${s.size} live/${s.held} permits`).join(', ')}; ${unavailable} acquires failed fast during the outage`);
    expect(leases).toBeLessThanOrEqual(LIMIT);
    expect(await backends(app)).toBeLessThanOrEqual(LIMIT);
    for (const replica of group) {
      expect(replica.alive).toBe(true);
      expect(replica.unhandled).toEqual([]);
    }
  }, 60_000);
});
