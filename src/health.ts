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
import { show, type Limits, type ResolvedOptions } from './options.js';
import type { ResourceRecord } from './resource.js';
import type { StatsRecorder } from './stats.js';
import { callWithTimeout, isThenable, now } from './util.js';
import type { Waiter } from './waiter.js';

/** What health checks need from the pool. */
export interface HealthOwner<T> {
  readonly disposing: boolean;
  /** Waiters whose resource is being validated (shared with the pool). */
  readonly serving: Set<Waiter<T>>;
  /** Gives `record` (counted in `borrowed`) to `waiter`, which is being served. */
  handOver(record: ResourceRecord<T>, waiter: Waiter<T>): void;
  /** A resource came back: to the oldest waiter (validated first if asked), idle, or closed. */
  giveBack(record: ResourceRecord<T>, validateForWaiter: boolean): void;
  /** Uncounts a record from `borrowed` and closes it. */
  closeBorrowed(record: ResourceRecord<T>, reason: DestroyReason): void;
  /** Puts a waiter being served back at the head of the queue. */
  requeue(waiter: Waiter<T>): void;
  /** A slot was freed: dispatch, and let a dispose finish. */
  slotFreed(): void;
  /** Keep-warm: top the idle store up to `minIdle` and live resources up to `min`. */
  refill(): void;
}

export class Health<T> {
  readonly #o: ResolvedOptions<T>;
  readonly #owner: HealthOwner<T>;
  readonly #hooks: Hooks<T>;
  readonly #closer: Closer<T>;
  readonly #stats: StatsRecorder;
  readonly #limits: Limits;

  /** minIdle or min is set: refills run (minIdle may change through resize()). */
  #keepWarm(): boolean {
    return this.#limits.minIdle !== 0 || this.#o.min !== 0;
  }

  constructor(o: ResolvedOptions<T>, owner: HealthOwner<T>, hooks: Hooks<T>, closer: Closer<T>, stats: StatsRecorder, limits: Limits) {
    this.#o = o;
    this.#limits = limits;
    this.#owner = owner;
    this.#hooks = hooks;
    this.#closer = closer;
    this.#stats = stats;
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
    const owner = this.#owner;
    record.state = 'validating';
    owner.serving.add(waiter);
    let result: boolean | Promise<boolean>;
    try {
      result = this.#hooks.validate(record.resource);
    } catch (error) {
      result = Promise.reject(error);
    }
    if (result === true) {
      // A synchronous pass (a local "is the socket open" check) hands over at once: no promise,
      // no timer. Failures still take the asynchronous path below, so that a run of invalid idle
      // resources never recurses through dispatch.
      owner.serving.delete(waiter);
      owner.handOver(record, waiter);
      if (this.#keepWarm()) owner.refill();
      return;
    }
    const pending = result;
    const timeoutMs = this.#o.validateTimeoutMs;
    callWithTimeout(() => pending, timeoutMs, () => new ValidateTimeoutError(timeoutMs)).then(
      (valid: unknown) => {
        if (typeof valid === 'boolean') this.#validated(record, waiter, valid, undefined);
        // Anything else is a bug in the validator: fail the resource, and say what it returned.
        else this.#validated(record, waiter, false, new TypeError(`poolkeeper: validate() returned ${show(valid)}; it must return true or false (or a promise of one). The resource was closed as invalid.`));
      },
      (error: unknown) => this.#validated(record, waiter, false, error),
    );
  }

  #validated(record: ResourceRecord<T>, waiter: Waiter<T>, valid: boolean, error: unknown): void {
    if (record.state === 'closed') return; // dispose() closed it meanwhile
    const owner = this.#owner;
    // Retired while being validated (clear(), end of lifetime): never handed out, closed for that reason.
    if (!valid || (record.retired !== undefined && waiter.state === 'serving')) {
      if (!valid) {
        this.#stats.validationFailed++;
        if (error !== undefined) this.#closer.reportError(error, 'validate', record.resource);
      }
      owner.closeBorrowed(record, valid ? record.retired! : 'invalid');
      // The caller keeps its place at the head of the queue.
      if (waiter.state === 'serving' && !owner.disposing) owner.requeue(waiter);
      owner.slotFreed();
      return;
    }
    if (waiter.state !== 'serving') {
      // The caller left (timeout, abort, dispose) while we validated: the resource goes on.
      owner.giveBack(record, false);
      return;
    }
    owner.handOver(record, waiter);
    if (this.#keepWarm()) owner.refill(); // now it is out: top the idle store up
  }

  /** Runs `reset` on a released resource (counted in `borrowed`), then gives it back. */
  resetThenReturn(record: ResourceRecord<T>): void {
    record.state = 'returning';
    const timeoutMs = this.#o.resetTimeoutMs;
    let result: void | Promise<void>;
    try {
      result = this.#hooks.reset(record.resource);
    } catch (error) {
      this.#resetFailed(record, error);
      return;
    }
    const mayValidate = this.#o.validateIdleAfterMs === 0;
    if (!isThenable(result)) {
      this.#owner.giveBack(record, mayValidate);
      return;
    }
    callWithTimeout(() => result, timeoutMs, () => new ResetTimeoutError(timeoutMs)).then(
      () => {
        if (record.state !== 'closed') this.#owner.giveBack(record, mayValidate);
      },
      (error: unknown) => this.#resetFailed(record, error),
    );
  }

  #resetFailed(record: ResourceRecord<T>, error: unknown): void {
    if (record.state === 'closed') return;
    this.#closer.reportError(error, 'reset', record.resource);
    this.#owner.closeBorrowed(record, 'invalid');
    this.#owner.slotFreed();
  }
}
