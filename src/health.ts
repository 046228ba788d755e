/**
 * Health: `validate` before a resource is handed out (with its timeout and the bypass window
 * `validateIdleAfterMs`), and `reset` when one comes back (with its timeout). A resource that
 * fails either is closed; the caller it was validated for keeps its place at the head of the queue.
 *
 * @internal
 */
import type { Closer } from './closer.js';
import { ResetTimeoutError, ValidateTimeoutError } from './errors.js';
import type { DestroyReason } from './events.js';
import type { Hooks } from './hooks.js';
import { show, type ResolvedOptions } from './options.js';
import type { ResourceRecord } from './resource.js';
import type { StatsRecorder } from './stats.js';
import { isThenable, now, settleWithin } from './util.js';
import type { Waiter } from './waiter.js';
import type { Waiters } from './waiters.js';

/** What health checks need from the pool. */
export interface HealthOwner<T> {
  readonly disposing: boolean;
  /** Gives `record` (counted in `borrowed`) to `waiter`, which is being served. */
  handOver(record: ResourceRecord<T>, waiter: Waiter<T>): void;
  /** A resource came back: to the oldest waiter (validated first if asked), idle, or closed. */
  giveBack(record: ResourceRecord<T>, validateForWaiter: boolean): void;
  /** Uncounts a record from `borrowed` and closes it. */
  closeBorrowed(record: ResourceRecord<T>, reason: DestroyReason): void;
  /** A slot was freed: dispatch, and let a dispose finish. */
  slotFreed(): void;
  /** Keep-warm: top the idle store up to `minIdle` and live resources up to `min`. */
  refill(): void;
  /** Decides what happens next (idle resources kept back for a caller may go to the next waiters). */
  dispatch(): void;
  /** A resource had the check it gets straight from the factory; a failure backs creation for waiters off. */
  newResourceChecked(valid: boolean): void;
}

export class Health<T> {
  readonly #o: ResolvedOptions<T>;
  readonly #owner: HealthOwner<T>;
  readonly #waiters: Waiters<T>;
  readonly #hooks: Hooks<T>;
  readonly #closer: Closer<T>;
  readonly #stats: StatsRecorder;

  constructor(o: ResolvedOptions<T>, owner: HealthOwner<T>, parts: { waiters: Waiters<T>; hooks: Hooks<T>; closer: Closer<T>; stats: StatsRecorder }) {
    this.#o = o;
    this.#owner = owner;
    this.#waiters = parts.waiters;
    this.#hooks = parts.hooks;
    this.#closer = parts.closer;
    this.#stats = parts.stats;
  }

  /**
   * False inside the bypass window: a resource idle less than `validateIdleAfterMs` is trusted,
   * unless it was never handed out and `validateOnCreate` is set.
   */
  idleLongEnoughToValidate(record: ResourceRecord<T>): boolean {
    const window = this.#o.validateIdleAfterMs;
    if (window === 0 || (record.uses === 0 && this.#o.validateOnCreate)) return true;
    return now() - record.idleSince >= window;
  }

  /** Validates `record` (counted in `borrowed`) for `waiter` (out of the queue), then hands it over. */
  validateFor(record: ResourceRecord<T>, waiter: Waiter<T>): void {
    // Straight from the factory (`validateOnCreate`): never handed out, and not taken from idle.
    const unused = record.uses === 0 && record.state !== 'idle';
    record.state = 'validating';
    this.#waiters.serving.add(waiter);
    let result: boolean | PromiseLike<boolean>;
    let thenable: boolean;
    try {
      result = this.#hooks.validate(record.resource);
      thenable = isThenable(result);
    } catch (error) {
      // A synchronous answer goes through the same code as an asynchronous one: #validated
      // re-checks whatever validate() did to the pool (clear, dispose, abort its caller).
      this.#validated(record, waiter, false, error, true, unused);
      return;
    }
    if (!thenable) {
      // A synchronous answer (a local "is the socket open" check): no promise, no timer.
      this.#answered(record, waiter, result, unused);
      return;
    }
    const timeoutMs = this.#o.validateTimeoutMs;
    settleWithin(result, this.#closer.timers, timeoutMs, () => new ValidateTimeoutError(timeoutMs)).then(
      (valid: unknown) => this.#answered(record, waiter, valid, unused),
      (error: unknown) => this.#validated(record, waiter, false, error, true, unused),
    );
  }

  /** validate() answered `valid`, at once or later: anything but a boolean is a bug in the validator. */
  #answered(record: ResourceRecord<T>, waiter: Waiter<T>, valid: unknown, unused: boolean): void {
    if (typeof valid === 'boolean') this.#validated(record, waiter, valid, undefined, false, unused);
    // Fail the resource, and say what it returned.
    else this.#validated(record, waiter, false, new TypeError(`poolkeeper: validate() returned ${show(valid)}; it must return true or false (or a promise of one). The resource was closed as invalid.`), true, unused);
  }

  /**
   * The one place a validation ends, whether validate() answered at once or later. `unused`: the
   * resource came straight from the factory.
   */
  #validated(record: ResourceRecord<T>, waiter: Waiter<T>, valid: boolean, error: unknown, failed: boolean, unused: boolean): void {
    // Its caller's signal aborted, but an abort listener added before acquire() stopped the event
    // before the pool's own could run: the caller leaves now, never served. (What its leaving sets
    // off may run user code: the checks below see the outcome.)
    if (waiter.state === 'serving' && waiter.aborted) this.#waiters.abort(waiter);
    if (record.state === 'closed') return; // dispose() closed it meanwhile
    const owner = this.#owner;
    if (unused && valid) owner.newResourceChecked(true);
    // Retired while being validated (clear(), end of lifetime): never handed out, closed for that reason.
    if (!valid || (record.retired !== undefined && waiter.state === 'serving')) {
      if (!valid) this.#stats.validationFailed++;
      // The caller keeps its place at the head of the queue, and is put back before the close
      // runs user code (the 'destroy' listener, the releaser): its check is over, so a caller
      // arriving from there must queue behind it, not take a resource while it is out of the queue.
      if (waiter.state === 'serving' && !owner.disposing) this.#waiters.requeue(waiter);
      // A new resource that fails its first check says the backend hands out broken ones:
      // creating the next at once would loop through factory, validate and releaser in
      // microtasks, where no timer runs, the callers' timeouts included. Set with the caller back
      // in the queue (the backoff then holds the process for it), before any user code below.
      if (!valid && unused) owner.newResourceChecked(false);
      owner.closeBorrowed(record, valid ? record.retired! : 'invalid');
      // Reported once the pool is consistent again, so a listener sees (and may act on) that state.
      if (failed) this.#closer.reportError(error, 'validate', record.resource);
      owner.slotFreed();
      return;
    }
    if (waiter.state !== 'serving') {
      // The caller left (timeout, abort, dispose) while it was validated: the resource goes on.
      owner.giveBack(record, false);
      return;
    }
    owner.handOver(record, waiter);
    // Now it is out: resources kept idle for this caller may go to the next waiters, and the
    // idle store is topped up.
    owner.dispatch();
  }

  /** Runs `reset` on a released resource (counted in `borrowed`), then gives it back. */
  resetThenReturn(record: ResourceRecord<T>): void {
    record.state = 'returning';
    const timeoutMs = this.#o.resetTimeoutMs;
    let result: void | PromiseLike<void>;
    let thenable: boolean;
    try {
      result = this.#hooks.reset(record.resource);
      thenable = isThenable(result);
    } catch (error) {
      this.#resetFailed(record, error);
      return;
    }
    if (!thenable) {
      this.#resetDone(record);
      return;
    }
    settleWithin(result, this.#closer.timers, timeoutMs, () => new ResetTimeoutError(timeoutMs)).then(
      () => this.#resetDone(record),
      (error: unknown) => this.#resetFailed(record, error),
    );
  }

  /** The one place a reset ends well, whether reset() answered at once or later. */
  #resetDone(record: ResourceRecord<T>): void {
    if (record.state === 'closed') return; // dispose() closed it meanwhile
    this.#owner.giveBack(record, this.#o.validateIdleAfterMs === 0);
  }

  #resetFailed(record: ResourceRecord<T>, error: unknown): void {
    if (record.state === 'closed') return;
    this.#owner.closeBorrowed(record, 'invalid');
    this.#closer.reportError(error, 'reset', record.resource); // once the pool is consistent again
    this.#owner.slotFreed();
  }
}
