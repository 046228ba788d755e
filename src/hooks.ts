/**
 * Hooks: every point where user code runs. The pool calls the user's `factory`, `releaser`,
 * `validate` and `reset`, and its event listeners, only through {@link Hooks}, so the rule
 * "the pool's state is complete before user code runs, and re-checked after" has one place to
 * live. Each method says what state the pool is in when it is called; any user code may call
 * back into the pool (acquire, release, destroy, clear, dispose) before it returns.
 *
 * @internal
 */
import type { BudgetAcquireOptions, BudgetPermit } from './budget.js';
import { Emitter, type PoolEvents } from './events.js';
import type { ResolvedOptions } from './options.js';

const EVENT_NAMES = ['create', 'destroy', 'acquire', 'release', 'error', 'leak'] as const;

export class Hooks<T> {
  readonly #o: ResolvedOptions<T>;
  readonly #events = new Emitter<PoolEvents<T>>(EVENT_NAMES);
  /**
   * Listener arrays by event name, `undefined` when none: test `listeners.x !== undefined`
   * before building an event, so an unobserved pool allocates nothing for it.
   */
  readonly listeners = this.#events.listeners;

  constructor(options: ResolvedOptions<T>) {
    this.#o = options;
  }

  /**
   * True while a `release` or `destroy` listener is attached, however it was added or removed
   * (`on`, `once`, `off`, `removeListener`, a `once` listener that has fired): the pool then
   * takes the borrow time at checkout, for their `heldMs`.
   */
  get wantsHeldTime(): boolean {
    return this.listeners.release !== undefined || this.listeners.destroy !== undefined;
  }

  /** True when the user gave a `releaser`. */
  get hasReleaser(): boolean {
    return this.#o.releaser !== undefined;
  }

  /**
   * The user's `factory`. Pool state: the slot is counted in `creating`; nothing about the new
   * resource exists yet. Its result is checked (null, duplicate) when it arrives, and the
   * creation is re-checked against `clear()` and `dispose()` before the resource is placed.
   */
  factory(): T | PromiseLike<T> {
    return this.#o.factory();
  }

  /**
   * The user's `releaser`, run from the close queue. Pool state: the resource is already out of
   * the pool (record closed, removed from the records, uncounted); the pool never looks at it
   * again. Only called when {@link Hooks.hasReleaser}.
   */
  releaser(resource: T): void | PromiseLike<void> {
    return this.#o.releaser!(resource);
  }

  /**
   * The user's `validate`. Pool state: the resource is counted in `borrowed`, its record is
   * `validating`, and the waiter it is meant for is out of the queue and in the serving set.
   * When it answers, at once or later (both go through the same code), the waiter and the record
   * may have changed (timeout, abort, dispose, clear): the pool re-checks both. Only called when
   * `validate` was given.
   */
  validate(resource: T): boolean | Promise<boolean> {
    return this.#o.validate!(resource);
  }

  /**
   * The user's `reset`. Pool state: the caller has released the resource (counted in `released`
   * stats), it is counted in `borrowed`, its record is `returning`. When it settles the record
   * may have been closed by `dispose()`: the pool re-checks. Only called when `reset` was given.
   */
  reset(resource: T): void | Promise<void> {
    return this.#o.reset!(resource);
  }

  /**
   * The `budget`'s `acquire()`, before a factory call. Pool state: the slot is counted in
   * `creating`; the creation is in the creator's permit waits, and is withdrawn (its signal
   * aborted, the slot freed at once) if the callers leave or the pool is disposed. What it
   * returns is checked (a permit must have `release()`); a permit granted after the withdrawal is
   * given back. Only called when `budget` was given.
   */
  budgetAcquire(options: BudgetAcquireOptions): Promise<BudgetPermit> {
    return this.#o.budget!.acquire(options);
  }

  /**
   * A permit's `release()`, once per permit: after the resource's releaser has finished, or when
   * the factory call it was obtained for failed. Pool state: the resource (if any) is already out
   * of the pool. Its failures are reported as `error` events (operation `'budget'`).
   */
  releasePermit(permit: BudgetPermit): unknown {
    return permit.release();
  }

  /**
   * The user's `isOverCapacity`, on a factory error. Pool state: nothing has been updated for the
   * failure yet (the slot is still counted in `creating`); the pool decides after it returns. A
   * throw counts as `false`.
   */
  isOverCapacity(error: unknown): boolean {
    const predicate = this.#o.isOverCapacity;
    if (predicate === undefined) return false;
    try {
      return predicate(error) === true;
    } catch {
      return false; // a broken predicate must not turn every failure into an endless wait
    }
  }

  /**
   * Calls the listeners of `name`, each in a try/catch (a throwing listener is reported as an
   * uncaught exception on a microtask, never into the pool). Pool state, by event:
   * - `create`: the record is registered, counted in `borrowed` and `returning` (nobody's:
   *   release/destroy of it throw NotBorrowedError), not yet placed; placing re-checks `clear()`,
   *   `dispose()` and the queue afterwards.
   * - `acquire`: the record is `borrowed` and counted; the caller's promise is resolved (its
   *   continuation runs after the listeners).
   * - `release`: counted in `released` stats, the record `returning` (not the caller's any more,
   *   not yet reset or placed; release/destroy of it throw NotBorrowedError); the return path
   *   re-checks afterwards.
   * - `destroy`: the record is closed and out of the records; its releaser is not queued yet. For
   *   a resource that failed validation, the caller it was checked for is already back at the head
   *   of the queue.
   * - `error`: the failure is counted and its bookkeeping done (a failed `validate` or `reset`
   *   is reported after the resource is closed and the caller requeued).
   * - `leak`: the record is marked reported; the resource is still borrowed.
   */
  emit<K extends keyof PoolEvents<T>>(name: K, event: PoolEvents<T>[K]): void {
    this.#events.emit(name, event);
  }

  on<K extends keyof PoolEvents<T>>(name: K, listener: (event: PoolEvents<T>[K]) => void): void {
    this.#events.on(name, listener);
  }

  once<K extends keyof PoolEvents<T>>(name: K, listener: (event: PoolEvents<T>[K]) => void): void {
    this.#events.once(name, listener);
  }

  off<K extends keyof PoolEvents<T>>(name: K, listener: (event: PoolEvents<T>[K]) => void): void {
    this.#events.off(name, listener);
  }
}
