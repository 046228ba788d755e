/**
 * The exporters against hostile use: a registry cleared by the application, concurrent scrapes,
 * odd label values, unregister/remove twice or during a collection, listeners that call back into
 * the pool. Real prom-client and OpenTelemetry SDK, real timers (nothing here waits on time).
 */
import { AggregationTemporality, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { Gauge, Registry } from 'prom-client';
import { AsyncPool } from '../../src/index.js';
import { instrumentPool } from '../../src/otel.js';
import { registerPoolMetrics } from '../../src/prometheus.js';
import { parseExposition, valueOf } from './exposition.js';

interface Res {
  readonly id: number;
}

let nextId = 0;
function pool(name: string, maxSize = 4): AsyncPool<Res> {
  return new AsyncPool<Res>({ name, factory: () => ({ id: ++nextId }), maxSize, recycleMs: Infinity });
}

describe('poolkeeper/prometheus', () => {
  test('after the application clears the registry, a pool registered next is reported', async () => {
    const registry = new Registry();
    const a = pool('a');
    const first = registerPoolMetrics(a, { registry });
    registry.clear();
    const b = pool('b');
    const second = registerPoolMetrics(b, { registry });
    const e = parseExposition(await registry.metrics());
    expect(valueOf(e, 'poolkeeper_resources_max', { pool: 'b' })).toBe(4);
    // The pool registered before the clear() is back too: its family is the same.
    expect(valueOf(e, 'poolkeeper_resources_max', { pool: 'a' })).toBe(4);
    first.unregister();
    second.unregister();
    expect((await registry.metrics()).trim()).toBe('');
    await Promise.all([a.dispose(), b.dispose()]);
  });

  test('after clear(), a name the application took meanwhile is refused, naming it', async () => {
    const registry = new Registry();
    const a = pool('a');
    const first = registerPoolMetrics(a, { registry });
    registry.clear();
    const mine = new Gauge({ name: 'poolkeeper_resources', help: 'mine', registers: [registry] });
    const b = pool('b');
    expect(() => registerPoolMetrics(b, { registry })).toThrow(/poolkeeper_resources/);
    first.unregister();
    expect(registry.getSingleMetric('poolkeeper_resources')).toBe(mine);
    await Promise.all([a.dispose(), b.dispose()]);
  });

  test('unregister() twice, and after clear(), throws nothing and removes nothing of the application', async () => {
    const registry = new Registry();
    const a = pool('a');
    const metrics = registerPoolMetrics(a, { registry });
    registry.clear();
    metrics.unregister();
    metrics.unregister();
    const again = registerPoolMetrics(a, { registry });
    const e = parseExposition(await registry.metrics());
    expect(valueOf(e, 'poolkeeper_resources', { pool: 'a' })).toBe(0);
    again[Symbol.dispose]();
    await a.dispose();
  });

  test('concurrent scrapes agree; a disposed pool keeps reporting until unregistered', async () => {
    const registry = new Registry();
    const a = pool('a');
    const metrics = registerPoolMetrics(a, { registry });
    const r = await a.acquire();
    const [x, y] = await Promise.all([registry.metrics(), registry.metrics()]);
    expect(x).toBe(y);
    a.release(r);
    await a.dispose();
    const e = parseExposition(await registry.metrics());
    expect(valueOf(e, 'poolkeeper_resources', { pool: 'a' })).toBe(0);
    metrics.unregister();
  });

  test('odd characters in the pool name and label values are escaped, not broken', async () => {
    const registry = new Registry();
    const name = 'we"ird\\name\nwith → unicode';
    const a = pool(name);
    const metrics = registerPoolMetrics(a, { registry, labels: { service: 'a"b\\c\nd' } });
    const e = parseExposition(await registry.metrics());
    expect(valueOf(e, 'poolkeeper_resources_max', { pool: name, service: 'a"b\\c\nd' })).toBe(4);
    metrics.unregister();
    await a.dispose();
  });

  test('an unregister() from inside a pool listener during use, and a histogram fed by a re-entrant listener', async () => {
    const registry = new Registry();
    const a = pool('a', 1);
    const metrics = registerPoolMetrics(a, { registry });
    let second: Promise<Res> | undefined;
    a.once('release', () => {
      second = a.acquire();
    });
    const r = await a.acquire();
    a.release(r);
    a.release(await second!);
    const e = parseExposition(await registry.metrics());
    expect(valueOf(e, 'poolkeeper_acquire_wait_seconds_count', { pool: 'a' })).toBe(2);
    a.once('acquire', () => metrics.unregister());
    a.release(await a.acquire());
    expect((await registry.metrics()).trim()).toBe('');
    await a.dispose();
  });
});

class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

describe('poolkeeper/otel', () => {
  function setup() {
    const reader = new TestReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
    const provider = new MeterProvider({ readers: [reader] });
    return { reader, meter: provider.getMeter('t') };
  }
  async function collect(reader: MetricReader): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const out = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) out.set(m.descriptor.name, m);
    return out;
  }

  test('remove() twice; the name is free again; a disposed pool still collects', async () => {
    const { reader, meter } = setup();
    const a = pool('a');
    const i = instrumentPool(a, { meter });
    i.remove();
    i.remove();
    const again = instrumentPool(a, { meter });
    await a.dispose();
    const m = await collect(reader);
    expect(m.get('db.client.connection.max')?.dataPoints.map((p) => p.value)).toEqual([4]);
    again.remove();
  });

  test('remove() of one pool from inside the collection of another', async () => {
    const { reader, meter } = setup();
    const a = pool('a');
    const b = pool('b');
    const ia = instrumentPool(a, { meter });
    const ib = instrumentPool(b, { meter });
    const stats = a.stats.bind(a);
    a.stats = () => {
      ib.remove();
      return stats();
    };
    await collect(reader);
    const m = await collect(reader);
    expect(m.get('db.client.connection.max')?.dataPoints.length).toBeGreaterThanOrEqual(1);
    ia.remove();
    await Promise.all([a.dispose(), b.dispose()]);
  });

  test('two concurrent collections', async () => {
    const { reader, meter } = setup();
    const a = pool('a');
    const i = instrumentPool(a, { meter });
    const r = await a.acquire();
    const [x, y] = await Promise.all([reader.collect(), reader.collect()]);
    expect(x.errors).toEqual([]);
    expect(y.errors).toEqual([]);
    a.release(r);
    i.remove();
    await a.dispose();
  });
});
