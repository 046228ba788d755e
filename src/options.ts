/**
 * The options of {@link AsyncPool}, their defaults, and their validation. Options are checked once,
 * at construction, and resolved into a fully filled, frozen object; a wrong option throws a
 * `TypeError` (wrong type, unknown key) or `RangeError` (out of range) naming the option and the value.
 *
 * @module
 */

import type { Budget } from './budget.js';

/** Which idle resource `acquire()` hands out. */
export type IdleStrategy = 'lifo' | 'fifo';

/**
 * What a failed `factory` call means to the caller waiting for it: `'reject'` passes the error
 * to that caller at once; `'retry'` keeps the caller waiting and creates again after a
 * `createRetry` backoff, until the caller's own timeout (whose `cause` is the last factory error).
 */
export type CreateErrorPolicy = 'reject' | 'retry';

/** What `use()` does with the resource when `fn` throws or rejects. */
export type UseErrorPolicy = 'release' | 'destroy';

/** Backoff for background creation (keep-warm refills and fail-fast probes). */
export interface CreateRetryOptions {
  /**
   * Delay before the first retry, in milliseconds; doubles on each consecutive failure.
   * @defaultValue 100
   */
  readonly minDelayMs?: number;
  /**
   * Upper bound of the delay, in milliseconds.
   * @defaultValue 10 000
   */
  readonly maxDelayMs?: number;
}

/** Options of {@link AsyncPool}. Times are in milliseconds. */
export interface AsyncPoolOptions<T> {
  /** Creates a resource. Required. It must not return `null` or `undefined`. */
  readonly factory: () => T | Promise<T>;
  /**
   * Closes a resource for good. Its failures are reported through the `error` event, never thrown.
   * @defaultValue a no-op
   */
  readonly releaser?: (resource: T) => void | Promise<void>;
  /**
   * Cap on live resources: idle + borrowed + being created. An integer ≥ 1, or `Infinity`.
   * @defaultValue 10
   */
  readonly maxSize?: number;
  /**
   * Most idle resources kept; a release beyond it closes the resource. An integer, 0 ≤ maxIdle ≤ maxSize.
   * @defaultValue `maxSize`
   */
  readonly maxIdle?: number;
  /**
   * Idle resources kept ready, refilled in the background (within `maxSize`). An integer, 0 ≤ minIdle ≤ maxIdle.
   * @defaultValue 0
   */
  readonly minIdle?: number;
  /**
   * A floor on live resources (idle + borrowed + being created), kept by background creation from
   * the first `acquire()` or `prefill()` on: `idleTimeoutMs` never evicts below it, and a resource
   * closed for any reason (lifetime, `maxUses`, `destroy()`, a failed validation) is replaced.
   * Unlike `minIdle`, borrowed resources count towards it. An integer, 0 ≤ min ≤ maxSize.
   * @defaultValue 0
   */
  readonly min?: number;
  /**
   * Borrows per resource: a resource that comes back from its `maxUses`-th borrow is closed
   * (reason `'maxUses'`) instead of reused. An integer ≥ 1, or `Infinity`.
   * @defaultValue Infinity
   */
  readonly maxUses?: number;
  /**
   * `'lifo'` hands out the most recently returned idle resource (keeps a warm core, lets the rest
   * expire); `'fifo'` hands out the one idle longest (spreads use evenly).
   * @defaultValue 'lifo'
   */
  readonly strategy?: IdleStrategy;
  /**
   * Maximum lifetime of a resource from its creation. An expired resource is never handed out:
   * the pool's timer closes it while idle, and marks it to be closed when it comes back if borrowed.
   * `Infinity` disables recycling.
   * @defaultValue 3 600 000 (one hour)
   */
  readonly recycleMs?: number;
  /**
   * Spreads lifetimes: each resource lives `recycleMs × (1 − recycleJitter × random)`, so resources
   * created together do not all expire at the same instant. A number in [0, 1].
   * @defaultValue 0.1
   */
  readonly recycleJitter?: number;
  /**
   * How long `acquire()` may wait (for a release, a creation and validation together) before it
   * rejects with `AcquireTimeoutError`. A number > 0, or `Infinity`.
   * @defaultValue 30 000
   */
  readonly acquireTimeoutMs?: number;
  /**
   * Most callers queued while the pool is at `maxSize` with nothing idle; the next is rejected at
   * once with `PoolQueueFullError`. An integer ≥ 0, or `Infinity`.
   * @defaultValue Infinity
   */
  readonly maxWaiters?: number;
  /**
   * Most `factory` calls in flight at once (prefill, refills and acquires alike). An integer ≥ 1, or `Infinity`.
   * @defaultValue `min(maxSize, 16)`
   */
  readonly createConcurrency?: number;
  /**
   * Most `factory` calls started per second, to spare a database a connection storm after a
   * failover. A number > 0, or `Infinity`.
   * @defaultValue Infinity
   */
  readonly createRatePerSec?: number;
  /**
   * A `factory` call that takes longer fails with `CreateTimeoutError`; a resource that arrives
   * later is closed. A number > 0, or `Infinity`.
   * @defaultValue 30 000
   */
  readonly createTimeoutMs?: number;
  /** Backoff of background creation after a failure (and of retried creations, with `onCreateError: 'retry'`). */
  readonly createRetry?: CreateRetryOptions;
  /**
   * When a creation a caller was waiting for fails: `'reject'` rejects that caller with the
   * factory's error; `'retry'` reports the error through the `error` event and creates again
   * after a `createRetry` backoff, so callers see only their own timeout (`AcquireTimeoutError`
   * with the last factory error as `cause`). Either way, a creation whose caller has already
   * left (timeout, abort) never rejects a caller who arrived after it started. While a caller
   * waits for a retry, the backoff keeps the process alive, as the connection attempt would.
   * @defaultValue 'reject'
   */
  readonly onCreateError?: CreateErrorPolicy;
  /**
   * Number of priority levels for `acquire({ priority })`: priorities are the integers from 0
   * (the highest) to `priorities - 1`. A waiter is served before every waiter of a lower priority,
   * and in arrival order within its own. An integer from 1 to 1024; 1 means no priorities (the
   * default queue, with no cost at all).
   * @defaultValue 1
   */
  readonly priorities?: number;
  /**
   * What `use()` does with the resource when `fn` throws or rejects: `'release'` gives it back
   * (it stays in the pool), `'destroy'` closes it, for resources a failure may leave broken.
   * @defaultValue 'release'
   */
  readonly onUseError?: UseErrorPolicy;
  /**
   * After this many consecutive factory failures, callers that would wait are rejected at once
   * with `PoolUnavailableError` (cause: the last factory error) until a creation succeeds; the pool
   * probes with `createRetry` backoff meanwhile. An integer ≥ 1, or `Infinity` (off).
   * @defaultValue Infinity
   */
  readonly failFastAfter?: number;
  /**
   * Checked before an idle resource is handed out. It must return (or resolve to) `true` or
   * `false`. `false`, a throw, a rejection or a timeout closes the resource (reason `'invalid'`)
   * and the pool tries the next idle one or creates a new one; a throw or rejection is also
   * reported through the `error` event. Any other value (`'PONG'`, `1`, `undefined`) is a bug in
   * the validator: it fails the same way, reported as a `TypeError` saying what was returned.
   */
  readonly validate?: (resource: T) => boolean | Promise<boolean>;
  /**
   * Validate fresh resources too, before their first hand-out (by default a resource straight from
   * `factory` is trusted). Needs `validate`. A fresh resource that fails makes the next creation
   * for callers wait for a `createRetry` backoff: never a busy loop.
   * @defaultValue false
   */
  readonly validateOnCreate?: boolean;
  /**
   * A validation that takes longer counts as failed. A number > 0, or `Infinity`.
   * @defaultValue 5 000
   */
  readonly validateTimeoutMs?: number;
  /**
   * Skip validation for a resource idle less than this. 0 validates on every hand-out.
   * @defaultValue 0
   */
  readonly validateIdleAfterMs?: number;
  /** Runs on every release before the resource becomes idle again; a throw closes it instead. */
  readonly reset?: (resource: T) => void | Promise<void>;
  /**
   * A `reset` that takes longer counts as failed: the resource is closed. A number > 0, or `Infinity`.
   * @defaultValue 5 000
   */
  readonly resetTimeoutMs?: number;
  /**
   * Close resources idle longer than this, never going below `minIdle`. A number > 0, or `Infinity`.
   * @defaultValue Infinity
   */
  readonly idleTimeoutMs?: number;
  /**
   * A `releaser` call that takes longer is abandoned and reported as `DestroyTimeoutError`, so a
   * hanging close never blocks `dispose()`. A number > 0, or `Infinity`.
   * @defaultValue 5 000
   */
  readonly destroyTimeoutMs?: number;
  /**
   * A resource borrowed longer than this raises a `leak` event with the stack of its `acquire()`.
   * The stack is captured only when this is set. A number > 0, or `Infinity` (off).
   * @defaultValue Infinity
   */
  readonly leakDetectionMs?: number;
  /**
   * A label for this pool in `stats()` and in trace contexts.
   * @defaultValue 'pool'
   */
  readonly name?: string;
  /**
   * A cap on live resources shared with other pools or processes (`LocalBudget`,
   * `poolkeeper/redis-budget`). The pool obtains a permit before each `factory` call (waiting
   * within the caller's timeout and signal) and gives it back after the `releaser` has run; the
   * idle hand-off never consults it. When it cannot grant a permit, acquires that need a new
   * resource fail with `BudgetUnavailableError` and idle resources are still served.
   */
  readonly budget?: Budget;
  /**
   * Marks a factory error as "over capacity" (the server refused for lack of room, e.g.
   * PostgreSQL SQLSTATE 53300): the caller then keeps waiting and the creation is retried with
   * `createRetry` backoff within its timeout, instead of failing at once. Such failures never
   * count towards `failFastAfter`. A throw counts as `false`.
   */
  readonly isOverCapacity?: (error: unknown) => boolean;
}

/** Options of one `acquire()` call. */
export interface AcquireOptions {
  /** Cancels the wait: the call rejects with an `AbortError` whose `cause` is the signal's reason. */
  readonly signal?: AbortSignal;
  /** Overrides the pool's `acquireTimeoutMs` for this call. A number > 0, or `Infinity`. */
  readonly timeoutMs?: number;
  /**
   * This caller's priority: an integer from 0 (the highest, the default) to the pool's
   * `priorities - 1`. It is served before every waiter of a lower priority (a larger number).
   */
  readonly priority?: number;
}

/** @internal Options after validation, every default filled in. */
export interface ResolvedOptions<T> {
  readonly factory: () => T | Promise<T>;
  readonly releaser: ((resource: T) => void | Promise<void>) | undefined;
  readonly maxSize: number;
  readonly maxIdle: number;
  readonly minIdle: number;
  readonly min: number;
  readonly maxUses: number;
  readonly strategy: IdleStrategy;
  readonly recycleMs: number;
  readonly recycleJitter: number;
  readonly acquireTimeoutMs: number;
  readonly maxWaiters: number;
  readonly createConcurrency: number;
  readonly createRatePerSec: number;
  readonly createTimeoutMs: number;
  readonly createRetry: Required<CreateRetryOptions>;
  readonly onCreateError: CreateErrorPolicy;
  readonly priorities: number;
  readonly onUseError: UseErrorPolicy;
  readonly failFastAfter: number;
  readonly validate: ((resource: T) => boolean | Promise<boolean>) | undefined;
  readonly validateOnCreate: boolean;
  readonly validateTimeoutMs: number;
  readonly validateIdleAfterMs: number;
  readonly reset: ((resource: T) => void | Promise<void>) | undefined;
  readonly resetTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly destroyTimeoutMs: number;
  readonly leakDetectionMs: number;
  readonly name: string;
  readonly budget: Budget | undefined;
  readonly isOverCapacity: ((error: unknown) => boolean) | undefined;
  /** `maxIdle` was not given: it follows `maxSize` through `resize()`. */
  readonly maxIdleFollowsMaxSize: boolean;
  /** `createConcurrency` was not given: it follows `min(maxSize, 16)` through `resize()`. */
  readonly createConcurrencyFollowsMaxSize: boolean;
}

/**
 * @internal The limits `resize()` may change while the pool runs, one object shared by the pool
 * and its modules (which read them afresh each time).
 */
export interface Limits {
  maxSize: number;
  maxIdle: number;
  minIdle: number;
}

/** Defaults of {@link AsyncPoolOptions}, for documentation and tooling. */
export const defaults = Object.freeze({
  /** Default of {@link AsyncPoolOptions.maxSize}. */
  maxSize: 10,
  /** Default of {@link AsyncPoolOptions.minIdle}. */
  minIdle: 0,
  /** Default of {@link AsyncPoolOptions.min}. */
  min: 0,
  /** Default of {@link AsyncPoolOptions.maxUses}. */
  maxUses: Infinity,
  /** Default of {@link AsyncPoolOptions.validateOnCreate}. */
  validateOnCreate: false,
  /** Default of {@link AsyncPoolOptions.strategy}. */
  strategy: 'lifo' as IdleStrategy,
  /** Default of {@link AsyncPoolOptions.recycleMs}. */
  recycleMs: 3_600_000,
  /** Default of {@link AsyncPoolOptions.recycleJitter}. */
  recycleJitter: 0.1,
  /** Default of {@link AsyncPoolOptions.acquireTimeoutMs}. */
  acquireTimeoutMs: 30_000,
  /** Default of {@link AsyncPoolOptions.maxWaiters}. */
  maxWaiters: Infinity,
  /** {@link AsyncPoolOptions.createConcurrency} defaults to `min(maxSize, createConcurrencyCap)`. */
  createConcurrencyCap: 16,
  /** Default of {@link AsyncPoolOptions.createRatePerSec}. */
  createRatePerSec: Infinity,
  /** Default of {@link AsyncPoolOptions.createTimeoutMs}. */
  createTimeoutMs: 30_000,
  /** Default of {@link AsyncPoolOptions.createRetry}. */
  createRetry: Object.freeze({
    /** Default of {@link CreateRetryOptions.minDelayMs}. */
    minDelayMs: 100,
    /** Default of {@link CreateRetryOptions.maxDelayMs}. */
    maxDelayMs: 10_000,
  }),
  /** Default of {@link AsyncPoolOptions.onCreateError}. */
  onCreateError: 'reject' as CreateErrorPolicy,
  /** Default of {@link AsyncPoolOptions.priorities}. */
  priorities: 1,
  /** Default of {@link AsyncPoolOptions.onUseError}. */
  onUseError: 'release' as UseErrorPolicy,
  /** Default of {@link AsyncPoolOptions.failFastAfter}. */
  failFastAfter: Infinity,
  /** Default of {@link AsyncPoolOptions.validateTimeoutMs}. */
  validateTimeoutMs: 5_000,
  /** Default of {@link AsyncPoolOptions.validateIdleAfterMs}. */
  validateIdleAfterMs: 0,
  /** Default of {@link AsyncPoolOptions.resetTimeoutMs}. */
  resetTimeoutMs: 5_000,
  /** Default of {@link AsyncPoolOptions.idleTimeoutMs}. */
  idleTimeoutMs: Infinity,
  /** Default of {@link AsyncPoolOptions.destroyTimeoutMs}. */
  destroyTimeoutMs: 5_000,
  /** Default of {@link AsyncPoolOptions.leakDetectionMs}. */
  leakDetectionMs: Infinity,
  /** Default of {@link AsyncPoolOptions.name}. */
  name: 'pool',
});

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'factory', 'releaser', 'maxSize', 'maxIdle', 'minIdle', 'min', 'maxUses', 'strategy', 'recycleMs', 'recycleJitter',
  'acquireTimeoutMs', 'maxWaiters', 'createConcurrency', 'createRatePerSec', 'createTimeoutMs',
  'createRetry', 'onCreateError', 'priorities', 'onUseError', 'failFastAfter', 'validate', 'validateOnCreate', 'validateTimeoutMs', 'validateIdleAfterMs', 'reset',
  'resetTimeoutMs', 'idleTimeoutMs', 'destroyTimeoutMs', 'leakDetectionMs', 'name', 'budget', 'isOverCapacity',
]);

/** Renders a value for an error message: strings quoted, everything else as `String()` would. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol' || typeof value === 'bigint') return `${String(value)} (${typeof value})`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

/** What a checked value is, for the message: an option, or a named argument of a call. */
type Subject = 'option' | `${string} argument`;

function fail(Kind: typeof TypeError | typeof RangeError, name: string, expected: string, value: unknown, subject: Subject = 'option'): never {
  throw new Kind(`poolkeeper: ${subject} "${name}" must be ${expected}; got ${show(value)}`);
}

/** An integer at least `min`, or `Infinity` when `infinite` is allowed; never a numeric string. */
export function checkCount(name: string, value: unknown, min: number, infinite: boolean, subject: Subject = 'option'): number {
  const expected = `an integer >= ${min}${infinite ? ' or Infinity' : ''}`;
  if (typeof value !== 'number') fail(TypeError, name, expected, value, subject);
  if (value === Infinity && infinite) return value;
  if (!Number.isInteger(value) || value < min) fail(RangeError, name, expected, value, subject);
  return value;
}

/** A duration in milliseconds: > 0 (or ≥ 0 when `zeroOk`), or `Infinity` when allowed. */
export function checkDuration(name: string, value: unknown, zeroOk: boolean, infinite: boolean): number {
  const expected = `a number of milliseconds ${zeroOk ? '>= 0' : '> 0'}${infinite ? ' or Infinity' : ''}`;
  if (typeof value !== 'number') fail(TypeError, name, expected, value);
  if (Number.isNaN(value) || value < 0 || (value === 0 && !zeroOk)) fail(RangeError, name, expected, value);
  if (value === Infinity && !infinite) fail(RangeError, name, expected, value);
  return value;
}

/** Most priority levels: dequeuing skips empty levels, so their number bounds its cost. */
export const MAX_PRIORITIES = 1024;

function checkPriorities(value: unknown): number {
  const levels = checkCount('priorities', value, 1, false);
  if (levels > MAX_PRIORITIES) fail(RangeError, 'priorities', `an integer from 1 to ${MAX_PRIORITIES}`, value);
  return levels;
}

/** A function, or `undefined` when not `required`. */
export function checkFunction<F>(name: string, value: unknown, required: boolean): F | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'function') fail(TypeError, name, 'a function', value);
  return value as F;
}

/** @internal Checks that a pool's `options` is an object whose every key is in `known`. */
export function checkOptionKeys(options: unknown, known: ReadonlySet<string>): asserts options is object {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`poolkeeper: options must be an object with at least a factory; got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new TypeError(`poolkeeper: unknown option "${key}" (check its spelling); got ${show((options as Record<string, unknown>)[key])}`);
    }
  }
}

/** @internal Validates user options and fills in defaults. */
export function resolveOptions<T>(options: AsyncPoolOptions<T>): ResolvedOptions<T> {
  checkOptionKeys(options, KNOWN_KEYS);
  const o = options;
  const factory = checkFunction<() => T | Promise<T>>('factory', o.factory, true)!;
  const maxSize = o.maxSize === undefined ? defaults.maxSize : checkCount('maxSize', o.maxSize, 1, true);
  const maxIdle = o.maxIdle === undefined ? maxSize : checkCount('maxIdle', o.maxIdle, 0, true);
  if (maxIdle > maxSize) {
    throw new RangeError(`poolkeeper: option "maxIdle" must be <= maxSize (${maxSize}); got ${maxIdle}`);
  }
  const minIdle = o.minIdle === undefined ? defaults.minIdle : checkCount('minIdle', o.minIdle, 0, false);
  if (minIdle > maxSize) {
    throw new RangeError(`poolkeeper: option "minIdle" must be <= maxSize (${maxSize}); got ${minIdle}`);
  }
  if (minIdle > maxIdle) {
    throw new RangeError(`poolkeeper: option "minIdle" must be <= maxIdle (${maxIdle}); got ${minIdle}`);
  }
  const min = o.min === undefined ? defaults.min : checkCount('min', o.min, 0, false);
  if (min > maxSize) {
    throw new RangeError(`poolkeeper: option "min" must be <= maxSize (${maxSize}); got ${min}`);
  }
  const maxUses = o.maxUses === undefined ? defaults.maxUses : checkCount('maxUses', o.maxUses, 1, true);
  const validate = checkFunction<(resource: T) => boolean | Promise<boolean>>('validate', o.validate, false);
  const validateOnCreate = o.validateOnCreate ?? defaults.validateOnCreate;
  if (typeof validateOnCreate !== 'boolean') fail(TypeError, 'validateOnCreate', 'a boolean', validateOnCreate);
  if (validateOnCreate && validate === undefined) {
    throw new TypeError('poolkeeper: option "validateOnCreate" needs option "validate"; got validateOnCreate: true without it');
  }
  const strategy = o.strategy ?? defaults.strategy;
  if (strategy !== 'lifo' && strategy !== 'fifo') fail(TypeError, 'strategy', `"lifo" or "fifo"`, strategy);

  let recycleJitter: number = defaults.recycleJitter;
  if (o.recycleJitter !== undefined) {
    if (typeof o.recycleJitter !== 'number') fail(TypeError, 'recycleJitter', 'a number from 0 to 1', o.recycleJitter);
    if (!(o.recycleJitter >= 0 && o.recycleJitter <= 1)) {
      fail(RangeError, 'recycleJitter', 'a number from 0 to 1', o.recycleJitter);
    }
    recycleJitter = o.recycleJitter;
  }

  let createRatePerSec: number = defaults.createRatePerSec;
  if (o.createRatePerSec !== undefined) {
    if (typeof o.createRatePerSec !== 'number') fail(TypeError, 'createRatePerSec', 'a number > 0 or Infinity', o.createRatePerSec);
    if (!(o.createRatePerSec > 0)) fail(RangeError, 'createRatePerSec', 'a number > 0 or Infinity', o.createRatePerSec);
    createRatePerSec = o.createRatePerSec;
  }

  let createRetry: Required<CreateRetryOptions> = defaults.createRetry;
  if (o.createRetry !== undefined) {
    if (typeof o.createRetry !== 'object' || o.createRetry === null) {
      fail(TypeError, 'createRetry', 'an object { minDelayMs, maxDelayMs }', o.createRetry);
    }
    for (const key of Object.keys(o.createRetry)) {
      if (key !== 'minDelayMs' && key !== 'maxDelayMs') {
        throw new TypeError(`poolkeeper: unknown option "createRetry.${key}" (check its spelling); got ${show((o.createRetry as Record<string, unknown>)[key])}`);
      }
    }
    const minDelayMs = o.createRetry.minDelayMs === undefined
      ? defaults.createRetry.minDelayMs
      : checkDuration('createRetry.minDelayMs', o.createRetry.minDelayMs, false, false);
    const maxDelayMs = o.createRetry.maxDelayMs === undefined
      ? Math.max(minDelayMs, defaults.createRetry.maxDelayMs)
      : checkDuration('createRetry.maxDelayMs', o.createRetry.maxDelayMs, false, false);
    if (maxDelayMs < minDelayMs) {
      throw new RangeError(`poolkeeper: option "createRetry.maxDelayMs" must be >= createRetry.minDelayMs (${minDelayMs}); got ${maxDelayMs}`);
    }
    createRetry = Object.freeze({ minDelayMs, maxDelayMs });
  }

  const onCreateError = o.onCreateError ?? defaults.onCreateError;
  if (onCreateError !== 'reject' && onCreateError !== 'retry') fail(TypeError, 'onCreateError', `"reject" or "retry"`, onCreateError);
  const onUseError = o.onUseError ?? defaults.onUseError;
  if (onUseError !== 'release' && onUseError !== 'destroy') fail(TypeError, 'onUseError', `"release" or "destroy"`, onUseError);

  const name = o.name ?? defaults.name;
  if (typeof name !== 'string') fail(TypeError, 'name', 'a string', name);

  const budget = o.budget;
  if (budget !== undefined && (typeof budget !== 'object' || budget === null || typeof budget.acquire !== 'function')) {
    fail(TypeError, 'budget', 'an object with an acquire() method', budget);
  }

  const duration = (key: keyof AsyncPoolOptions<T>, fallback: number, zeroOk = false, infinite = true): number =>
    o[key] === undefined ? fallback : checkDuration(key, o[key], zeroOk, infinite);

  return Object.freeze({
    factory,
    releaser: checkFunction<(resource: T) => void | Promise<void>>('releaser', o.releaser, false),
    maxSize,
    maxIdle,
    minIdle,
    min,
    maxUses,
    strategy,
    recycleMs: duration('recycleMs', defaults.recycleMs),
    recycleJitter,
    acquireTimeoutMs: duration('acquireTimeoutMs', defaults.acquireTimeoutMs),
    maxWaiters: o.maxWaiters === undefined ? defaults.maxWaiters : checkCount('maxWaiters', o.maxWaiters, 0, true),
    createConcurrency: o.createConcurrency === undefined
      ? Math.min(maxSize, defaults.createConcurrencyCap)
      : checkCount('createConcurrency', o.createConcurrency, 1, true),
    createRatePerSec,
    createTimeoutMs: duration('createTimeoutMs', defaults.createTimeoutMs),
    createRetry,
    onCreateError,
    priorities: o.priorities === undefined ? defaults.priorities : checkPriorities(o.priorities),
    onUseError,
    failFastAfter: o.failFastAfter === undefined ? defaults.failFastAfter : checkCount('failFastAfter', o.failFastAfter, 1, true),
    validate,
    validateOnCreate,
    validateTimeoutMs: duration('validateTimeoutMs', defaults.validateTimeoutMs),
    validateIdleAfterMs: duration('validateIdleAfterMs', defaults.validateIdleAfterMs, true, false),
    reset: checkFunction<(resource: T) => void | Promise<void>>('reset', o.reset, false),
    resetTimeoutMs: duration('resetTimeoutMs', defaults.resetTimeoutMs),
    idleTimeoutMs: duration('idleTimeoutMs', defaults.idleTimeoutMs),
    destroyTimeoutMs: duration('destroyTimeoutMs', defaults.destroyTimeoutMs),
    leakDetectionMs: duration('leakDetectionMs', defaults.leakDetectionMs),
    name,
    budget,
    isOverCapacity: checkFunction<(error: unknown) => boolean>('isOverCapacity', o.isOverCapacity, false),
    maxIdleFollowsMaxSize: o.maxIdle === undefined,
    createConcurrencyFollowsMaxSize: o.createConcurrency === undefined,
  });
}

/** Checks `acquire()`'s options; `defaultTimeoutMs` is the pool's `acquireTimeoutMs`. @internal */
export function parseAcquireOptions(
  options: AcquireOptions,
  defaultTimeoutMs: number,
  priorities: number,
): { signal: AbortSignal | undefined; timeoutMs: number; priority: number } {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`poolkeeper: acquire() options must be an object; got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'signal' && key !== 'timeoutMs' && key !== 'priority') {
      throw new TypeError(`poolkeeper: unknown acquire() option "${key}" (expected signal, timeoutMs or priority)`);
    }
  }
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`poolkeeper: acquire() option "signal" must be an AbortSignal; got ${show(signal)}`);
  }
  const timeoutMs = options.timeoutMs === undefined
    ? defaultTimeoutMs
    : checkDuration('timeoutMs', options.timeoutMs, false, true);
  let priority = 0;
  if (options.priority !== undefined) {
    priority = checkCount('priority', options.priority, 0, false, 'acquire() argument');
    if (priority >= priorities) {
      throw new RangeError(`poolkeeper: acquire() option "priority" must be an integer from 0 to ${priorities - 1} (option "priorities" is ${priorities}); got ${priority}`);
    }
  }
  return { signal, timeoutMs, priority };
}
