/**
 * `poolkeeper/redis-budget`: a {@link Budget} shared by every process that uses the same Redis key,
 * so N replicas with pools of `maxSize` each never hold more than `limit` live resources together.
 *
 * Built on `redis-semaphore` (a sorted set of leases, each added and refreshed by an atomic Lua
 * script) with an ioredis client. Each permit is one lease with a TTL: a process that dies
 * (SIGKILL, OOM kill, power loss) stops refreshing its leases, and its permits come back to the
 * others within `leaseTtlMs`.
 *
 * `redis-semaphore`'s own refresh timer is never started: a Redis outage during its refresh rejects
 * a promise nobody handles and kills the process. This module refreshes every permit it holds from
 * one timer of its own, bounds every Redis call by `commandTimeoutMs`, and reports failures to
 * `onError`: nothing it does can raise an unhandled rejection.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { AsyncPool } from 'poolkeeper';
 * import { RedisBudget } from 'poolkeeper/redis-budget';
 *
 * const redis = new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * redis.on('error', () => {}); // ioredis logs connection errors otherwise
 * const budget = new RedisBudget({ client: redis, key: 'orders-db', limit: 90 });
 * const pool = new AsyncPool({ factory: connect, releaser: (c) => c.end(), maxSize: 20, budget });
 * ```
 *
 * @module
 */
import { Semaphore } from 'redis-semaphore';
import type { Budget, BudgetAcquireOptions, BudgetPermit } from '../budget.js';
import { AbortError, brand, BudgetUnavailableError } from '../errors.js';
import { checkCount, checkDuration, show } from '../options.js';
import { noop } from '../util.js';

/** The Redis client `redis-semaphore` needs: an ioredis `Redis` (or `Cluster` node) instance. */
export type RedisBudgetClient = ConstructorParameters<typeof Semaphore>[0];

/** Options of {@link RedisBudget}. Times are in milliseconds. */
export interface RedisBudgetOptions {
  /**
   * An ioredis client. Prefer `enableOfflineQueue: false` (a command fails at once while Redis is
   * down instead of waiting for a reconnection), and give it an `error` listener.
   */
  readonly client: RedisBudgetClient;
  /** The budget's name: every process using the same key (and Redis) shares one budget. Stored as `semaphore:<key>`. */
  readonly key: string;
  /** Most permits out at once across all processes: an integer ≥ 1. Every process must use the same value. */
  readonly limit: number;
  /**
   * Lifetime of a lease that is not refreshed: how long the permits of a process that died stay
   * taken. Every process should use the same value. At least 100.
   * @defaultValue 10 000
   */
  readonly leaseTtlMs?: number;
  /**
   * How often the leases this process holds are refreshed: less than `leaseTtlMs`, so that a
   * refresh or two may fail (a Redis blip) before a lease expires.
   * @defaultValue `leaseTtlMs / 3`
   */
  readonly refreshIntervalMs?: number;
  /**
   * While every permit is taken, how often this process asks Redis again (with jitter, between
   * half and all of it). A permit given back by this process goes to whichever process asks first.
   * @defaultValue 50
   */
  readonly retryIntervalMs?: number;
  /**
   * A Redis call that takes longer counts as failed: an acquire then rejects with
   * `BudgetUnavailableError`, so a Redis that hangs never hangs the pool.
   * @defaultValue 1 000
   */
  readonly commandTimeoutMs?: number;
  /**
   * Told about failures that reach no caller: a refresh that failed (Redis unreachable), a permit
   * whose lease was lost (its resource is then retired), a give-back that failed (its lease expires
   * on its own). Exceptions it throws are ignored.
   */
  readonly onError?: (error: unknown) => void;
}

/** A failure of a {@link RedisBudget} reported through `onError`; `cause` is the Redis error, if any. */
export class RedisBudgetError extends Error {
  /** Stable identifier of the error kind; safe to match on. */
  readonly code = 'ERR_REDIS_BUDGET' as const;
  /** What was being done: `'refresh'`, `'lost'` (a lease expired or vanished), or `'release'`. */
  readonly operation: 'refresh' | 'lost' | 'release';

  static {
    brand(this, 'RedisBudgetError');
  }

  constructor(operation: 'refresh' | 'lost' | 'release', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisBudgetError';
    this.operation = operation;
  }
}

interface Request {
  readonly signal: AbortSignal;
  readonly onLost: () => void;
  readonly resolve: (permit: BudgetPermit) => void;
  readonly reject: (error: unknown) => void;
  readonly onAbort: () => void;
}

/** One permit held by this process: a lease in Redis, refreshed until given back. */
interface Held {
  lock: Semaphore;
  readonly onLost: () => void;
  /** A refresh of this lease is in flight: the next tick skips it. */
  refreshing: boolean;
}

class CommandTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms (commandTimeoutMs)`);
    this.name = 'CommandTimeoutError';
  }
}

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'client', 'key', 'limit', 'leaseTtlMs', 'refreshIntervalMs', 'retryIntervalMs', 'commandTimeoutMs', 'onError',
]);

/**
 * A budget of `limit` permits shared through Redis by every process using the same `key`.
 * Within a process, permits are granted in request order; across processes, whoever asks first
 * once a permit is free gets it (each process polls every `retryIntervalMs` while the budget is full).
 *
 * When Redis cannot be reached, `acquire()` rejects at once (every request waiting in this process
 * too) with `BudgetUnavailableError`; permits already held stay held and are refreshed again when
 * Redis returns. A lease found gone on refresh (it expired during a long outage, or Redis lost its
 * data) is taken again if the budget allows; otherwise its resource is retired.
 */
export class RedisBudget implements Budget {
  readonly #client: RedisBudgetClient;
  readonly #key: string;
  readonly #limit: number;
  readonly #leaseTtlMs: number;
  readonly #refreshIntervalMs: number;
  readonly #retryIntervalMs: number;
  readonly #commandTimeoutMs: number;
  readonly #onError: ((error: unknown) => void) | undefined;

  /** Requests waiting for a permit, oldest first; only the oldest asks Redis. */
  readonly #queue = new Set<Request>();
  readonly #held = new Set<Held>();
  #pumping = false;
  /** Ends the pump's wait between two attempts early (the request at the head left, or close()). */
  #wake: (() => void) | undefined = undefined;
  #refreshTimer: ReturnType<typeof setInterval> | undefined = undefined;
  #closed = false;

  /** @throws TypeError or RangeError naming the option, when an option is invalid. */
  constructor(options: RedisBudgetOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`poolkeeper: RedisBudget options must be an object with client, key and limit; got ${show(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (!KNOWN_KEYS.has(key)) throw new TypeError(`poolkeeper: unknown RedisBudget option "${key}" (check its spelling)`);
    }
    const o = options;
    if (typeof o.client !== 'object' || o.client === null || typeof (o.client as { evalsha?: unknown }).evalsha !== 'function') {
      throw new TypeError(`poolkeeper: RedisBudget option "client" must be an ioredis client; got ${show(o.client)}`);
    }
    if (typeof o.key !== 'string' || o.key === '') {
      throw new TypeError(`poolkeeper: RedisBudget option "key" must be a non-empty string; got ${show(o.key)}`);
    }
    this.#client = o.client;
    this.#key = o.key;
    this.#limit = checkCount('limit', o.limit, 1, false);
    this.#leaseTtlMs = o.leaseTtlMs === undefined ? 10_000 : checkDuration('leaseTtlMs', o.leaseTtlMs, false, false);
    if (this.#leaseTtlMs < 100) throw new RangeError(`poolkeeper: option "leaseTtlMs" must be >= 100; got ${this.#leaseTtlMs}`);
    this.#refreshIntervalMs = o.refreshIntervalMs === undefined
      ? Math.round(this.#leaseTtlMs / 3)
      : checkDuration('refreshIntervalMs', o.refreshIntervalMs, false, false);
    if (this.#refreshIntervalMs >= this.#leaseTtlMs) {
      throw new RangeError(`poolkeeper: option "refreshIntervalMs" must be < leaseTtlMs (${this.#leaseTtlMs}); got ${this.#refreshIntervalMs}`);
    }
    this.#retryIntervalMs = o.retryIntervalMs === undefined ? 50 : checkDuration('retryIntervalMs', o.retryIntervalMs, false, false);
    this.#commandTimeoutMs = o.commandTimeoutMs === undefined ? 1_000 : checkDuration('commandTimeoutMs', o.commandTimeoutMs, false, false);
    if (o.onError !== undefined && typeof o.onError !== 'function') {
      throw new TypeError(`poolkeeper: RedisBudget option "onError" must be a function; got ${show(o.onError)}`);
    }
    this.#onError = o.onError;
  }

  /** Permits this process holds. */
  get held(): number {
    return this.#held.size;
  }

  /** Requests of this process waiting for a permit. */
  get waiting(): number {
    return this.#queue.size;
  }

  /** The budget's limit, shared by all processes. */
  get limit(): number {
    return this.#limit;
  }

  /** The lease TTL: how long the permits of a process that died stay taken. */
  get leaseTtlMs(): number {
    return this.#leaseTtlMs;
  }

  acquire(options: BudgetAcquireOptions): Promise<BudgetPermit> {
    const { signal, onLost } = options;
    if (this.#closed) return Promise.reject(new BudgetUnavailableError(undefined, 'The RedisBudget was closed.'));
    if (signal.aborted) return Promise.reject(new AbortError('The permit request was aborted', { cause: signal.reason }));
    return new Promise<BudgetPermit>((resolve, reject) => {
      const request: Request = {
        signal,
        onLost,
        resolve,
        reject,
        onAbort: () => {
          if (!this.#queue.delete(request)) return;
          reject(new AbortError('The permit request was aborted', { cause: signal.reason }));
          this.#wake?.(); // the head may have left: the pump moves on at once
        },
      };
      signal.addEventListener('abort', request.onAbort, { once: true });
      this.#queue.add(request);
      this.#pump();
    });
  }

  /**
   * Stops refreshing, rejects the requests still waiting, and gives back the permits this process
   * holds. Call it after disposing the pools that use the budget. Never rejects.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const request of this.#queue) this.#leave(request, new BudgetUnavailableError(undefined, 'The RedisBudget was closed.'));
    this.#wake?.();
    const held = [...this.#held];
    this.#held.clear();
    this.#stopRefreshing();
    await Promise.all(held.map((h) => this.#giveBack(h.lock)));
  }

  #leave(request: Request, error: unknown): void {
    this.#queue.delete(request);
    request.signal.removeEventListener('abort', request.onAbort);
    request.reject(error);
  }

  /** One loop per process serves the queue head by head; it never rejects. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this.#serveQueue().then(
      () => {
        this.#pumping = false;
        // A request may have arrived between the loop's last check and now.
        if (this.#queue.size !== 0 && !this.#closed) this.#pump();
      },
      (error: unknown) => {
        // Not expected: every await inside is guarded. Fail the waiters rather than strand them.
        this.#pumping = false;
        for (const request of this.#queue) this.#leave(request, new BudgetUnavailableError(error));
      },
    );
  }

  async #serveQueue(): Promise<void> {
    while (this.#queue.size !== 0 && !this.#closed) {
      const request = this.#queue.values().next().value as Request;
      const lock = this.#newLock();
      let acquired: boolean;
      try {
        acquired = await this.#bounded(lock.tryAcquire(), (late) => {
          if (late) void this.#giveBack(lock); // granted after we gave up on it: hand it straight back
        });
      } catch (error) {
        // Redis is unreachable (or too slow): every request here would meet the same fate, so
        // they all fail now instead of each waiting commandTimeoutMs in turn.
        const failure = new BudgetUnavailableError(error);
        for (const waiting of this.#queue) this.#leave(waiting, failure);
        return;
      }
      if (acquired) {
        if (!this.#queue.has(request) || this.#closed) {
          await this.#giveBack(lock); // its caller left while Redis answered
          continue;
        }
        this.#queue.delete(request);
        request.signal.removeEventListener('abort', request.onAbort);
        request.resolve(this.#grant(lock, request.onLost));
        continue;
      }
      // Full: ask again after a while, or as soon as this process gives a permit back.
      await new Promise<void>((resolve) => {
        const delay = this.#retryIntervalMs / 2 + Math.random() * (this.#retryIntervalMs / 2);
        const timer = setTimeout(() => {
          this.#wake = undefined;
          resolve();
        }, delay);
        timer.unref?.();
        this.#wake = () => {
          this.#wake = undefined;
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #newLock(identifier?: string): Semaphore {
    return new Semaphore(this.#client, this.#key, this.#limit, {
      lockTimeout: this.#leaseTtlMs,
      acquireAttemptsLimit: 1,
      // 0 turns redis-semaphore's refresh timer off: its failures become unhandled rejections.
      refreshInterval: 0,
      onLockLost: noop,
      ...(identifier === undefined ? {} : { identifier, acquiredExternally: true as const }),
    });
  }

  #grant(lock: Semaphore, onLost: () => void): BudgetPermit {
    const held: Held = { lock, onLost, refreshing: false };
    this.#held.add(held);
    this.#startRefreshing();
    let released = false;
    return {
      release: () => {
        if (released) return Promise.resolve();
        released = true;
        // Gone already (lost, or close() gave it back): nothing to give back.
        if (!this.#held.delete(held)) return Promise.resolve();
        if (this.#held.size === 0) this.#stopRefreshing();
        // No early retry for this process's own queue: it would win every permit it gives back
        // before other processes poll, and starve them. Everyone waits for their next poll.
        return this.#giveBack(held.lock);
      },
    };
  }

  /** Removes a lease from Redis. Never rejects: a lease that cannot be removed expires on its own. */
  #giveBack(lock: Semaphore): Promise<void> {
    return this.#bounded(lock.release(), noop).then(noop, (error: unknown) => {
      this.#report(new RedisBudgetError('release', `Could not give a permit back to "${this.#key}"; its lease expires within leaseTtlMs`, { cause: error }));
    });
  }

  #startRefreshing(): void {
    if (this.#refreshTimer !== undefined) return;
    this.#refreshTimer = setInterval(() => this.#refreshAll(), this.#refreshIntervalMs);
    this.#refreshTimer.unref?.(); // an idle process is never kept alive by its leases
  }

  #stopRefreshing(): void {
    if (this.#refreshTimer === undefined) return;
    clearInterval(this.#refreshTimer);
    this.#refreshTimer = undefined;
  }

  #refreshAll(): void {
    for (const held of this.#held) {
      if (held.refreshing) continue;
      held.refreshing = true;
      this.#refresh(held).then(
        () => {
          held.refreshing = false;
        },
        (error: unknown) => {
          held.refreshing = false;
          this.#report(error);
        },
      );
    }
  }

  async #refresh(held: Held): Promise<void> {
    const probe = this.#newLock(held.lock.identifier);
    let alive: boolean;
    try {
      alive = await this.#bounded(probe.tryAcquire(), noop);
    } catch (error) {
      // Unreachable: keep the permit and try again next tick. The lease may expire meanwhile;
      // then the next refresh finds it gone and takes it again or retires the resource.
      this.#report(new RedisBudgetError('refresh', `Could not refresh the leases of "${this.#key}"`, { cause: error }));
      return;
    }
    if (alive || !this.#held.has(held)) return;
    // The lease is gone (it expired during an outage, or Redis lost its data): take a new one if
    // the budget allows, so the resource can stay; otherwise the pool retires it.
    const fresh = this.#newLock();
    let again = false;
    try {
      again = await this.#bounded(fresh.tryAcquire(), (late) => {
        if (late) void this.#giveBack(fresh);
      });
    } catch {
      again = false;
    }
    if (!this.#held.has(held)) {
      if (again) await this.#giveBack(fresh); // given back meanwhile
      return;
    }
    if (again) {
      held.lock = fresh;
      return;
    }
    this.#held.delete(held);
    if (this.#held.size === 0) this.#stopRefreshing();
    this.#report(new RedisBudgetError('lost', `A lease of "${this.#key}" expired and the budget is full; its resource is retired`));
    try {
      held.onLost();
    } catch (error) {
      this.#report(error);
    }
    this.#wake?.();
  }

  /**
   * `promise`, rejected with a timeout after `commandTimeoutMs`. If it settles later, `late`
   * receives its value; a late rejection is swallowed (the caller already has an error).
   */
  #bounded<R>(promise: Promise<R>, late: (value: R) => void): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(new CommandTimeoutError(this.#commandTimeoutMs));
      }, this.#commandTimeoutMs);
      timer.unref?.();
      promise.then(
        (value) => {
          if (timedOut) {
            late(value);
            return;
          }
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          if (timedOut) return;
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  #report(error: unknown): void {
    if (this.#onError === undefined) return;
    try {
      this.#onError(error);
    } catch {
      // A failing reporter must not break the budget.
    }
  }
}
