/**
 * Every error the pool raises on purpose extends {@link PoolError} and carries a
 * stable `code`. Match on `code` (or `instanceof`), never on the message.
 *
 * @module
 */

/** The stable codes of the errors this package raises. */
export type PoolErrorCode =
  | 'ERR_ACQUIRE_TIMEOUT'
  | 'ERR_POOL_DISPOSED'
  | 'ERR_POOL_QUEUE_FULL'
  | 'ERR_NOT_BORROWED'
  | 'ERR_CREATE_TIMEOUT'
  | 'ERR_POOL_UNAVAILABLE'
  | 'ERR_DESTROY_TIMEOUT'
  | 'ERR_VALIDATE_TIMEOUT'
  | 'ERR_RESET_TIMEOUT'
  | 'ERR_BUDGET_UNAVAILABLE';

/** Counts attached to errors raised while callers wait, so a log line says how busy the pool was. */
export interface PoolCounts {
  /** Live resources: idle + borrowed + being created. */
  readonly size: number;
  /** Idle resources ready to hand out. */
  readonly idle: number;
  /** Resources held by callers, being validated for one, or being reset. */
  readonly borrowed: number;
  /** `factory` calls in flight (queued ones included). */
  readonly creating: number;
  /** Callers whose `acquire()` had not settled. */
  readonly pending: number;
  /** The pool's `maxSize` option. */
  readonly maxSize: number;
}

// Brands shared by every copy of this package loaded in one process (the ESM and the CommonJS
// build, or two versions side by side), so that `instanceof` holds across copies: each class
// tests for its own `Symbol.for` key instead of its prototype, as undici's errors do.
/**
 * Marks `cls` and its instances with the shared key `poolkeeper.<name>` and makes
 * `value instanceof cls` test for that key. A subclass declared outside this package inherits
 * this method but not the key, so it keeps the ordinary prototype test. Subpath modules brand
 * their own error classes with it.
 *
 * @internal
 */
export function brand(cls: Function, name: string): void {
  const key = Symbol.for(`poolkeeper.${name}`);
  Object.defineProperty(cls.prototype, key, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: Function, value: unknown): boolean {
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, value);
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[key] === true;
    },
  });
}

/** Base class of every error this package raises on purpose. */
export class PoolError extends Error {
  /** Stable identifier of the error kind; safe to match on. */
  readonly code: PoolErrorCode;

  static {
    brand(this, 'PoolError');
  }

  constructor(code: PoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

function describeCounts(counts: PoolCounts): string {
  return (
    `${counts.borrowed} borrowed, ${counts.idle} idle, ${counts.creating} being created, ` +
    `${counts.pending} pending, maxSize ${counts.maxSize}`
  );
}

/** `acquire()` waited longer than its timeout. `cause` is the last factory error, if creation was failing. */
export class AcquireTimeoutError extends PoolError {
  static {
    brand(this, 'AcquireTimeoutError');
  }

  /** The pool's counts when the wait timed out. */
  readonly counts: PoolCounts;
  /** How long the caller was allowed to wait, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, counts: PoolCounts, cause?: unknown) {
    const hint =
      cause === undefined
        ? 'Release resources sooner, raise maxSize, or raise acquireTimeoutMs.'
        : 'Creating a resource is failing; see `cause`.';
    super(
      'ERR_ACQUIRE_TIMEOUT',
      `acquire() timed out after ${timeoutMs} ms (${describeCounts(counts)}). ${hint}`,
      cause === undefined ? undefined : { cause },
    );
    this.counts = counts;
    this.timeoutMs = timeoutMs;
  }
}

/** The pool was disposed: it hands out nothing more. */
export class PoolDisposedError extends PoolError {
  static {
    brand(this, 'PoolDisposedError');
  }

  /** @param operation - What was refused, e.g. `'acquire()'`. @param message - Replaces the default message. */
  constructor(operation: string, message?: string) {
    super(
      'ERR_POOL_DISPOSED',
      message ?? `${operation} was called on a pool that is disposed. Create a new pool, or stop using this one before dispose().`,
    );
  }
}

/** `acquire()` found `maxWaiters` callers already waiting. */
export class PoolQueueFullError extends PoolError {
  static {
    brand(this, 'PoolQueueFullError');
  }

  /** The pool's counts when the call was rejected. */
  readonly counts: PoolCounts;

  constructor(maxWaiters: number, counts: PoolCounts) {
    super(
      'ERR_POOL_QUEUE_FULL',
      `acquire() rejected: ${maxWaiters} callers are already waiting (maxWaiters) (${describeCounts(counts)}). ` +
        'Shed load upstream, raise maxWaiters, or raise maxSize.',
    );
    this.counts = counts;
  }
}

/** `release()`/`destroy()` was given something that is not currently borrowed from this pool. */
export class NotBorrowedError extends PoolError {
  static {
    brand(this, 'NotBorrowedError');
  }

  /**
   * @param reason - `'released'`: it was borrowed once and given back; `'foreign'`: this pool does not
   * know it (never acquired from it, or already destroyed); `'unknown'`: the pool cannot tell which.
   */
  constructor(operation: string, reason: 'released' | 'foreign' | 'unknown') {
    const why = {
      released: 'this resource is not borrowed (it was already released). Release each resource exactly once.',
      foreign: 'this value is not borrowed from this pool (never acquired from it, or already destroyed). Pass the exact value acquire() returned, once.',
      unknown: 'this value is not borrowed from this pool (already released, or never acquired from it). Release each value acquire() returned exactly once.',
    }[reason];
    super('ERR_NOT_BORROWED', `${operation}: ${why}`);
  }
}

/** A `factory` call took longer than `createTimeoutMs`. A resource that still arrives later is closed. */
export class CreateTimeoutError extends PoolError {
  static {
    brand(this, 'CreateTimeoutError');
  }

  /** The `createTimeoutMs` option, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(
      'ERR_CREATE_TIMEOUT',
      `factory() did not settle within ${timeoutMs} ms (createTimeoutMs). Check that the backend is reachable, or raise createTimeoutMs.`,
    );
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The factory failed `failFastAfter` times in a row: the pool rejects waiters at once instead of
 * letting each time out, until a creation succeeds. `cause` is the last factory error.
 */
export class PoolUnavailableError extends PoolError {
  static {
    brand(this, 'PoolUnavailableError');
  }

  /** Consecutive `factory` failures when this error was raised. */
  readonly consecutiveFailures: number;

  constructor(consecutiveFailures: number, cause: unknown) {
    super(
      'ERR_POOL_UNAVAILABLE',
      `No resource available: factory() failed ${consecutiveFailures} times in a row (failFastAfter), so the pool ` +
        'fails fast until one creation succeeds. See `cause` for the last factory error.',
      { cause },
    );
    this.consecutiveFailures = consecutiveFailures;
  }
}

/** A `releaser` call took longer than `destroyTimeoutMs`; it was abandoned. Reported through the `error` event. */
export class DestroyTimeoutError extends PoolError {
  static {
    brand(this, 'DestroyTimeoutError');
  }

  /** The `destroyTimeoutMs` option, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(
      'ERR_DESTROY_TIMEOUT',
      `releaser() did not settle within ${timeoutMs} ms (destroyTimeoutMs); the resource was abandoned. ` +
        'Make the releaser time-bound, or raise destroyTimeoutMs.',
    );
    this.timeoutMs = timeoutMs;
  }
}

/** A `validate` call took longer than `validateTimeoutMs`; the resource counts as invalid and is closed. */
export class ValidateTimeoutError extends PoolError {
  static {
    brand(this, 'ValidateTimeoutError');
  }

  /** The `validateTimeoutMs` option, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(
      'ERR_VALIDATE_TIMEOUT',
      `validate() did not settle within ${timeoutMs} ms (validateTimeoutMs); the resource was closed as invalid.`,
    );
    this.timeoutMs = timeoutMs;
  }
}

/** A `reset` call took longer than `resetTimeoutMs`; the resource was closed instead of reused. Reported through the `error` event. */
export class ResetTimeoutError extends PoolError {
  static {
    brand(this, 'ResetTimeoutError');
  }

  /** The `resetTimeoutMs` option, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(
      'ERR_RESET_TIMEOUT',
      `reset() did not settle within ${timeoutMs} ms (resetTimeoutMs); the resource was closed instead of reused.`,
    );
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The pool's `budget` could not grant a permit (for example, its Redis was unreachable). Only
 * acquires that needed a new resource fail with it; idle resources are still handed out. `cause`
 * is the budget's own error.
 */
export class BudgetUnavailableError extends PoolError {
  static {
    brand(this, 'BudgetUnavailableError');
  }

  /** @param cause - The budget's own error. @param message - Replaces the default message. */
  constructor(cause: unknown, message?: string) {
    super(
      'ERR_BUDGET_UNAVAILABLE',
      message ?? 'No permit to create a resource: the budget shared with other processes could not be reached. ' +
        'Idle resources are still served; see `cause`.',
      { cause },
    );
  }
}

/**
 * Node's convention for cancelled operations: `name === 'AbortError'`, `code === 'ABORT_ERR'`,
 * and `cause` is the signal's reason.
 */
export class AbortError extends Error {
  static {
    brand(this, 'AbortError');
  }

  /** Always `'ABORT_ERR'`, as for Node's own aborted operations. */
  readonly code = 'ABORT_ERR' as const;

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}
