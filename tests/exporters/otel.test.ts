/**
 * poolkeeper/otel with the real OpenTelemetry metrics SDK and an in-memory reader: a scripted
 * run over two pools produces exactly the semantic-convention data points, each pool under its
 * own `db.client.connection.pool.name`.
 */
import { jest } from '@jest/globals';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { AsyncPool } from '../../src/index.js';
import { DURATION_BUCKETS_SECONDS, instrumentPool } from '../../src/otel.js';
import { tick, useFakeClock } from '../support.js';

useFakeClock();

afterEach(() => {
  jest.restoreAllMocks();
});

/** A reader the test pulls from: `collect()` returns what an exporter would receive. */
class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

interface Res {
  readonly id: number;
}

/** A factory taking `ms` of the fake clock per resource. */
function slowFactory(ms: number): () => Promise<Res> {
  let next = 0;
  return () => new Promise((resolve) => setTimeout(() => resolve({ id: ++next }), ms));
}

function setup() {
  const reader = new TestReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('poolkeeper-test');
  return { reader, provider, meter };
}

async function collect(reader: MetricReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const out = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) out.set(m.descriptor.name, m);
  return out;
}

const POOL = 'db.client.connection.pool.name';
const STATE = 'db.client.connection.state';

/** A sum metric's points as `[attributes, value]`, in a stable order. */
function sumPoints(m: MetricData | undefined): [Record<string, unknown>, number][] {
  expect(m?.dataPointType).toBe(DataPointType.SUM);
  return (m as SumMetricData).dataPoints
    .map((p): [Record<string, unknown>, number] => [{ ...p.attributes }, p.value])
    .sort((x, y) => JSON.stringify(x[0]).localeCompare(JSON.stringify(y[0])));
}

/** A histogram's points as `{ pool, count, sum, buckets }`, buckets as the non-zero `le → count`. */
function histogramPoints(m: MetricData | undefined) {
  expect(m?.dataPointType).toBe(DataPointType.HISTOGRAM);
  return (m as HistogramMetricData).dataPoints
    .map((p) => {
      expect(p.value.buckets.boundaries).toEqual(DURATION_BUCKETS_SECONDS);
      const buckets: Record<string, number> = {};
      p.value.buckets.counts.forEach((n, i) => {
        if (n !== 0) buckets[String(p.value.buckets.boundaries[i] ?? '+Inf')] = n;
      });
      return { pool: p.attributes[POOL], count: p.value.count, sum: Number(p.value.sum!.toFixed(9)), buckets };
    })
    .sort((x, y) => String(x.pool).localeCompare(String(y.pool)));
}

test('two pools on one meter: every semantic-convention metric, exact points, never summed', async () => {
  const { reader, provider, meter } = setup();
  const a = new AsyncPool<Res>({ name: 'orders', factory: slowFactory(40), maxSize: 2, recycleMs: Infinity });
  const b = new AsyncPool<Res>({ name: 'users', factory: slowFactory(10), maxSize: 5, maxIdle: 3, minIdle: 0, recycleMs: Infinity });
  const ia = instrumentPool(a, { meter });
  const ib = instrumentPool(b, { meter });
  expect([ia.name, ib.name]).toEqual(['orders', 'users']);

  // orders: one create + wait of 40 ms, a 250 ms borrow, then both resources out and a timeout.
  const first = a.acquire();
  await tick(40);
  const r1 = await first;
  await tick(250);
  a.release(r1);
  const again = await a.acquire(); // idle: no wait, no create
  const second = a.acquire(); // creates the second resource (40 ms)
  await tick(40);
  await second;
  const timedOut = a.acquire({ timeoutMs: 100 });
  const timedOutResult = timedOut.catch((error: unknown) => error);
  await tick(100);
  expect(await timedOutResult).toMatchObject({ code: 'ERR_ACQUIRE_TIMEOUT' });
  expect(again).toBe(r1);

  // users: one create + wait of 10 ms, held 5 ms, borrowed again at once and destroyed after 2 ms.
  const u = b.acquire();
  await tick(10);
  const u1 = await u;
  await tick(5);
  b.release(u1);
  const u2 = await b.acquire();
  await tick(2);
  await b.destroy(u2);

  jest.useRealTimers(); // the SDK's own collection runs on real time
  const m = await collect(reader);
  expect([...m.keys()].sort()).toEqual([
    'db.client.connection.count',
    'db.client.connection.create_time',
    'db.client.connection.idle.max',
    'db.client.connection.idle.min',
    'db.client.connection.max',
    'db.client.connection.pending_requests',
    'db.client.connection.timeouts',
    'db.client.connection.use_time',
    'db.client.connection.wait_time',
  ]);
  const descriptor = (name: string) => {
    // The SDK hands over its instrument descriptor, whose `type` its public type does not declare.
    const d = m.get(name)!.descriptor as { unit: string; type?: string };
    return { unit: d.unit, type: d.type };
  };
  expect(descriptor('db.client.connection.count')).toEqual({ unit: '{connection}', type: 'OBSERVABLE_UP_DOWN_COUNTER' });
  expect(descriptor('db.client.connection.idle.max')).toEqual({ unit: '{connection}', type: 'OBSERVABLE_UP_DOWN_COUNTER' });
  expect(descriptor('db.client.connection.idle.min')).toEqual({ unit: '{connection}', type: 'OBSERVABLE_UP_DOWN_COUNTER' });
  expect(descriptor('db.client.connection.max')).toEqual({ unit: '{connection}', type: 'OBSERVABLE_UP_DOWN_COUNTER' });
  expect(descriptor('db.client.connection.pending_requests')).toEqual({ unit: '{request}', type: 'OBSERVABLE_UP_DOWN_COUNTER' });
  expect(descriptor('db.client.connection.timeouts')).toEqual({ unit: '{timeout}', type: 'OBSERVABLE_COUNTER' });
  for (const h of ['create_time', 'wait_time', 'use_time']) {
    expect(descriptor(`db.client.connection.${h}`)).toEqual({ unit: 's', type: 'HISTOGRAM' });
  }
  expect((m.get('db.client.connection.timeouts') as SumMetricData).isMonotonic).toBe(true);
  expect((m.get('db.client.connection.count') as SumMetricData).isMonotonic).toBe(false);

  expect(sumPoints(m.get('db.client.connection.count'))).toEqual([
    [{ [POOL]: 'orders', [STATE]: 'idle' }, 0],
    [{ [POOL]: 'orders', [STATE]: 'used' }, 2],
    [{ [POOL]: 'users', [STATE]: 'idle' }, 0], // its one resource was destroyed
    [{ [POOL]: 'users', [STATE]: 'used' }, 0],
  ]);
  expect(sumPoints(m.get('db.client.connection.idle.max'))).toEqual([[{ [POOL]: 'orders' }, 2], [{ [POOL]: 'users' }, 3]]);
  expect(sumPoints(m.get('db.client.connection.idle.min'))).toEqual([[{ [POOL]: 'orders' }, 0], [{ [POOL]: 'users' }, 0]]);
  expect(sumPoints(m.get('db.client.connection.max'))).toEqual([[{ [POOL]: 'orders' }, 2], [{ [POOL]: 'users' }, 5]]);
  expect(sumPoints(m.get('db.client.connection.pending_requests'))).toEqual([[{ [POOL]: 'orders' }, 0], [{ [POOL]: 'users' }, 0]]);
  expect(sumPoints(m.get('db.client.connection.timeouts'))).toEqual([[{ [POOL]: 'orders' }, 1], [{ [POOL]: 'users' }, 0]]);

  expect(histogramPoints(m.get('db.client.connection.create_time'))).toEqual([
    { pool: 'orders', count: 2, sum: 0.08, buckets: { '0.05': 2 } },
    { pool: 'users', count: 1, sum: 0.01, buckets: { '0.01': 1 } },
  ]);
  expect(histogramPoints(m.get('db.client.connection.wait_time'))).toEqual([
    { pool: 'orders', count: 3, sum: 0.08, buckets: { '0.0001': 1, '0.05': 2 } }, // 0 s lands in the first bucket
    { pool: 'users', count: 2, sum: 0.01, buckets: { '0.0001': 1, '0.01': 1 } },
  ]);
  expect(histogramPoints(m.get('db.client.connection.use_time'))).toEqual([
    { pool: 'orders', count: 1, sum: 0.25, buckets: { '0.25': 1 } },
    { pool: 'users', count: 2, sum: 0.007, buckets: { '0.0025': 1, '0.005': 1 } }, // released after 5 ms, destroyed after 2 ms
  ]);

  ia.remove();
  ib.remove();
  await provider.shutdown();
  await a.dispose({ timeoutMs: 1 }); // two resources are still borrowed
  await b.dispose();
});

test('the gauges are read in one batch: one stats() call per pool per collection', async () => {
  const { reader, meter } = setup();
  const pool = new AsyncPool<Res>({ name: 'p', factory: () => ({ id: 1 }) });
  instrumentPool(pool, { meter });
  const stats = jest.spyOn(pool, 'stats');
  jest.useRealTimers();
  await collect(reader);
  expect(stats).toHaveBeenCalledTimes(1);
  await collect(reader);
  expect(stats).toHaveBeenCalledTimes(2);
  await pool.dispose();
});

test('remove() stops the callback and the listeners, frees the name; it is idempotent', async () => {
  const { reader, meter } = setup();
  const pool = new AsyncPool<Res>({ name: 'p', factory: () => ({ id: 1 }) });
  const instrumentation = instrumentPool(pool, { meter });
  const r = await pool.acquire();
  pool.release(r);
  instrumentation.remove();
  instrumentation.remove();
  const stats = jest.spyOn(pool, 'stats');
  jest.useRealTimers();
  const before = histogramPoints((await collect(reader)).get('db.client.connection.wait_time'));
  expect(stats).not.toHaveBeenCalled();
  const again = await pool.acquire();
  pool.release(again);
  expect(histogramPoints((await collect(reader)).get('db.client.connection.wait_time'))).toEqual(before);
  // A pool can take the name again; `using` removes it at the end of the block.
  {
    using second = instrumentPool(pool, { meter });
    expect(second.name).toBe('p');
  }
  expect(() => instrumentPool(pool, { meter }).remove()).not.toThrow();
  await pool.dispose();
});

test('two pools under one name on one meter are refused (their points would merge); other meters are separate', async () => {
  const { meter } = setup();
  const other = setup().meter;
  const a = new AsyncPool<Res>({ factory: () => ({ id: 1 }) }); // both named 'pool', the default
  const b = new AsyncPool<Res>({ factory: () => ({ id: 2 }) });
  instrumentPool(a, { meter });
  expect(() => instrumentPool(b, { meter })).toThrow(/a pool named "pool" is already instrumented/);
  expect(instrumentPool(b, { meter, name: 'pool-b' }).name).toBe('pool-b');
  expect(instrumentPool(b, { meter: other }).name).toBe('pool');
  await a.dispose();
  await b.dispose();
});

test('bad arguments fail at once, naming what is wrong', async () => {
  const { meter } = setup();
  const pool = new AsyncPool<Res>({ factory: () => ({ id: 1 }) });
  const call = (p: unknown, o: unknown) => () => instrumentPool(p as AsyncPool<Res>, o as { meter: typeof meter });
  expect(call({}, { meter })).toThrow(TypeError);
  expect(call(pool, undefined)).toThrow(/options must be an object/);
  expect(call(pool, {})).toThrow(/option "meter" must be an OpenTelemetry Meter; got undefined/);
  expect(call(pool, { meter, name: '' })).toThrow(/option "name" must be a non-empty string; got ""/);
  expect(call(pool, { meter, name: 3 })).toThrow(/option "name" must be a non-empty string; got 3/);
  expect(call(pool, { meter, prefix: 'x' })).toThrow(/unknown instrumentPool\(\) option "prefix"/);
  await pool.dispose();
});

test('an unbounded pool reports no maximum, and its other points as usual', async () => {
  const { reader, meter } = setup();
  const pool = new AsyncPool<Res>({ name: 'unbounded', factory: () => ({ id: 1 }), maxSize: Infinity });
  instrumentPool(pool, { meter });
  const r = await pool.acquire();
  jest.useRealTimers();
  const m = await collect(reader);
  expect(m.get('db.client.connection.max')?.dataPoints ?? []).toEqual([]);
  expect(m.get('db.client.connection.idle.max')?.dataPoints ?? []).toEqual([]);
  expect(sumPoints(m.get('db.client.connection.count'))).toEqual([
    [{ [POOL]: 'unbounded', [STATE]: 'idle' }, 0],
    [{ [POOL]: 'unbounded', [STATE]: 'used' }, 1],
  ]);
  pool.release(r);
  await pool.dispose();
});
