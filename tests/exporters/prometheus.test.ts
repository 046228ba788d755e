/**
 * poolkeeper/prometheus with a real prom-client Registry: after a scripted run over two pools,
 * `registry.metrics()` holds the expected series and values, and passes a strict text-format
 * check (and `promtool check metrics` when promtool is installed).
 */
import { jest } from '@jest/globals';
import { Counter, Registry } from 'prom-client';
import { AsyncPool } from '../../src/index.js';
import { DURATION_BUCKETS_SECONDS, registerPoolMetrics } from '../../src/prometheus.js';
import { tick, useFakeClock } from '../support.js';
import { parseExposition, promtoolCheck, valueOf, type Exposition } from './exposition.js';

useFakeClock();

afterEach(() => {
  jest.restoreAllMocks();
});

interface Res {
  readonly id: number;
}

function slowFactory(ms: number, failures: { next: boolean } = { next: false }): () => Promise<Res> {
  let next = 0;
  return () =>
    new Promise((resolve, reject) =>
      setTimeout(() => {
        if (failures.next) {
          failures.next = false;
          reject(new Error('connect ECONNREFUSED'));
        } else {
          resolve({ id: ++next });
        }
      }, ms),
    );
}

async function scrape(registry: Registry): Promise<{ text: string; e: Exposition }> {
  const text = await registry.metrics();
  const e = parseExposition(text);
  const promtool = promtoolCheck(text);
  if (promtool !== undefined) expect(promtool).toEqual({ status: 0, output: '' });
  return { text, e };
}

/** Cumulative bucket counts of one histogram series, as `le → count` for the non-empty prefix onwards. */
function buckets(e: Exposition, name: string, labels: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const le of [...DURATION_BUCKETS_SECONDS.map(String), '+Inf']) out[le] = valueOf(e, `${name}_bucket`, { ...labels, le });
  return out;
}

/** Expected cumulative buckets for the given observations (in seconds). */
function cumulative(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const le of DURATION_BUCKETS_SECONDS) out[String(le)] = values.filter((v) => v <= le).length;
  out['+Inf'] = values.length;
  return out;
}

test('two pools in one registry: every series, labelled by pool, with the values of the run', async () => {
  const registry = new Registry();
  const failures = { next: false };
  const a = new AsyncPool<Res>({ name: 'orders', factory: slowFactory(40), maxSize: 2, recycleMs: Infinity });
  const b = new AsyncPool<Res>({ name: 'users', factory: slowFactory(10, failures), maxSize: 5, maxIdle: 3, recycleMs: Infinity });
  const ma = registerPoolMetrics(a, { registry, labels: { service: 'api' } });
  registerPoolMetrics(b, { registry, labels: { service: 'api' } });

  // orders: a 40 ms create + wait, a 250 ms borrow, an immediate re-borrow, a second create, a timeout.
  const first = a.acquire();
  await tick(40);
  const r1 = await first;
  await tick(250);
  a.release(r1);
  await a.acquire();
  const second = a.acquire();
  await tick(40);
  await second;
  const timedOut = a.acquire({ timeoutMs: 100 }).catch((error: unknown) => error);
  await tick(100);
  expect(await timedOut).toMatchObject({ code: 'ERR_ACQUIRE_TIMEOUT' });

  // users: a 10 ms create + wait, held 5 ms; borrowed again and destroyed after 2 ms; then a failed create.
  const u = b.acquire();
  await tick(10);
  const u1 = await u;
  await tick(5);
  b.release(u1);
  const u2 = await b.acquire();
  await tick(2);
  await b.destroy(u2);
  failures.next = true;
  const failed = b.acquire().catch((error: unknown) => error);
  await tick(10);
  expect(await failed).toMatchObject({ message: 'connect ECONNREFUSED' });

  const { e } = await scrape(registry);
  const orders = { pool: 'orders', service: 'api' };
  const users = { pool: 'users', service: 'api' };
  const expected: [string, number, number][] = [
    // name, orders, users
    ['poolkeeper_resources', 2, 0],
    ['poolkeeper_resources_idle', 0, 0],
    ['poolkeeper_resources_in_use', 2, 0],
    ['poolkeeper_resources_creating', 0, 0],
    ['poolkeeper_resources_max', 2, 5],
    ['poolkeeper_resources_idle_min', 0, 0],
    ['poolkeeper_resources_idle_max', 2, 3],
    ['poolkeeper_acquires_pending', 0, 0],
    ['poolkeeper_acquires_total', 3, 2],
    ['poolkeeper_acquire_timeouts_total', 1, 0],
    ['poolkeeper_acquires_aborted_total', 0, 0],
    ['poolkeeper_releases_total', 1, 1],
    ['poolkeeper_resources_created_total', 2, 1],
    ['poolkeeper_resource_create_failures_total', 0, 1],
    ['poolkeeper_resource_validation_failures_total', 0, 0],
    ['poolkeeper_resource_destroy_failures_total', 0, 0],
    ['poolkeeper_resource_leaks_total', 0, 0],
  ];
  for (const [name, o, us] of expected) {
    expect([name, valueOf(e, name, orders), valueOf(e, name, users)]).toEqual([name, o, us]);
  }
  for (const [reason, o, us] of [['queue_full', 0, 0], ['unavailable', 0, 0], ['create_failed', 0, 1]] as const) {
    expect([reason, valueOf(e, 'poolkeeper_acquires_rejected_total', { ...orders, reason }), valueOf(e, 'poolkeeper_acquires_rejected_total', { ...users, reason })])
      .toEqual([reason, o, us]);
  }
  for (const reason of ['recycled', 'idle', 'invalid', 'overflow', 'destroyed', 'cleared', 'disposed', 'maxUses', 'retired']) {
    expect(valueOf(e, 'poolkeeper_resources_destroyed_total', { ...orders, reason })).toBe(0);
    expect(valueOf(e, 'poolkeeper_resources_destroyed_total', { ...users, reason })).toBe(reason === 'destroyed' ? 1 : 0);
  }

  const histograms: [string, Record<string, string>, number[]][] = [
    ['poolkeeper_acquire_wait_seconds', orders, [0.04, 0, 0.04]],
    ['poolkeeper_acquire_wait_seconds', users, [0.01, 0]],
    ['poolkeeper_resource_use_seconds', orders, [0.25]],
    ['poolkeeper_resource_use_seconds', users, [0.005, 0.002]],
    ['poolkeeper_resource_create_seconds', orders, [0.04, 0.04]],
    ['poolkeeper_resource_create_seconds', users, [0.01]], // the failed create is counted, not timed
  ];
  for (const [name, labels, values] of histograms) {
    expect([name, labels.pool, buckets(e, name, labels)]).toEqual([name, labels.pool, cumulative(values)]);
    expect(valueOf(e, `${name}_count`, labels)).toBe(values.length);
    expect(valueOf(e, `${name}_sum`, labels)).toBeCloseTo(values.reduce((x, y) => x + y, 0), 9);
  }

  // Types and units as Prometheus names them.
  for (const [name, type] of e.type) {
    if (name.endsWith('_total')) expect([name, type]).toEqual([name, 'counter']);
    else if (name.endsWith('_seconds')) expect([name, type]).toEqual([name, 'histogram']);
    else expect([name, type]).toEqual([name, 'gauge']);
  }
  expect(e.type.size).toBe(ma.names.length);
  expect([...e.type.keys()].sort()).toEqual([...ma.names].sort());
  // No series other than the two pools'.
  expect(new Set(e.samples.map((s) => s.labels.pool))).toEqual(new Set(['orders', 'users']));

  jest.useRealTimers(); // dispose() waits 1 ms for the two borrowed resources
  await a.dispose({ timeoutMs: 1 });
  await b.dispose();
});

test('gauges and counters are read at scrape time, one stats() per pool per scrape', async () => {
  const registry = new Registry();
  const pool = new AsyncPool<Res>({ name: 'p', factory: () => ({ id: 1 }), maxSize: 3 });
  registerPoolMetrics(pool, { registry });
  const stats = jest.spyOn(pool, 'stats');
  let { e } = await scrape(registry);
  expect(stats).toHaveBeenCalledTimes(1);
  expect(valueOf(e, 'poolkeeper_resources_in_use', { pool: 'p' })).toBe(0);
  const r = await pool.acquire();
  ({ e } = await scrape(registry));
  expect(stats).toHaveBeenCalledTimes(2);
  expect(valueOf(e, 'poolkeeper_resources_in_use', { pool: 'p' })).toBe(1);
  expect(valueOf(e, 'poolkeeper_acquires_total', { pool: 'p' })).toBe(1);
  pool.release(r);
  await pool.dispose();
  ({ e } = await scrape(registry)); // a disposed pool still reports its final state
  expect(valueOf(e, 'poolkeeper_resources', { pool: 'p' })).toBe(0);
  expect(valueOf(e, 'poolkeeper_resources_destroyed_total', { pool: 'p', reason: 'disposed' })).toBe(1);
});

test('unregister() removes one pool\'s series; the last one removes the families; idempotent', async () => {
  const registry = new Registry();
  const a = new AsyncPool<Res>({ name: 'a', factory: () => ({ id: 1 }) });
  const b = new AsyncPool<Res>({ name: 'b', factory: () => ({ id: 2 }) });
  const ma = registerPoolMetrics(a, { registry });
  const mb = registerPoolMetrics(b, { registry });
  const ra = await a.acquire();
  a.release(ra);
  ma.unregister();
  ma.unregister();
  let { e } = await scrape(registry);
  expect(new Set(e.samples.map((s) => s.labels.pool))).toEqual(new Set(['b']));
  const again = await a.acquire(); // no listener left on a
  a.release(again);
  ({ e } = await scrape(registry));
  expect(e.samples.filter((s) => s.labels.pool === 'a')).toEqual([]);
  mb.unregister();
  expect(registry.getMetricsAsArray()).toEqual([]);
  expect(await registry.metrics()).toBe('\n');
  // Registering again builds the families afresh; `using` unregisters at the end of the block.
  {
    using m = registerPoolMetrics(a, { registry });
    expect(registry.getMetricsAsArray().length).toBe(m.names.length);
  }
  expect(registry.getMetricsAsArray()).toEqual([]);
  await a.dispose();
  await b.dispose();
});

test('pools that would share a series, or clash with foreign metrics, are refused', async () => {
  const registry = new Registry();
  const a = new AsyncPool<Res>({ factory: () => ({ id: 1 }) }); // both named 'pool', the default
  const b = new AsyncPool<Res>({ factory: () => ({ id: 2 }) });
  registerPoolMetrics(a, { registry });
  expect(() => registerPoolMetrics(b, { registry })).toThrow(/already registered with this registry and prefix/);
  // Same label names required in one family; a distinguishing label set works once names match.
  expect(() => registerPoolMetrics(b, { registry, labels: { shard: '2' } })).toThrow(/must use the same label names/);
  const other = new Registry();
  registerPoolMetrics(a, { registry: other, labels: { shard: '1' } });
  registerPoolMetrics(b, { registry: other, labels: { shard: '2' } });
  const { e } = await scrape(other);
  expect(valueOf(e, 'poolkeeper_resources_max', { pool: 'pool', shard: '2' })).toBe(10);
  // Another prefix is another set of families.
  registerPoolMetrics(b, { registry, prefix: 'app_pool_' });
  expect(registry.getSingleMetric('app_pool_acquires_total')).toBeDefined();
  // A metric the application made under one of our names.
  const mine = new Registry();
  new Counter({ name: 'poolkeeper_acquires_total', help: 'mine', registers: [mine] });
  expect(() => registerPoolMetrics(a, { registry: mine })).toThrow(/already has a metric named "poolkeeper_acquires_total"/);
  expect(mine.getMetricsAsArray().length).toBe(1); // nothing half-registered
  await a.dispose();
  await b.dispose();
});

test('label values are escaped; bad arguments fail at once, naming what is wrong', async () => {
  const registry = new Registry();
  const pool = new AsyncPool<Res>({ name: 'a "quoted"\\name\nwith a newline', factory: () => ({ id: 1 }) });
  registerPoolMetrics(pool, { registry, labels: { note: 'x"y' } });
  const { e } = await scrape(registry);
  expect(valueOf(e, 'poolkeeper_resources_max', { pool: 'a "quoted"\\name\nwith a newline', note: 'x"y' })).toBe(10);

  const call = (p: unknown, o: unknown) => () => registerPoolMetrics(p as AsyncPool<Res>, o as { registry: Registry });
  expect(call(null, { registry })).toThrow(/argument "pool" must be an AsyncPool; got null/);
  expect(call(pool, 'x')).toThrow(/options must be an object/);
  expect(call(pool, {})).toThrow(/option "registry" must be a prom-client Registry; got undefined/);
  expect(call(pool, { registry, prefix: '1x' })).toThrow(/option "prefix" must match/);
  expect(call(pool, { registry, prefix: 3 })).toThrow(/option "prefix"/);
  expect(call(pool, { registry, labels: { pool: 'x' } })).toThrow(/reserved label name "pool"/);
  expect(call(pool, { registry, labels: { le: 'x' } })).toThrow(/reserved label name "le"/);
  expect(call(pool, { registry, labels: { __x: 'x' } })).toThrow(/reserved label name "__x"/);
  expect(call(pool, { registry, labels: { 'a-b': 'x' } })).toThrow(/invalid or reserved label name "a-b"/);
  expect(call(pool, { registry, labels: { a: 1 } })).toThrow(/value of "a" must be a string; got 1/);
  expect(call(pool, { registry, labels: [] })).toThrow(/option "labels" must be an object/);
  expect(call(pool, { registry, meter: {} })).toThrow(/unknown registerPoolMetrics\(\) option "meter"/);
  await pool.dispose();
});

test('an unbounded pool exports its limits as +Inf', async () => {
  const registry = new Registry();
  const pool = new AsyncPool<Res>({ name: 'unbounded', factory: () => ({ id: 1 }), maxSize: Infinity });
  registerPoolMetrics(pool, { registry });
  const { text, e } = await scrape(registry);
  expect(text).toContain('poolkeeper_resources_max{pool="unbounded"} +Inf\n');
  expect(valueOf(e, 'poolkeeper_resources_idle_max', { pool: 'unbounded' })).toBe(Infinity);
  await pool.dispose();
});
