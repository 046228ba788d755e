/**
 * `poolkeeper/otel`: a pool's metrics as OpenTelemetry instruments, named and shaped by the
 * semantic conventions for database client connection pools (`db.client.connection.*`), so the
 * pool shows up in the dashboards built for them. Needs `@opentelemetry/api` (an optional peer
 * dependency; this module imports only its types) and a metrics SDK configured by the application.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { instrumentPool } from 'poolkeeper/otel';
 *
 * const instrumentation = instrumentPool(pool, { meter: metrics.getMeter('my-service') });
 * // later, to stop: instrumentation.remove();
 * ```
 *
 * @module
 */
import type {
  Attributes,
  BatchObservableCallback,
  Histogram,
  Meter,
  Observable,
  ObservableCounter,
  ObservableUpDownCounter,
  ValueType,
} from '@opentelemetry/api';
import type { AsyncPool } from './async-pool.js';
import { DURATION_BUCKETS_SECONDS, checkOptions, checkPool, recordDurations } from './exporter-support.js';
import { show } from './options.js';

export { DURATION_BUCKETS_SECONDS } from './exporter-support.js';

/** The attribute naming the pool on every data point. */
export const POOL_NAME_ATTRIBUTE = 'db.client.connection.pool.name';
/** The attribute of `db.client.connection.count` saying which state it counts: `idle` or `used`. */
export const STATE_ATTRIBUTE = 'db.client.connection.state';

// `ValueType` is an enum of @opentelemetry/api; only its type is imported, so no copy of the API
// is loaded by this module and the application's own copy does the work.
const INT = 0 as ValueType.INT;
const DOUBLE = 1 as ValueType.DOUBLE;

/** Options of {@link instrumentPool}. */
export interface InstrumentPoolOptions {
  /** The meter to create the instruments with, e.g. `metrics.getMeter('my-service')`. */
  readonly meter: Meter;
  /**
   * The value of `db.client.connection.pool.name`; unique among the pools instrumented with the
   * same meter.
   *
   * @default the pool's `name` option
   */
  readonly name?: string;
}

/** What {@link instrumentPool} returns: removes the instrumentation. */
export interface PoolInstrumentation {
  /** The value of `db.client.connection.pool.name` on this pool's data points. */
  readonly name: string;
  /**
   * Stops reporting the pool: removes its event listeners and its observable callback, and frees
   * its name for another pool. Data points already recorded stay in the SDK. Idempotent.
   */
  remove(): void;
  /** Same as {@link PoolInstrumentation.remove}, for `using instrumentation = instrumentPool(...)`. */
  [Symbol.dispose](): void;
}

/** The instruments of one meter, shared by every pool instrumented with it. */
interface Instruments {
  readonly count: ObservableUpDownCounter;
  readonly idleMax: ObservableUpDownCounter;
  readonly idleMin: ObservableUpDownCounter;
  readonly max: ObservableUpDownCounter;
  readonly pending: ObservableUpDownCounter;
  readonly timeouts: ObservableCounter;
  readonly observables: Observable[];
  readonly createTime: Histogram;
  readonly waitTime: Histogram;
  readonly useTime: Histogram;
  /** Pool names in use on this meter: two pools under one name would merge into one series. */
  readonly names: Set<string>;
}

const byMeter = new WeakMap<Meter, Instruments>();

function instrumentsOf(meter: Meter): Instruments {
  let instruments = byMeter.get(meter);
  if (instruments !== undefined) return instruments;
  const connections = { unit: '{connection}', valueType: INT };
  const durations = { unit: 's', valueType: DOUBLE, advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] } };
  const count = meter.createObservableUpDownCounter('db.client.connection.count', {
    ...connections,
    description: 'The number of connections that are currently in state described by the `state` attribute.',
  });
  const idleMax = meter.createObservableUpDownCounter('db.client.connection.idle.max', {
    ...connections,
    description: 'The maximum number of idle open connections allowed.',
  });
  const idleMin = meter.createObservableUpDownCounter('db.client.connection.idle.min', {
    ...connections,
    description: 'The minimum number of idle open connections allowed.',
  });
  const max = meter.createObservableUpDownCounter('db.client.connection.max', {
    ...connections,
    description: 'The maximum number of open connections allowed.',
  });
  const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
    unit: '{request}',
    valueType: INT,
    description: 'The number of current pending requests for an open connection.',
  });
  const timeouts = meter.createObservableCounter('db.client.connection.timeouts', {
    unit: '{timeout}',
    valueType: INT,
    description: 'The number of connection timeouts that have occurred trying to obtain a connection from the pool.',
  });
  instruments = {
    count,
    idleMax,
    idleMin,
    max,
    pending,
    timeouts,
    observables: [count, idleMax, idleMin, max, pending, timeouts],
    createTime: meter.createHistogram('db.client.connection.create_time', {
      ...durations,
      description: 'The time it took to create a new connection.',
    }),
    waitTime: meter.createHistogram('db.client.connection.wait_time', {
      ...durations,
      description: 'The time it took to obtain an open connection from the pool.',
    }),
    useTime: meter.createHistogram('db.client.connection.use_time', {
      ...durations,
      description: 'The time between borrowing a connection and returning it to the pool.',
    }),
    names: new Set(),
  };
  byMeter.set(meter, instruments);
  return instruments;
}

/**
 * Reports `pool` through `meter` with the OpenTelemetry semantic-convention metrics for
 * connection pools, every data point carrying `db.client.connection.pool.name`:
 *
 * | Metric | Instrument | Unit | From |
 * |---|---|---|---|
 * | `db.client.connection.count` (`db.client.connection.state` = `idle` \| `used`) | UpDownCounter | `{connection}` | `stats().idle`, `stats().borrowed` |
 * | `db.client.connection.idle.max` | UpDownCounter | `{connection}` | `stats().maxIdle` |
 * | `db.client.connection.idle.min` | UpDownCounter | `{connection}` | `stats().minIdle` |
 * | `db.client.connection.max` | UpDownCounter | `{connection}` | `stats().maxSize` |
 * | `db.client.connection.pending_requests` | UpDownCounter | `{request}` | `stats().pending` |
 * | `db.client.connection.timeouts` | Counter | `{timeout}` | `stats().timedOut` |
 * | `db.client.connection.create_time` | Histogram | `s` | `create` events |
 * | `db.client.connection.wait_time` | Histogram | `s` | `acquire` events |
 * | `db.client.connection.use_time` | Histogram | `s` | `release` events, and `destroy()` of a borrowed resource |
 *
 * `db.client.connection.max` and `idle.max` are left out for a pool whose limit is `Infinity`.
 * The counts and the timeout total are observed (asynchronous instruments) in one batch callback
 * that reads `stats()` once per collection; the timeout total counts since the pool was created.
 * The histograms record from the moment of this call, with buckets from
 * {@link DURATION_BUCKETS_SECONDS} given as advice (a View configured in the SDK overrides them).
 * A borrow that began before this call is not counted in `use_time`.
 *
 * Several pools may share a meter; each is reported under its own name, never summed.
 *
 * @throws TypeError if an argument is not what it should be, or if another pool is already
 * instrumented with the same meter under the same name.
 */
export function instrumentPool<T>(pool: AsyncPool<T>, options: InstrumentPoolOptions): PoolInstrumentation {
  checkPool('instrumentPool', pool);
  checkOptions('instrumentPool', options, ['meter', 'name']);
  const { meter } = options;
  const m = meter as Partial<Record<keyof Meter, unknown>> | undefined;
  if (typeof m !== 'object' || m === null || typeof m.createHistogram !== 'function' ||
      typeof m.createObservableUpDownCounter !== 'function' || typeof m.addBatchObservableCallback !== 'function') {
    throw new TypeError(`poolkeeper: instrumentPool() option "meter" must be an OpenTelemetry Meter; got ${show(meter)}`);
  }
  const name = options.name ?? pool.stats().name;
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`poolkeeper: instrumentPool() option "name" must be a non-empty string; got ${show(name)}`);
  }
  const instruments = instrumentsOf(meter);
  if (instruments.names.has(name)) {
    throw new TypeError(
      `poolkeeper: instrumentPool() option "name": a pool named ${show(name)} is already instrumented with this meter; ` +
        'give each pool its own name so their metrics are not merged',
    );
  }
  instruments.names.add(name);

  // Built once: the callback and the listeners allocate nothing of their own per data point.
  const attributes: Attributes = Object.freeze({ [POOL_NAME_ATTRIBUTE]: name });
  const idle: Attributes = Object.freeze({ [POOL_NAME_ATTRIBUTE]: name, [STATE_ATTRIBUTE]: 'idle' });
  const used: Attributes = Object.freeze({ [POOL_NAME_ATTRIBUTE]: name, [STATE_ATTRIBUTE]: 'used' });
  const { count, idleMax, idleMin, max, pending, timeouts, observables, createTime, waitTime, useTime } = instruments;

  const observe: BatchObservableCallback = (result) => {
    const s = pool.stats();
    result.observe(count, s.idle, idle);
    result.observe(count, s.borrowed, used);
    // An unbounded pool (`Infinity`) has no maximum to report: an integer point cannot say +Inf.
    if (s.maxIdle !== Infinity) result.observe(idleMax, s.maxIdle, attributes);
    result.observe(idleMin, s.minIdle, attributes);
    if (s.maxSize !== Infinity) result.observe(max, s.maxSize, attributes);
    result.observe(pending, s.pending, attributes);
    result.observe(timeouts, s.timedOut, attributes);
  };
  meter.addBatchObservableCallback(observe, observables);
  const stopRecording = recordDurations(pool, {
    wait: (s) => waitTime.record(s, attributes),
    create: (s) => createTime.record(s, attributes),
    use: (s) => useTime.record(s, attributes),
  });

  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    stopRecording();
    meter.removeBatchObservableCallback(observe, observables);
    instruments.names.delete(name);
  };
  return { name, remove, [Symbol.dispose]: remove };
}
