/**
 * What the metrics exporters (`poolkeeper/otel`, `poolkeeper/prometheus`) share: the duration
 * buckets and the checks on their arguments. Imports nothing from either metrics library.
 *
 * @module
 */
import type { AsyncPool } from './async-pool.js';
import type { PoolEvents } from './events.js';
import { show } from './options.js';

/**
 * Upper bounds, in seconds, of the duration histograms both exporters use for wait, create and
 * use times: 100 µs to 60 s, about three per decade (1, 2.5, 5), where pool latencies live: an
 * idle hand-off takes microseconds, a TLS connect tens of milliseconds, a timeout seconds.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

/** @internal Milliseconds (the pool's unit) to seconds (the unit of both standards). */
export function seconds(ms: number): number {
  return ms / 1000;
}

/** @internal Throws a TypeError unless `pool` looks like an `AsyncPool` (any copy of the package). */
export function checkPool(fn: string, pool: unknown): asserts pool is AsyncPool<unknown> {
  const p = pool as Partial<Record<'stats' | 'on' | 'off', unknown>> | null;
  if (typeof p !== 'object' || p === null || typeof p.stats !== 'function' || typeof p.on !== 'function' || typeof p.off !== 'function') {
    throw new TypeError(`poolkeeper: ${fn}() argument "pool" must be an AsyncPool; got ${show(pool)}`);
  }
}

/** @internal Throws a TypeError unless `options` is an object with only the `allowed` keys. */
export function checkOptions(fn: string, options: unknown, allowed: readonly string[]): asserts options is Record<string, unknown> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`poolkeeper: ${fn}() options must be an object; got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`poolkeeper: unknown ${fn}() option "${key}" (expected ${allowed.join(', ')})`);
    }
  }
}

/** @internal Where an exporter records the pool's durations, each in seconds. */
export interface DurationSinks {
  /** How long a caller waited in `acquire()`. */
  wait(seconds: number): void;
  /** How long a `factory` call took. */
  create(seconds: number): void;
  /** How long a resource was held: from its hand-out to `release()`, or to `destroy()`. */
  use(seconds: number): void;
}

/**
 * @internal Feeds `sinks` from the pool's events (`acquire`, `create`, and `release` or
 * `destroy()` of a borrowed resource for the use time), for both exporters alike. Returns the
 * function that takes the listeners off again.
 */
export function recordDurations<T>(pool: AsyncPool<T>, sinks: DurationSinks): () => void {
  const onAcquire = (e: PoolEvents<T>['acquire']): void => sinks.wait(seconds(e.waitedMs));
  const onCreate = (e: PoolEvents<T>['create']): void => sinks.create(seconds(e.durationMs));
  // A borrow that began before the exporter was attached has no `heldMs`: it is skipped.
  const onRelease = (e: PoolEvents<T>['release']): void => {
    if (e.heldMs !== undefined) sinks.use(seconds(e.heldMs));
  };
  const onDestroy = (e: PoolEvents<T>['destroy']): void => {
    if (e.heldMs !== undefined) sinks.use(seconds(e.heldMs));
  };
  pool.on('acquire', onAcquire).on('create', onCreate).on('release', onRelease).on('destroy', onDestroy);
  return () => {
    pool.off('acquire', onAcquire).off('create', onCreate).off('release', onRelease).off('destroy', onDestroy);
  };
}
