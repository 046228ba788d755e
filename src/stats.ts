/**
 * The pool's statistics: cumulative counters and the wait-time histogram. `pool.stats()` returns
 * an immutable snapshot; the counters themselves are plain fields bumped on the hot path.
 *
 * @module
 */
import type { DestroyReason } from './events.js';
import { DurationHistogram, type HistogramSnapshot } from './histogram.js';

/** Resources destroyed since the pool was created, by reason. */
export type DestroyedCounts = { readonly [R in DestroyReason]: number } & {
  /** The sum over every reason. */
  readonly total: number;
};

/** An immutable snapshot of a pool's state and history. */
export interface PoolStats {
  /** The pool's `name` option. */
  readonly name: string;
  // gauges
  /** Live resources: idle + borrowed + being created. */
  readonly size: number;
  /** Idle resources ready to hand out. */
  readonly idle: number;
  /**
   * Out of the idle store: held by callers, being validated for one, or being reset (and, while
   * `clear()`, `dispose()` or ended lifetimes close idle ones one after the other, those not closed yet).
   */
  readonly borrowed: number;
  /** Callers whose `acquire()` has not settled. */
  readonly pending: number;
  /** `factory` calls in flight (queued in the create queue included). */
  readonly creating: number;
  /** The pool's `maxSize` option. */
  readonly maxSize: number;
  /** The pool's `minIdle` option. */
  readonly minIdle: number;
  /** The pool's `maxIdle` option. */
  readonly maxIdle: number;
  // counters
  /** Resources handed to callers. */
  readonly acquired: number;
  /** Of `acquired`: handed out at once, without queueing. */
  readonly acquiredImmediately: number;
  /** Of `acquired`: handed out after queueing. */
  readonly acquiredAfterWait: number;
  /** Resources given back with `release()`. */
  readonly released: number;
  /** `acquire()` calls rejected with `AcquireTimeoutError`. */
  readonly timedOut: number;
  /** `acquire()` calls cancelled by their signal. */
  readonly aborted: number;
  /** `acquire()` calls rejected with `PoolQueueFullError`. */
  readonly rejectedQueueFull: number;
  /** `acquire()` calls rejected with `PoolUnavailableError` (fail-fast). */
  readonly rejectedUnavailable: number;
  /** `acquire()` calls rejected with a factory error. */
  readonly rejectedCreateFailed: number;
  /** `acquire()` calls rejected with `BudgetUnavailableError`: the `budget` granted no permit. */
  readonly rejectedBudgetUnavailable: number;
  /** Factory failures that `isOverCapacity` marked as back-pressure (the caller kept waiting). */
  readonly overCapacity: number;
  /** `resize()` calls. */
  readonly resized: number;
  /** Resources created and entered into the pool. */
  readonly created: number;
  /** `factory` calls that threw, rejected, timed out or returned nothing. */
  readonly createFailed: number;
  /** `validate` calls that found a resource unusable. */
  readonly validationFailed: number;
  /** Resources destroyed, by reason. */
  readonly destroyed: DestroyedCounts;
  /** `releaser` calls that threw, rejected or timed out. */
  readonly destroyFailed: number;
  /** `leak` events raised. */
  readonly leaks: number;
  /** How long acquires waited (0 for those served at once). */
  readonly waitTime: HistogramSnapshot;
}

/** @internal Mutable counters the pool bumps; see {@link PoolStats} for their meaning. */
export class StatsRecorder {
  acquiredImmediately = 0;
  acquiredAfterWait = 0;
  released = 0;
  timedOut = 0;
  aborted = 0;
  rejectedQueueFull = 0;
  rejectedUnavailable = 0;
  rejectedCreateFailed = 0;
  rejectedBudgetUnavailable = 0;
  overCapacity = 0;
  resized = 0;
  created = 0;
  createFailed = 0;
  validationFailed = 0;
  destroyFailed = 0;
  leaks = 0;
  readonly destroyed: { [R in DestroyReason]: number } = {
    recycled: 0, idle: 0, invalid: 0, overflow: 0, destroyed: 0, cleared: 0, disposed: 0, maxUses: 0, retired: 0, resized: 0, revoked: 0,
  };
  readonly waits = new DurationHistogram();

  snapshot(gauges: Pick<PoolStats, 'name' | 'size' | 'idle' | 'borrowed' | 'pending' | 'creating' | 'maxSize' | 'minIdle' | 'maxIdle'>): PoolStats {
    const d = this.destroyed;
    const total = d.recycled + d.idle + d.invalid + d.overflow + d.destroyed + d.cleared + d.disposed + d.maxUses + d.retired + d.resized + d.revoked;
    return Object.freeze({
      ...gauges,
      acquired: this.acquiredImmediately + this.acquiredAfterWait,
      acquiredImmediately: this.acquiredImmediately,
      acquiredAfterWait: this.acquiredAfterWait,
      released: this.released,
      timedOut: this.timedOut,
      aborted: this.aborted,
      rejectedQueueFull: this.rejectedQueueFull,
      rejectedUnavailable: this.rejectedUnavailable,
      rejectedCreateFailed: this.rejectedCreateFailed,
      rejectedBudgetUnavailable: this.rejectedBudgetUnavailable,
      overCapacity: this.overCapacity,
      resized: this.resized,
      created: this.created,
      createFailed: this.createFailed,
      validationFailed: this.validationFailed,
      destroyed: Object.freeze({ ...d, total }),
      destroyFailed: this.destroyFailed,
      leaks: this.leaks,
      waitTime: this.waits.snapshot(),
    });
  }
}
