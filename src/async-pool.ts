/**
 * `AsyncPool<T>`: a bounded pool of asynchronously created resources, with waiters served in
 * arrival order.
 *
 * How to read this file: every change of state (a release, a destroy, a creation that finishes, a
 * timer) ends in {@link AsyncPool.#dispatch}, the one place that decides what happens next: idle
 * resources go to the oldest waiters, and creations start for waiters that no creation in flight
 * will serve. Time-based rules (lifetime, idle timeout, leak detection, create retry) are driven
 * by one maintenance timer set for the next deadline, so the hot path never reads the clock with
 * the default options.
 *
 * @module
 */
import PQueue from 'p-queue';
import { Deque } from './deque.js';
import {
  AbortError,
  AcquireTimeoutError,
  CreateTimeoutError,
  DestroyTimeoutError,
  NotBorrowedError,
  PoolDisposedError,
  PoolQueueFullError,
  PoolUnavailableError,
  ResetTimeoutError,
  ValidateTimeoutError,
  type PoolCounts,
} from './errors.js';
import { Emitter, type DestroyReason, type PoolEvents, type PoolListener, type PoolOperation } from './events.js';
import { Lease } from './lease.js';
import { checkCount, checkDuration, resolveOptions, show, type AcquireOptions, type AsyncPoolOptions, type ResolvedOptions } from './options.js';
import { ResourceRecord } from './resource.js';
import { StatsRecorder, type PoolStats } from './stats.js';
import { DeadlineTimer } from './timer.js';
import { acquireChannel, createChannel, type TraceContext } from './tracing.js';
import { Waiter, type WaiterOwner } from './waiter.js';
import { WaiterQueue } from './waiter-queue.js';

/** Options of {@link AsyncPool.dispose}. */
export interface DisposeOptions {
  /**
   * How long to wait for borrowed resources to come back (and creations in flight to finish)
   * before closing them anyway. A number > 0, or `Infinity`.
   * @defaultValue Infinity
   */
  readonly timeoutMs?: number;
}

type CreateKind = 'acquire' | 'prefill' | 'background';

const EVENT_NAMES = ['create', 'destroy', 'acquire', 'release', 'error', 'leak'] as const;

// Clock for deadlines and statistics. Read through the global at call time so that fake timers
// (which replace `performance`) drive it in tests.
function now(): number {
  return performance.now();
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function';
}

function abortErrorOf(signal: AbortSignal): AbortError {
  return new AbortError('acquire() was aborted by its signal', { cause: signal.reason });
}

/**
 * Runs `fn` and settles with its outcome, or with `onTimeout()` after `timeoutMs`. Never throws
 * synchronously; the returned promise rejects with whatever `fn` threw or rejected with.
 */
function callWithTimeout<R>(fn: () => R | PromiseLike<R>, timeoutMs: number, onTimeout: () => Error): Promise<R> {
  let result: R | PromiseLike<R>;
  try {
    result = fn();
  } catch (error) {
    return Promise.reject(error);
  }
  if (!isThenable(result)) return Promise.resolve(result);
  if (timeoutMs === Infinity) return Promise.resolve(result);
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    timer.unref?.();
    result.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * A bounded pool of resources that are expensive to create: connections, sockets, workers.
 *
 * @example
 * ```ts
 * const pool = new AsyncPool({
 *   factory: () => connect(),
 *   releaser: (conn) => conn.close(),
 *   maxSize: 10,
 * });
 * await pool.prefill();
 * const rows = await pool.use((conn) => conn.query('SELECT 1'));
 * await pool.dispose();
 * ```
 */
export class AsyncPool<T> implements AsyncDisposable {
  readonly #o: ResolvedOptions<T>;
  // Copies of hot options, read on every acquire/release.
  readonly #lifo: boolean;
  readonly #maxSize: number;
  readonly #maxIdle: number;
  readonly #acquireTimeoutMs: number;
  readonly #validate: ((resource: T) => boolean | Promise<boolean>) | undefined;
  readonly #reset: ((resource: T) => void | Promise<void>) | undefined;
  /** True when an option needs `idleSince` (idle timeout, validation window). */
  readonly #trackIdleTime: boolean;
  readonly #trackLeaks: boolean;

  /** Every live resource that exists (idle or out), by resource: O(1) release and double-release detection. */
  readonly #records = new Map<T, ResourceRecord<T>>();
  /** Idle resources, oldest-idle at the front: LIFO pops the back, FIFO the front. */
  readonly #idle = new Deque<ResourceRecord<T>>();
  /** Callers waiting for a resource, in arrival order. */
  readonly #waiters = new WaiterQueue<T>();
  /**
   * Waiters using the pool's `acquireTimeoutMs`: their deadlines ascend in arrival order, so one
   * timer set for the oldest covers them all (O(1) timers however many wait).
   */
  readonly #deadlines = new WaiterQueue<T>();
  /** Waiters whose resource is being validated. */
  readonly #serving = new Set<Waiter<T>>();
  readonly #waitTimer = new DeadlineTimer(() => this.#expireWaiters());
  readonly #maintenanceTimer = new DeadlineTimer(() => this.#maintain());
  readonly #createQueue: PQueue;
  readonly #closeQueue = new PQueue();
  /** Creations waiting in the create queue, not started yet. */
  readonly #queuedCreates = new Set<{ cancel(): void }>();
  readonly #events = new Emitter<PoolEvents<T>>(EVENT_NAMES);
  readonly #stats = new StatsRecorder();
  /** What waiters call back into; kept off the public surface. */
  readonly #owner: WaiterOwner<T> = {
    onWaiterAbort: (waiter) => {
      if (!this.#settle(waiter)) return;
      this.#stats.aborted++;
      waiter.reject(abortErrorOf(waiter.signal!));
    },
    onWaiterTimeout: (waiter) => this.#timeOut(waiter),
  };

  /** Resources out of the idle store: borrowed, being validated, being reset. */
  #borrowed = 0;
  /** Factory calls in flight, queued ones included; each holds a slot. */
  #creating = 0;
  /**
   * Of `#creating`: those no waiter asked for (prefill, keep-warm refills, fail-fast probes), which
   * will end up idle; refills count them so prefill() and a refill never both fill the same gap.
   */
  #creatingInBackground = 0;
  #pending = 0;
  /** Bumped by `clear()`: a creation started before it is closed when it arrives. */
  #generation = 0;
  #consecutiveFailures = 0;
  #lastCreateError: unknown = undefined;
  #failingFast = false;
  /** Background creation is backing off until `#retryAt`. */
  #retryPending = false;
  #retryAt = 0;
  #retryAttempt = 0;

  #disposing = false;
  #disposePromise: Promise<void> | undefined = undefined;
  #onDrained: (() => void) | undefined = undefined;
  /** Resources that `dispose()` closed while borrowed: releasing them later is a no-op. */
  #forceClosed: Set<T> | undefined = undefined;

  /**
   * @throws TypeError or RangeError naming the option, when an option is invalid.
   */
  constructor(options: AsyncPoolOptions<T>) {
    const o = resolveOptions(options);
    this.#o = o;
    this.#lifo = o.strategy === 'lifo';
    this.#maxSize = o.maxSize;
    this.#maxIdle = o.maxIdle;
    this.#acquireTimeoutMs = o.acquireTimeoutMs;
    this.#validate = o.validate;
    this.#reset = o.reset;
    this.#trackIdleTime = o.idleTimeoutMs !== Infinity || (o.validate !== undefined && o.validateIdleAfterMs > 0);
    this.#trackLeaks = o.leakDetectionMs !== Infinity;
    const rate = o.createRatePerSec;
    // p-queue bounds creation: `concurrency` factory calls at once, and with a rate, `intervalCap`
    // starts per `interval` on a sliding window (strict), so a failover cannot start a burst.
    const intervalCap = rate === Infinity ? Infinity : Math.max(1, Math.round(rate));
    this.#createQueue = new PQueue({
      concurrency: o.createConcurrency,
      ...(rate === Infinity ? {} : { intervalCap, interval: Math.round((intervalCap / rate) * 1000), strict: true }),
    });
  }

  // ───────────────────────────── counts ─────────────────────────────

  /** Live resources: idle + borrowed + being created. Never above `maxSize`. */
  get size(): number {
    return this.#idle.length + this.#borrowed + this.#creating;
  }

  /** Idle resources ready to hand out. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Resources out of the idle store: held by callers, being validated for one, or being reset. */
  get borrowed(): number {
    return this.#borrowed;
  }

  /** Factory calls in flight. */
  get creating(): number {
    return this.#creating;
  }

  /** Callers whose `acquire()` has not settled yet. */
  get pending(): number {
    return this.#pending;
  }

  /** The `maxSize` option. */
  get maxSize(): number {
    return this.#maxSize;
  }

  /** True from the moment `dispose()` is called. */
  get disposed(): boolean {
    return this.#disposing;
  }

  /** An immutable snapshot of gauges, counters and the wait-time distribution. */
  stats(): PoolStats {
    return this.#stats.snapshot({
      name: this.#o.name,
      size: this.size,
      idle: this.idle,
      borrowed: this.#borrowed,
      pending: this.#pending,
      creating: this.#creating,
      maxSize: this.#maxSize,
    });
  }

  // ───────────────────────────── events ─────────────────────────────

  /** Adds a listener. Events are typed: see {@link PoolEvents}. */
  on<K extends keyof PoolEvents<T>>(event: K, listener: PoolListener<T, K>): this {
    this.#events.on(event, listener);
    return this;
  }

  /** Removes a listener added with {@link AsyncPool.on}. */
  off<K extends keyof PoolEvents<T>>(event: K, listener: PoolListener<T, K>): this {
    this.#events.off(event, listener);
    return this;
  }

  // ───────────────────────────── acquire ─────────────────────────────

  /**
   * Resolves with a resource: an idle one (by `strategy`) if there is one, else a new one if the
   * pool is under `maxSize`, else the next one released. Callers are served strictly in arrival
   * order: a newcomer never overtakes a waiter.
   *
   * Rejects with `AcquireTimeoutError` after `timeoutMs` (default `acquireTimeoutMs`), with an
   * `AbortError` (`cause`: the signal's reason) when `signal` aborts, with `PoolQueueFullError`,
   * `PoolUnavailableError`, `PoolDisposedError`, or the factory's error when the creation it
   * needed failed.
   */
  acquire(options?: AcquireOptions): Promise<T> {
    if (acquireChannel.hasSubscribers) {
      const context: TraceContext = { pool: this.#o.name };
      return acquireChannel.tracePromise(this.#acquire, context, this, options);
    }
    return this.#acquire(options);
  }

  #acquire(options: AcquireOptions | undefined): Promise<T> {
    let signal: AbortSignal | undefined;
    let timeoutMs = this.#acquireTimeoutMs;
    if (options !== undefined) {
      try {
        ({ signal, timeoutMs } = this.#parseAcquireOptions(options));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (this.#disposing) return Promise.reject(new PoolDisposedError('acquire()'));
    if (signal?.aborted) {
      this.#stats.aborted++;
      return Promise.reject(abortErrorOf(signal));
    }
    // Hot path: nobody queued, an idle resource, nothing to check. No clock read, no allocation
    // but the resolved promise.
    if (this.#waiters.length === 0 && this.#validate === undefined && this.#idle.length !== 0) {
      const record = this.#lifo ? this.#idle.pop()! : this.#idle.shift()!;
      this.#borrowed++;
      this.#stats.acquiredImmediately++;
      this.#stats.waits.record(0);
      const resource = this.#checkout(record, 0, undefined);
      if (this.#idle.length < this.#o.minIdle) this.#refill(); // keep minIdle ready: top up in the background
      return Promise.resolve(resource);
    }
    return this.#enqueue(signal, timeoutMs);
  }

  #parseAcquireOptions(options: AcquireOptions): { signal: AbortSignal | undefined; timeoutMs: number } {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`poolkeeper: acquire() options must be an object; got ${show(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'signal' && key !== 'timeoutMs') {
        throw new TypeError(`poolkeeper: unknown acquire() option "${key}" (expected signal or timeoutMs)`);
      }
    }
    const { signal } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`poolkeeper: acquire() option "signal" must be an AbortSignal; got ${show(signal)}`);
    }
    const timeoutMs = options.timeoutMs === undefined
      ? this.#acquireTimeoutMs
      : checkDuration('timeoutMs', options.timeoutMs, false, true);
    return { signal, timeoutMs };
  }

  #enqueue(signal: AbortSignal | undefined, timeoutMs: number): Promise<T> {
    // maxWaiters first: with the default (Infinity) that one comparison settles it, and the
    // waiter path does not compute `size` for nothing.
    if (this.#waiters.length - this.#creating >= this.#o.maxWaiters &&
        this.#idle.length === 0 && this.size >= this.#maxSize) {
      this.#stats.rejectedQueueFull++;
      return Promise.reject(new PoolQueueFullError(this.#o.maxWaiters, this.#counts()));
    }
    if (this.#failingFast && this.#idle.length === 0) {
      this.#stats.rejectedUnavailable++;
      return Promise.reject(new PoolUnavailableError(this.#consecutiveFailures, this.#lastCreateError));
    }
    const t = now();
    const deadline = t + timeoutMs; // Infinity when there is no timeout
    const waiter = new Waiter<T>(this.#owner, t, timeoutMs, signal);
    if (this.#trackLeaks) waiter.acquireStack = new Error('acquired here');
    this.#pending++;
    this.#waiters.push(waiter);
    if (deadline !== Infinity) {
      if (timeoutMs === this.#acquireTimeoutMs) {
        waiter.sharedDeadline = true;
        this.#deadlines.push(waiter);
        this.#waitTimer.schedule(deadline, t);
      } else {
        waiter.armTimer(timeoutMs);
      }
    }
    // With nothing idle and no room to create, dispatch has nothing to do (and a pool failing
    // fast with nothing idle rejected above): on a busy pool, skipping it saves a call on every
    // queued acquire (with the two edits nearby, ~10 % of scenario 2 in bench/).
    if (this.#idle.length !== 0 || this.size < this.#maxSize) this.#dispatch();
    return waiter.promise;
  }

  /**
   * Acquires a resource, runs `fn` with it and releases it, also when `fn` throws (the error is
   * rethrown). If `fn` already released or destroyed the resource, nothing more is done.
   */
  async use<R>(fn: (resource: T) => R | Promise<R>, options?: AcquireOptions): Promise<R> {
    // Checked before acquiring: a caller should not wait for a resource only to fail with it.
    if (typeof fn !== 'function') throw new TypeError(`poolkeeper: use() argument "fn" must be a function; got ${show(fn)}`);
    const resource = await this.acquire(options);
    const uses = this.#records.get(resource)?.uses;
    try {
      return await fn(resource);
    } finally {
      // Only this borrow: if fn released the resource and it went to another caller, it is theirs.
      if (this.#lentAs(resource, uses)) this.release(resource);
    }
  }

  /**
   * Acquires a resource wrapped in a {@link Lease}, which releases it when disposed:
   * `await using lease = await pool.borrow()`.
   */
  async borrow(options?: AcquireOptions): Promise<Lease<T>> {
    const resource = await this.acquire(options);
    const uses = this.#records.get(resource)?.uses;
    // The lease acts on this borrow only: a resource given back directly and lent again belongs
    // to its new holder (disposing the lease leaves it alone; release()/destroy() throw).
    const lentAgain = (r: T): boolean => this.isBorrowed(r) && !this.#lentAs(r, uses);
    return new Lease(resource, {
      release: (r) => {
        if (lentAgain(r)) throw new NotBorrowedError('release()', 'released');
        this.release(r);
      },
      destroy: (r) => (lentAgain(r) ? Promise.reject(new NotBorrowedError('destroy()', 'released')) : this.destroy(r)),
      isBorrowed: (r) => this.#lentAs(r, uses),
    });
  }

  /** True while `resource` is still out on the borrow during which its use count was `uses`. */
  #lentAs(resource: T, uses: number | undefined): boolean {
    const record = this.#records.get(resource);
    return record !== undefined && record.state === 'borrowed' && record.uses === uses;
  }

  // ───────────────────────────── release / destroy ─────────────────────────────

  /**
   * Gives a borrowed resource back. With a waiter queued, it goes straight to the oldest one.
   *
   * @throws NotBorrowedError if `resource` is not currently borrowed from this pool (released
   * twice, destroyed, or never acquired from it).
   */
  release(resource: T): void {
    const record = this.#records.get(resource);
    if (record === undefined || record.state !== 'borrowed') {
      this.#notBorrowed('release()', resource, record);
      return;
    }
    this.#stats.released++;
    if (this.#events.listeners.release !== undefined) this.#events.emit('release', { resource });
    if (this.#reset !== undefined && !this.#disposing) { // while disposing it is closed anyway
      this.#resetThenReturn(record);
      return;
    }
    this.#return(record, this.#o.validateIdleAfterMs === 0);
  }

  /**
   * Closes a borrowed resource that is broken, freeing its slot so a waiter can get a fresh one.
   * Resolves once the releaser has finished (its failure is reported through the `error` event).
   * Rejects with `NotBorrowedError` if `resource` is not currently borrowed from this pool.
   */
  destroy(resource: T): Promise<void> {
    const record = this.#records.get(resource);
    if (record === undefined || record.state !== 'borrowed') {
      try {
        this.#notBorrowed('destroy()', resource, record);
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.resolve();
    }
    this.#borrowed--;
    const closed = this.#close(record, 'destroyed');
    this.#slotFreed();
    return closed;
  }

  #notBorrowed(operation: string, resource: T, record: ResourceRecord<T> | undefined): void {
    if (this.#forceClosed?.delete(resource)) return; // dispose() already closed it
    throw new NotBorrowedError(operation, record === undefined ? 'foreign' : 'released');
  }

  /** True while `resource` is borrowed from this pool (acquired, not yet released or destroyed). */
  isBorrowed(resource: T): boolean {
    return this.#records.get(resource)?.state === 'borrowed';
  }

  // ───────────────────────────── prefill / clear / dispose ─────────────────────────────

  /**
   * Creates resources until `count` are live (idle + borrowed + being created), at most
   * `createConcurrency` at once. Resolves when all are created; rejects with the first factory
   * error if any creation fails (those created stay in the pool).
   *
   * @param count - An integer from 0 to `maxIdle`. Defaults to `maxIdle` (`minIdle` when `maxIdle` is `Infinity`).
   */
  async prefill(count?: number): Promise<void> {
    const limit = this.#maxIdle;
    const target = count === undefined ? (limit === Infinity ? this.#o.minIdle : limit) : checkCount('count', count, 0, false, 'prefill() argument');
    if (target > limit) {
      throw new RangeError(`poolkeeper: prefill() argument "count" must be <= maxIdle (${limit}), since resources beyond it would be closed at once; got ${target}`);
    }
    if (this.#disposing) throw new PoolDisposedError('prefill()');
    const jobs: Promise<unknown>[] = [];
    for (let live = this.size; live < target; live++) jobs.push(this.#create('prefill'));
    const outcomes = await Promise.all(jobs);
    for (const outcome of outcomes) if (outcome !== undefined) throw outcome;
  }

  /**
   * Retires every resource that exists now: idle ones are closed at once, borrowed ones when they
   * come back, creations in flight when they arrive. Later acquires get fresh resources.
   * For "the database failed over: reconnect everything".
   */
  clear(): void {
    if (this.#disposing) return;
    this.#generation++;
    for (const record of this.#records.values()) {
      if (record.state !== 'idle' && record.retired === undefined) record.retired = 'cleared';
    }
    for (const record of this.#idle.drain()) this.#close(record, 'cleared');
    this.#slotFreed();
  }

  /**
   * Shuts the pool down: new acquires reject with `PoolDisposedError`, so do current waiters; idle
   * resources are closed now, borrowed ones as they come back. Resolves once every resource has
   * been closed and every releaser has finished (each bounded by `destroyTimeoutMs`); after
   * `timeoutMs`, closes the borrowed ones anyway. Idempotent: later calls return the same promise.
   */
  dispose(options?: DisposeOptions): Promise<void> {
    if (this.#disposePromise !== undefined) return this.#disposePromise;
    let timeoutMs = Infinity;
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null) {
        return Promise.reject(new TypeError(`poolkeeper: dispose() options must be an object; got ${show(options)}`));
      }
      for (const key of Object.keys(options)) {
        if (key !== 'timeoutMs') {
          return Promise.reject(new TypeError(`poolkeeper: unknown dispose() option "${key}" (expected timeoutMs)`));
        }
      }
      if (options.timeoutMs !== undefined) {
        try {
          timeoutMs = checkDuration('timeoutMs', options.timeoutMs, false, true);
        } catch (error) {
          return Promise.reject(error);
        }
      }
    }
    this.#disposing = true;
    // Creations still queued (not started) are dropped: their factory never runs. Those running
    // finish, and what they create is closed on arrival.
    this.#createQueue.clear();
    for (const queued of this.#queuedCreates) queued.cancel();
    this.#queuedCreates.clear();
    this.#waitTimer.cancel();
    this.#maintenanceTimer.cancel();
    const waiting = [...this.#waiters.drain(), ...this.#serving];
    for (const waiter of waiting) {
      waiter.state = 'serving'; // out of the queue already: settling must not uncount it again
      if (this.#settle(waiter)) waiter.reject(new PoolDisposedError('acquire()'));
    }
    this.#deadlines.drain();
    for (const record of this.#idle.drain()) this.#close(record, 'disposed');
    this.#disposePromise = this.#drain(timeoutMs);
    return this.#disposePromise;
  }

  /** `await using pool = new AsyncPool(…)` disposes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  async #drain(timeoutMs: number): Promise<void> {
    if (this.#borrowed > 0 || this.#creating > 0) {
      await new Promise<void>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        this.#onDrained = () => {
          if (timer !== undefined) clearTimeout(timer);
          resolve();
        };
        if (timeoutMs !== Infinity) {
          timer = setTimeout(() => this.#forceClose(), timeoutMs);
          timer.unref?.();
        }
      });
    }
    await this.#closeQueue.onIdle();
  }

  /** dispose() timed out: close what is still out, and stop waiting for creations in flight. */
  #forceClose(): void {
    this.#forceClosed = new Set();
    for (const record of [...this.#records.values()]) {
      if (record.state === 'idle' || record.state === 'closed') continue;
      // Only a holder may still release it; one being validated or reset has none.
      if (record.state === 'borrowed') this.#forceClosed.add(record.resource);
      this.#borrowed--;
      this.#close(record, 'disposed');
    }
    const done = this.#onDrained;
    this.#onDrained = undefined;
    done?.();
  }

  #checkDrained(): void {
    if (this.#onDrained !== undefined && this.#borrowed === 0 && this.#creating === 0) {
      const done = this.#onDrained;
      this.#onDrained = undefined;
      done();
    }
  }

  // ───────────────────────────── the dispatch point ─────────────────────────────

  /**
   * Decides what happens next after any change of state: idle resources go to the oldest
   * waiters; creations start for waiters that no creation in flight will serve (within
   * `maxSize`); keep-warm refills top the idle store up to `minIdle`.
   */
  #dispatch(): void {
    if (this.#disposing) return;
    while (this.#waiters.length !== 0 && this.#idle.length !== 0) {
      const record = this.#lifo ? this.#idle.pop()! : this.#idle.shift()!;
      this.#borrowed++;
      const waiter = this.#waiters.shift()!;
      waiter.state = 'serving';
      this.#serve(record, waiter, this.#validate !== undefined && this.#idleLongEnoughToValidate(record));
    }
    if (!this.#failingFast) {
      while (this.#waiters.length > this.#creating && this.size < this.#maxSize) void this.#create('acquire');
    }
    if (this.#o.minIdle !== 0) this.#refill();
  }

  /** A slot was freed (a resource closed): waiters may need a creation, a dispose may be done. */
  #slotFreed(): void {
    this.#dispatch();
    this.#checkDrained();
  }

  /** Hands `record` (counted in `#borrowed`) to `waiter`, validating it first when asked. */
  #serve(record: ResourceRecord<T>, waiter: Waiter<T>, validate: boolean): void {
    if (validate) this.#validateFor(record, waiter);
    else this.#handOver(record, waiter);
  }

  #handOver(record: ResourceRecord<T>, waiter: Waiter<T>): void {
    this.#settle(waiter);
    const waited = now() - waiter.enqueuedAt;
    this.#stats.acquiredAfterWait++;
    this.#stats.waits.record(waited);
    waiter.resolve(this.#checkout(record, waited, waiter.acquireStack));
  }

  /** Marks `record` (already counted in `#borrowed`) as held by a caller. */
  #checkout(record: ResourceRecord<T>, waitedMs: number, stack: Error | undefined): T {
    record.state = 'borrowed';
    record.uses++;
    if (this.#trackLeaks) {
      const t = now();
      record.borrowedAt = t;
      record.leakReported = false;
      record.acquireStack = stack ?? new Error('acquired here');
      this.#maintenanceTimer.schedule(t + this.#o.leakDetectionMs, t);
    }
    const resource = record.resource;
    if (this.#events.listeners.acquire !== undefined) this.#events.emit('acquire', { resource, waitedMs });
    return resource;
  }

  /**
   * A resource came back from a caller (after `reset`, if any) or from validation for a caller
   * that left: retire it, hand it to the oldest waiter, keep it idle, or close the overflow.
   */
  #return(record: ResourceRecord<T>, validateForWaiter: boolean): void {
    if (this.#disposing) {
      this.#borrowed--;
      this.#close(record, 'disposed');
      this.#checkDrained();
      return;
    }
    if (record.retired !== undefined) {
      this.#borrowed--;
      this.#close(record, record.retired);
      this.#slotFreed();
      return;
    }
    const waiter = this.#waiters.length === 0 ? undefined : this.#waiters.shift(); // no queue walk when nobody waits
    if (waiter !== undefined) {
      waiter.state = 'serving';
      this.#serve(record, waiter, validateForWaiter && this.#validate !== undefined);
      return;
    }
    this.#borrowed--;
    if (this.#idle.length >= this.#maxIdle) {
      this.#close(record, 'overflow');
      if (this.#o.minIdle !== 0) this.#refill();
      return;
    }
    this.#makeIdle(record);
  }

  #makeIdle(record: ResourceRecord<T>): void {
    record.state = 'idle';
    if (this.#trackIdleTime) {
      const t = now();
      record.idleSince = t;
      this.#maintenanceTimer.schedule(t + this.#o.idleTimeoutMs, t);
    }
    this.#idle.push(record);
  }

  // ───────────────────────────── waiters ─────────────────────────────

  /**
   * Bookkeeping for a waiter leaving, however it leaves. Returns false if it already had.
   * The caller then resolves or rejects its promise.
   */
  #settle(waiter: Waiter<T>): boolean {
    const state = waiter.state;
    if (!waiter.finish()) return false;
    this.#pending--;
    if (state === 'waiting') this.#waiters.forget();
    else if (this.#serving.size !== 0) this.#serving.delete(waiter);
    if (waiter.sharedDeadline) {
      waiter.sharedDeadline = false;
      this.#deadlines.forget();
    }
    return true;
  }

  /** The shared wait timer fired: time out every waiter whose deadline has passed. */
  #expireWaiters(): void {
    const t = now();
    for (let waiter = this.#deadlines.peek(); waiter !== undefined; waiter = this.#deadlines.peek()) {
      // Timers have millisecond resolution: a deadline less than 1 ms away counts as reached.
      if (waiter.deadline - t >= 1) {
        // Rejecting the others may have taken milliseconds (an Error each): arm the next timer
        // from the clock now, not from when this pass began, or it would fire that much late.
        this.#waitTimer.schedule(waiter.deadline, now());
        return;
      }
      this.#deadlines.shift();
      waiter.sharedDeadline = false;
      this.#timeOut(waiter);
    }
  }

  #timeOut(waiter: Waiter<T>): void {
    if (waiter.state === 'settled') return;
    const counts = this.#counts(); // taken before it leaves, so `pending` includes it
    this.#settle(waiter);
    this.#stats.timedOut++;
    const cause = this.#consecutiveFailures > 0 ? this.#lastCreateError : undefined;
    waiter.reject(new AcquireTimeoutError(waiter.timeoutMs, counts, cause));
  }

  #counts(): PoolCounts {
    return {
      size: this.size,
      idle: this.#idle.length,
      borrowed: this.#borrowed,
      creating: this.#creating,
      pending: this.#pending,
      maxSize: this.#maxSize,
    };
  }

  // ───────────────────────────── creation ─────────────────────────────

  /**
   * Starts one factory call holding one slot. Resolves with `undefined` on success or with the
   * error on failure; never rejects, so no caller can leave a rejection unhandled.
   */
  #create(kind: CreateKind): Promise<unknown> {
    this.#creating++;
    if (kind !== 'acquire') this.#creatingInBackground++;
    const generation = this.#generation;
    return new Promise<unknown>((done) => {
      let started = 0;
      // While queued in p-queue (createConcurrency, createRatePerSec), dispose() can cancel it.
      const queued = {
        cancel: () => done(this.#createFailed(new PoolDisposedError('prefill()', 'The pool was disposed before this creation started; prefill() cannot complete.'), kind)),
      };
      this.#queuedCreates.add(queued);
      const task = (): Promise<T> => {
        this.#queuedCreates.delete(queued);
        started = now();
        if (createChannel.hasSubscribers) {
          const context: TraceContext = { pool: this.#o.name };
          return createChannel.tracePromise(this.#callFactory, context, this);
        }
        return this.#callFactory();
      };
      // No abort signal here on purpose: p-queue would race a running factory against it and
      // drop the resource that arrives later. dispose() cancels only the queued ones.
      this.#createQueue.add(task).then(
        (resource) => done(this.#created(resource, kind, generation, started)),
        (error: unknown) => done(this.#createFailed(error, kind)),
      );
    });
  }

  /** One factory call, bounded by `createTimeoutMs`; a resource that arrives too late is closed. */
  #callFactory(): Promise<T> {
    const timeoutMs = this.#o.createTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const accept = (resource: T): void => {
        if (settled) {
          // It arrived after its create timeout: never leak it.
          if (resource !== null && resource !== undefined) void this.#runReleaser(resource);
          return;
        }
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        if (resource === null || resource === undefined) {
          reject(new TypeError(`poolkeeper: factory() returned ${String(resource)}; it must return the resource`));
        } else if (this.#records.has(resource)) {
          reject(new TypeError('poolkeeper: factory() returned a resource that is already in the pool; it must return a new one'));
        } else {
          resolve(resource);
        }
      };
      const fail = (error: unknown): void => {
        if (settled) return; // a late failure after the timeout: the caller already has its error
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        reject(error);
      };
      if (timeoutMs !== Infinity) {
        timer = setTimeout(() => fail(new CreateTimeoutError(timeoutMs)), timeoutMs);
        timer.unref?.();
      }
      try {
        const result = this.#o.factory();
        if (isThenable(result)) (result as PromiseLike<T>).then(accept, fail);
        else accept(result);
      } catch (error) {
        fail(error);
      }
    });
  }

  #created(resource: T, kind: CreateKind, generation: number, started: number): undefined {
    this.#creating--;
    if (kind !== 'acquire') this.#creatingInBackground--;
    this.#consecutiveFailures = 0;
    this.#lastCreateError = undefined;
    this.#failingFast = false;
    this.#retryAttempt = 0;
    const t = now();
    const o = this.#o;
    const lifetime = o.recycleMs * (1 - o.recycleJitter * Math.random());
    const record = new ResourceRecord(resource, t, t + lifetime);
    this.#records.set(resource, record);
    this.#borrowed++; // out of the idle store until placed
    this.#stats.created++;
    if (this.#events.listeners.create !== undefined) this.#events.emit('create', { resource, durationMs: t - started });
    if (generation !== this.#generation && !this.#disposing) {
      this.#borrowed--;
      this.#close(record, 'cleared');
      this.#slotFreed();
      return undefined;
    }
    // Not while disposing: it is closed at once, and the timer would outlive the pool.
    if (lifetime !== Infinity && !this.#disposing) this.#maintenanceTimer.schedule(record.expiresAt, t);
    // A fresh resource needs no validation.
    this.#return(record, false);
    this.#dispatch();
    this.#checkDrained();
    return undefined;
  }

  #createFailed(error: unknown, kind: CreateKind): unknown {
    this.#creating--;
    if (kind !== 'acquire') this.#creatingInBackground--;
    if (this.#disposing) {
      // Failed while shutting down: nobody waits for it.
      this.#checkDrained();
      return error;
    }
    this.#stats.createFailed++;
    this.#consecutiveFailures++;
    this.#lastCreateError = error;
    // #dispatch lets waiters count on any creation in flight, a keep-warm one too: when waiters
    // outnumber the creations started for them, this one was theirs, and so is its error.
    if (kind === 'acquire' || this.#waiters.length > this.#creating - this.#creatingInBackground) {
      // The resource would have gone to the oldest waiter: that caller gets the error.
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) {
        waiter.state = 'serving';
        this.#settle(waiter);
        this.#stats.rejectedCreateFailed++;
        waiter.reject(error);
      } else {
        this.#emitError(error, 'create', undefined);
      }
    } else if (kind === 'background') {
      this.#emitError(error, 'create', undefined);
    }
    if (kind !== 'prefill') this.#backOff();
    if (this.#consecutiveFailures >= this.#o.failFastAfter && !this.#failingFast) this.#failFast();
    this.#dispatch();
    return error;
  }

  /** Background creation waits (exponential backoff with jitter) before trying again. */
  #backOff(): void {
    const { minDelayMs, maxDelayMs } = this.#o.createRetry;
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** this.#retryAttempt);
    this.#retryAttempt = Math.min(this.#retryAttempt + 1, 30);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2; // "equal jitter": never a busy loop
    const t = now();
    this.#retryPending = true;
    this.#retryAt = t + delay;
    this.#maintenanceTimer.schedule(this.#retryAt, t);
  }

  /** Too many failures in a row: reject waiters now rather than letting each time out. */
  #failFast(): void {
    this.#failingFast = true;
    // Prefill failures set no backoff: make sure a probe is scheduled, or nothing would end fail-fast.
    if (!this.#retryPending) this.#backOff();
    const error = new PoolUnavailableError(this.#consecutiveFailures, this.#lastCreateError);
    for (const waiter of this.#waiters.drain()) {
      waiter.state = 'serving';
      if (!this.#settle(waiter)) continue;
      this.#stats.rejectedUnavailable++;
      waiter.reject(error);
    }
  }

  /** Keeps `minIdle` resources idle (and probes while failing fast), unless backing off. */
  #refill(): void {
    if (this.#disposing || this.#retryPending) return;
    if (this.#failingFast) {
      if (this.#creating === 0) void this.#create('background');
      return;
    }
    // Not while a waiter's resource is being validated: a resource made now would land idle, be
    // the next one validated if the check fails, and so on without end. Refilled after.
    if (this.#serving.size !== 0) return;
    const minIdle = this.#o.minIdle;
    while (this.#idle.length + this.#creatingInBackground < minIdle && this.size < this.#maxSize) {
      void this.#create('background');
    }
  }

  // ───────────────────────────── validation and reset ─────────────────────────────

  #idleLongEnoughToValidate(record: ResourceRecord<T>): boolean {
    const window = this.#o.validateIdleAfterMs;
    return window === 0 || now() - record.idleSince >= window;
  }

  #validateFor(record: ResourceRecord<T>, waiter: Waiter<T>): void {
    record.state = 'validating';
    this.#serving.add(waiter);
    let result: boolean | Promise<boolean>;
    try {
      result = this.#validate!(record.resource);
    } catch (error) {
      result = Promise.reject(error);
    }
    if (result === true) {
      // A synchronous pass (a local "is the socket open" check) hands over at once: no promise,
      // no timer. Failures still take the asynchronous path below, so that a run of invalid idle
      // resources never recurses through #dispatch.
      this.#serving.delete(waiter);
      this.#handOver(record, waiter);
      if (this.#o.minIdle !== 0) this.#refill();
      return;
    }
    const pending = result;
    const timeoutMs = this.#o.validateTimeoutMs;
    callWithTimeout(() => pending, timeoutMs, () => new ValidateTimeoutError(timeoutMs)).then(
      (valid) => this.#validated(record, waiter, valid === true, undefined),
      (error: unknown) => this.#validated(record, waiter, false, error),
    );
  }

  #validated(record: ResourceRecord<T>, waiter: Waiter<T>, valid: boolean, error: unknown): void {
    if (record.state === 'closed') return; // dispose() closed it meanwhile
    // Retired while being validated (clear(), end of lifetime): never handed out, closed for that reason.
    if (!valid || (record.retired !== undefined && waiter.state === 'serving')) {
      if (!valid) {
        this.#stats.validationFailed++;
        if (error !== undefined) this.#emitError(error, 'validate', record.resource);
      }
      this.#borrowed--;
      this.#close(record, valid ? record.retired! : 'invalid');
      if (waiter.state === 'serving' && !this.#disposing) {
        // The caller keeps its place at the head of the queue.
        this.#serving.delete(waiter);
        waiter.state = 'waiting';
        this.#waiters.unshift(waiter);
      }
      this.#slotFreed();
      return;
    }
    if (waiter.state !== 'serving') {
      // The caller left (timeout, abort, dispose) while we validated: the resource goes on.
      this.#return(record, false);
      return;
    }
    this.#handOver(record, waiter);
    if (this.#o.minIdle !== 0) this.#refill(); // now it is out: top the idle store up
  }

  #resetThenReturn(record: ResourceRecord<T>): void {
    record.state = 'returning';
    const timeoutMs = this.#o.resetTimeoutMs;
    const reset = this.#reset!;
    let result: void | Promise<void>;
    try {
      result = reset(record.resource);
    } catch (error) {
      this.#resetFailed(record, error);
      return;
    }
    const mayValidate = this.#o.validateIdleAfterMs === 0;
    if (!isThenable(result)) {
      this.#return(record, mayValidate);
      return;
    }
    callWithTimeout(() => result, timeoutMs, () => new ResetTimeoutError(timeoutMs)).then(
      () => {
        if (record.state !== 'closed') this.#return(record, mayValidate);
      },
      (error: unknown) => this.#resetFailed(record, error),
    );
  }

  #resetFailed(record: ResourceRecord<T>, error: unknown): void {
    if (record.state === 'closed') return;
    this.#emitError(error, 'reset', record.resource);
    this.#borrowed--;
    this.#close(record, 'invalid');
    this.#slotFreed();
  }

  // ───────────────────────────── closing ─────────────────────────────

  /**
   * Takes `record` out of the pool (the caller has already uncounted it from idle or borrowed)
   * and queues its releaser. The returned promise resolves when the releaser has finished.
   */
  #close(record: ResourceRecord<T>, reason: DestroyReason): Promise<void> {
    record.state = 'closed';
    const resource = record.resource;
    this.#records.delete(resource);
    this.#stats.destroyed[reason]++;
    if (this.#events.listeners.destroy !== undefined) this.#events.emit('destroy', { resource, reason });
    return this.#runReleaser(resource);
  }

  /** Runs the releaser through the close queue, so dispose() can await every close. Never rejects. */
  #runReleaser(resource: T): Promise<void> {
    const releaser = this.#o.releaser;
    if (releaser === undefined) return Promise.resolve();
    const timeoutMs = this.#o.destroyTimeoutMs;
    return this.#closeQueue.add(() =>
      callWithTimeout(() => releaser(resource), timeoutMs, () => new DestroyTimeoutError(timeoutMs)).then(
        () => undefined,
        (error: unknown) => {
          this.#stats.destroyFailed++;
          this.#emitError(error, 'destroy', resource);
        },
      ),
    );
  }

  #emitError(error: unknown, operation: PoolOperation, resource: T | undefined): void {
    if (this.#events.listeners.error !== undefined) this.#events.emit('error', { error, operation, resource });
  }

  // ───────────────────────────── maintenance ─────────────────────────────

  /**
   * The maintenance timer fired: retire resources past their lifetime (closing idle ones), evict
   * resources idle past `idleTimeoutMs` down to `minIdle`, report leaks, end a create backoff,
   * then set the timer for the next deadline. Nothing is scheduled when nothing is due.
   */
  #maintain(): void {
    if (this.#disposing) return;
    const t = now();
    const o = this.#o;
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
    if (expiredIdle) {
      const expired: ResourceRecord<T>[] = [];
      this.#idle.retain((record) => (record.retired === undefined ? true : (expired.push(record), false)));
      for (const record of expired) this.#close(record, 'recycled');
    }
    if (o.idleTimeoutMs !== Infinity) {
      for (let oldest = this.#idle.peekFront(); oldest !== undefined && this.#idle.length > o.minIdle; oldest = this.#idle.peekFront()) {
        const evictAt = oldest.idleSince + o.idleTimeoutMs;
        if (evictAt - t >= 1) {
          if (evictAt < next) next = evictAt;
          break;
        }
        this.#idle.shift();
        this.#close(oldest, 'idle');
      }
    }
    if (this.#retryPending) {
      if (this.#retryAt - t < 1) this.#retryPending = false;
      else if (this.#retryAt < next) next = this.#retryAt;
    }
    this.#maintenanceTimer.schedule(next, t);
    this.#dispatch();
    if (this.#failingFast && this.#o.minIdle === 0) this.#refill(); // the probe
  }

  #reportLeak(record: ResourceRecord<T>, t: number): void {
    record.leakReported = true;
    this.#stats.leaks++;
    if (this.#events.listeners.leak !== undefined) {
      this.#events.emit('leak', {
        resource: record.resource,
        borrowedMs: t - record.borrowedAt,
        stack: record.acquireStack?.stack,
      });
    }
  }
}
