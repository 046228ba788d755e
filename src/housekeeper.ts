/**
 * Lifetimes and maintenance: one timer, set for the next deadline, that retires resources past
 * their lifetime (`recycleMs`), evicts those idle past `idleTimeoutMs` down to `minIdle` and `min`, reports
 * leaks (`leakDetectionMs`) and ends a create backoff. Nothing is scheduled when nothing is due,
 * so the hot path never reads the clock with the default options.
 *
 * @internal
 */
import type { Closer } from './closer.js';
import type { Creator } from './creator.js';
import type { Deque } from './deque.js';
import type { Hooks } from './hooks.js';
import type { Limits, ResolvedOptions } from './options.js';
import type { ResourceRecord } from './resource.js';
import type { StatsRecorder } from './stats.js';
import { DeadlineTimer } from './timer.js';
import { now } from './util.js';

/** What maintenance needs from the pool. */
export interface HousekeeperOwner<T> {
  readonly disposing: boolean;
  /** Live resources: idle + borrowed + being created. */
  readonly size: number;
  dispatch(): void;
  /** Closes the idle resources `which` picks, one after the other (see `AsyncPool.#closeIdle`). */
  closeIdle(reason: 'recycled', which: (record: ResourceRecord<T>) => boolean): void;
}

export class Housekeeper<T> {
  readonly #timer = new DeadlineTimer(() => this.#maintain());
  readonly #o: ResolvedOptions<T>;
  readonly #owner: HousekeeperOwner<T>;
  readonly #records: Map<T, ResourceRecord<T>>;
  readonly #idle: Deque<ResourceRecord<T>>;
  readonly #creator: Creator<T>;
  readonly #closer: Closer<T>;
  readonly #hooks: Hooks<T>;
  readonly #stats: StatsRecorder;
  readonly #trackLeaks: boolean;
  readonly #limits: Limits;

  constructor(
    o: ResolvedOptions<T>,
    owner: HousekeeperOwner<T>,
    records: Map<T, ResourceRecord<T>>,
    idle: Deque<ResourceRecord<T>>,
    parts: { creator: Creator<T>; closer: Closer<T>; hooks: Hooks<T>; stats: StatsRecorder; limits: Limits },
  ) {
    this.#o = o;
    this.#owner = owner;
    this.#records = records;
    this.#idle = idle;
    this.#creator = parts.creator;
    this.#closer = parts.closer;
    this.#hooks = parts.hooks;
    this.#stats = parts.stats;
    this.#limits = parts.limits;
    this.#trackLeaks = o.leakDetectionMs !== Infinity;
  }

  /** Makes sure maintenance runs no later than `at`, given the clock reads `t`. */
  schedule(at: number, t: number): void {
    this.#timer.schedule(at, t);
  }

  /** `dispose()`: no more maintenance. */
  cancel(): void {
    this.#timer.cancel();
  }

  /**
   * The timer fired: retire resources past their lifetime (closing idle ones), evict resources
   * idle past `idleTimeoutMs` down to `minIdle`, report leaks, end a create backoff, then set the
   * timer for the next deadline.
   */
  #maintain(): void {
    if (this.#owner.disposing) return;
    const t = now();
    const o = this.#o;
    const idle = this.#idle;
    let next = Infinity;
    let expiredIdle = false;
    for (const record of this.#records.values()) {
      if (record.retired === undefined) {
        if (record.expiresAt - t < 1) {
          record.retired = 'recycled';
          if (record.state === 'idle') expiredIdle = true;
        } else if (record.expiresAt < next) {
          next = record.expiresAt;
        }
      }
      if (this.#trackLeaks && record.state === 'borrowed' && !record.leakReported) {
        const leakAt = record.borrowedAt + o.leakDetectionMs;
        if (leakAt - t < 1) this.#reportLeak(record, t);
        else if (leakAt < next) next = leakAt;
      }
    }
    if (expiredIdle) this.#owner.closeIdle('recycled', isRetired);
    if (o.idleTimeoutMs !== Infinity) {
      // Never below minIdle idle, nor below min live (idle + borrowed + being created); closing
      // runs user code, which may dispose the pool: re-checked on every turn.
      for (let oldest = idle.peekFront(); oldest !== undefined && idle.length > this.#limits.minIdle && this.#owner.size > o.min && !this.#owner.disposing; oldest = idle.peekFront()) {
        const evictAt = oldest.idleSince + o.idleTimeoutMs;
        if (evictAt - t >= 1) {
          if (evictAt < next) next = evictAt;
          break;
        }
        idle.shift();
        this.#closer.close(oldest, 'idle');
      }
    }
    const retryAt = this.#creator.retryDeadline(t);
    if (retryAt < next) next = retryAt;
    // Closing ran user code ('destroy' and 'leak' listeners, releasers), which may have disposed
    // the pool: a disposed pool arms no timer.
    if (this.#owner.disposing) return;
    this.#timer.schedule(next, t);
    this.#owner.dispatch();
    if (this.#creator.failingFast && this.#limits.minIdle === 0 && o.min === 0) this.#creator.refill(); // the probe
  }

  #reportLeak(record: ResourceRecord<T>, t: number): void {
    record.leakReported = true;
    this.#stats.leaks++;
    if (this.#hooks.listeners.leak !== undefined) {
      this.#hooks.emit('leak', {
        resource: record.resource,
        borrowedMs: t - record.borrowedAt,
        stack: record.acquireStack?.stack,
      });
    }
  }
}

function isRetired<T>(record: ResourceRecord<T>): boolean {
  return record.retired !== undefined;
}
