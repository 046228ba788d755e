/**
 * RedisBudget against a real Redis: the shared one at 127.0.0.1:6379 (REDIS_URL overrides) for the
 * permit rules, and a redis-server of the test's own (killed and restarted) for outages. Several
 * RedisBudget instances on separate clients stand for separate processes; the multi-process runs
 * are in budget-replicas.test.ts.
 */
import { Redis } from 'ioredis';
import { BudgetUnavailableError, type BudgetPermit } from '../../src/index.js';
import { RedisBudget, RedisBudgetError } from '../../src/redis-budget/index.js';
import { outcome } from '../helpers.js';
import { OwnRedis } from './support/redis-server.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
const budgets: RedisBudget[] = [];
let admin: Redis;
let nextKey = 0;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

function client(target = url): Redis {
  const redis = new Redis(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1_000, retryStrategy: () => 100 });
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}

async function ready(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
}

function key(): string {
  return `poolkeeper:test:budget:${process.pid}:${++nextKey}`;
}

async function budget(options: Partial<ConstructorParameters<typeof RedisBudget>[0]> & { key: string; limit: number }): Promise<RedisBudget> {
  const redis = client();
  await ready(redis); // enableOfflineQueue: false fails commands sent before the connection is up
  const b = new RedisBudget({ client: redis, ...options });
  budgets.push(b);
  return b;
}

function ask(b: RedisBudget, signal = new AbortController().signal, onLost = (): void => {}): Promise<BudgetPermit> {
  return b.acquire({ signal, onLost });
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  admin = new Redis(url, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 3_000 });
  admin.on('error', () => {});
  try {
    await admin.connect();
    await admin.ping();
  } catch (error) {
    throw new Error(`Redis not reachable at ${url} — start it or set REDIS_URL. Cause: ${String(error)}`, { cause: error });
  }
});

afterEach(async () => {
  await Promise.all(budgets.splice(0).map((b) => b.close()));
  for (const c of clients.splice(0)) c.disconnect();
  const keys = await admin.keys(`semaphore:poolkeeper:test:budget:${process.pid}:*`);
  if (keys.length > 0) await admin.del(...keys);
  expect(unhandled).toEqual([]);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await admin?.quit();
});

test('two budgets on one key never hold more than the limit together; a permit given back goes to a waiter', async () => {
  const k = key();
  const a = await budget({ key: k, limit: 3, retryIntervalMs: 10 });
  const b = await budget({ key: k, limit: 3, retryIntervalMs: 10 });
  const first = await Promise.all([ask(a), ask(a), ask(b)]);
  expect(a.held + b.held).toBe(3);
  expect(await admin.zcard(`semaphore:${k}`)).toBe(3);
  const waiting = outcome(ask(b));
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(b.waiting).toBe(1);
  await first[0]!.release();
  const granted = await waiting;
  expect(granted.ok).toBe(true);
  expect(a.held + b.held).toBe(3);
  expect(await admin.zcard(`semaphore:${k}`)).toBe(3);
});

test('within a process, permits go to requests in arrival order', async () => {
  const k = key();
  const b = await budget({ key: k, limit: 1, retryIntervalMs: 10 });
  const order: number[] = [];
  const first = await ask(b);
  const later = [1, 2, 3].map((n) => ask(b).then(async (p) => {
    order.push(n);
    await p.release();
  }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await first.release();
  await Promise.all(later);
  expect(order).toEqual([1, 2, 3]);
});

test('an aborted request rejects with AbortError (cause: the reason) and takes nothing', async () => {
  const k = key();
  const b = await budget({ key: k, limit: 1, retryIntervalMs: 10 });
  const held = await ask(b);
  const controller = new AbortController();
  const waiting = outcome(ask(b, controller.signal));
  await new Promise((resolve) => setTimeout(resolve, 30));
  controller.abort('caller left');
  const result = await waiting;
  expect(result.ok).toBe(false);
  expect(!result.ok && result.error).toMatchObject({ name: 'AbortError', cause: 'caller left' });
  await held.release();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(await admin.zcard(`semaphore:${k}`)).toBe(0);
  expect(b.held).toBe(0);
  const again = await ask(b); // the budget still works
  await again.release();
});

test('releasing a permit twice gives back one permit, not two', async () => {
  const k = key();
  const b = await budget({ key: k, limit: 2 });
  const p1 = await ask(b);
  await ask(b);
  await p1.release();
  await p1.release();
  expect(await admin.zcard(`semaphore:${k}`)).toBe(1);
  expect(b.held).toBe(1);
});

test('a process that stops refreshing (its Redis link dies): its leases expire and another process gets the permits within the TTL', async () => {
  const k = key();
  const errors: unknown[] = [];
  const dying = await budget({ key: k, limit: 2, leaseTtlMs: 600, refreshIntervalMs: 150, onError: (e) => errors.push(e) });
  await Promise.all([ask(dying), ask(dying)]);
  const other = await budget({ key: k, limit: 2, leaseTtlMs: 600, retryIntervalMs: 20 });
  const waiting = Promise.all([ask(other), ask(other)]);
  const cutAt = Date.now();
  clients[0]!.disconnect(); // refreshes now fail: the issue-199 situation, contained
  await waiting;
  const recoveredMs = Date.now() - cutAt;
  expect(other.held).toBe(2);
  expect(recoveredMs).toBeLessThan(600 + 3_000); // the TTL plus a generous margin
  await waitFor(() => errors.length > 0);
  expect(errors[0]).toBeInstanceOf(RedisBudgetError);
  expect((errors[0] as RedisBudgetError).operation).toBe('refresh');
});

describe('with a redis-server of its own, killed and restarted', () => {
  let server: OwnRedis;
  beforeAll(async () => {
    server = await OwnRedis.start();
  }, 20_000);
  afterAll(async () => {
    await server?.cleanup();
  });

  test('Redis down: acquire rejects with BudgetUnavailableError at once, refresh failures go to onError; back up: leases are taken again and acquires succeed', async () => {
    const k = key();
    const errors: RedisBudgetError[] = [];
    const redis = client(server.url);
    await ready(redis);
    const lost: number[] = [];
    const b = new RedisBudget({ client: redis, key: k, limit: 3, leaseTtlMs: 400, refreshIntervalMs: 100, onError: (e) => errors.push(e as RedisBudgetError) });
    budgets.push(b);
    const held = await Promise.all([ask(b, undefined, () => lost.push(1)), ask(b, undefined, () => lost.push(2))]);

    await server.kill();
    await waitFor(() => errors.some((e) => e.operation === 'refresh'));
    const failed = await outcome(ask(b));
    expect(failed.ok).toBe(false);
    expect(!failed.ok && failed.error).toBeInstanceOf(BudgetUnavailableError);
    expect(((!failed.ok && failed.error) as BudgetUnavailableError).code).toBe('ERR_BUDGET_UNAVAILABLE');
    expect(b.held).toBe(2); // held permits are kept through the outage
    await new Promise((resolve) => setTimeout(resolve, 500)); // past the lease TTL

    await server.restart(); // empty: every lease is gone
    await ready(redis);
    // The next refresh finds both leases gone and takes them again (the budget has room).
    await waitFor(async () => (await redis.zcard(`semaphore:${k}`)) === 2);
    expect(lost).toEqual([]);
    expect(b.held).toBe(2);
    const third = await ask(b);
    expect(await redis.zcard(`semaphore:${k}`)).toBe(3);
    await Promise.all([...held, third].map((p) => p.release()));
    expect(await redis.zcard(`semaphore:${k}`)).toBe(0);
  }, 20_000);

  test('a lease lost while another process filled the budget: onLost is called and the permit is dropped', async () => {
    const k = key();
    const a = new RedisBudget({ client: client(server.url), key: k, limit: 1, leaseTtlMs: 400, refreshIntervalMs: 100 });
    const b = new RedisBudget({ client: client(server.url), key: k, limit: 1, leaseTtlMs: 400, retryIntervalMs: 10 });
    budgets.push(a, b);
    await ready(clients.at(-2)!);
    await ready(clients.at(-1)!);
    let lost = 0;
    await ask(a, undefined, () => lost++);
    // Wipe the lease behind a's back and let b take the only permit before a's next refresh.
    const direct = client(server.url);
    await ready(direct);
    await direct.del(`semaphore:${k}`);
    await ask(b);
    await waitFor(() => lost === 1);
    expect(a.held).toBe(0);
    expect(b.held).toBe(1);
  }, 20_000);
});
