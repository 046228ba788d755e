/**
 * `poolkeeper/generic-pool`: generic-pool 3's API on top of {@link AsyncPool}. Change one import:
 *
 * ```ts
 * // import { createPool } from 'generic-pool';
 * import { createPool } from 'poolkeeper/generic-pool';
 * ```
 *
 * Options, methods, properties, events and error messages are generic-pool 3.9's. Underneath,
 * callers are served by an `AsyncPool`: strict FIFO within each priority, O(1) hand-off,
 * failing creations retried with backoff instead of in a tight loop, statistics and events on
 * {@link Pool.asyncPool}. The deliberate differences are listed in the migration guide.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { AsyncPool } from '../async-pool.js';
import {
  AcquireTimeoutError,
  DestroyTimeoutError,
  NotBorrowedError,
  PoolDisposedError,
  PoolQueueFullError,
} from '../errors.js';
import type { AsyncPoolOptions } from '../options.js';
import { clampPriority, parseOptions, type Factory, type Options, type ParsedOptions } from './options.js';

export type { Factory, Options } from './options.js';

/** generic-pool's messages, kept so that code matching on them keeps working. */
const MESSAGES = {
  timeout: 'ResourceRequest timed out',
  queueFull: 'max waitingClients count exceeded',
  draining: 'pool is draining and cannot accept work',
  notBorrowed: 'Resource not currently part of this pool',
  destroyTimeout: 'destroy timed out',
} as const;

/**
 * Gives a poolkeeper error generic-pool's message (and, for timeouts, its `name`), keeping its
 * class, `code` and `cause`, so both `err.message` checks and `err.code` checks work.
 */
function asGenericPoolError<E extends Error>(error: E, message: string, name?: string): E {
  const stack = error.stack;
  const header = `${error.name}: ${error.message}`;
  Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true, enumerable: false });
  if (name !== undefined) Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  if (stack?.startsWith(header) === true) {
    Object.defineProperty(error, 'stack', {
      value: `${error.name}: ${message}${stack.slice(header.length)}`,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return error;
}

/** Rewrites the errors a caller of `acquire()`/`use()` can see into generic-pool's wording. */
function translate(error: unknown): unknown {
  if (error instanceof AcquireTimeoutError) return asGenericPoolError(error, MESSAGES.timeout, 'TimeoutError');
  if (error instanceof PoolQueueFullError) return asGenericPoolError(error, MESSAGES.queueFull);
  if (error instanceof NotBorrowedError) return asGenericPoolError(error, MESSAGES.notBorrowed);
  return error;
}

function checkFactory(factory: unknown): asserts factory is Factory<unknown> {
  const f = factory as Partial<Factory<unknown>> | null | undefined;
  if (typeof f?.create !== 'function') throw new TypeError('factory.create must be a function');
  if (typeof f.destroy !== 'function') throw new TypeError('factory.destroy must be a function');
  if (f.validate !== undefined && typeof f.validate !== 'function') throw new TypeError('factory.validate must be a function');
}

/**
 * generic-pool 3's `Pool`. Build one with {@link createPool}; `new Pool(factory, options)` works
 * too, as does generic-pool's `new Pool(Evictor, Deque, PriorityQueue, factory, options)` (the
 * first three are ignored).
 *
 * Events: `factoryCreateError` (each failed `factory.create`, with its error) and
 * `factoryDestroyError` (each failed or timed-out `factory.destroy`).
 */
export class Pool<T> extends EventEmitter {
  /** The `AsyncPool` underneath: its `stats()`, events (`on('acquire', …)`) and tracing. */
  readonly asyncPool: AsyncPool<T>;
  readonly #config: ParsedOptions;
  #started = false;
  #draining = false;
  #drained: Promise<void> | undefined = undefined;
  /** The initial fill started by `start()`, so `ready()` can wait for it. */
  #filling: Promise<void> | undefined = undefined;
  /** Renews idle resources kept by `min` once past `idleTimeoutMillis` (see `#rotateIdle`). */
  #rotation: ReturnType<typeof setInterval> | undefined = undefined;
  /** When each idle resource went idle, for {@link #rotateIdle}; undefined when it does not run. */
  #idleSince: Map<T, number> | undefined = undefined;
  /** Resources whose `validate` is running: never rotated out mid-check. */
  readonly #underTest = new Set<T>();

  /** Builds a pool from generic-pool's factory and options. */
  constructor(factory: Factory<T>, options?: Options);
  /** generic-pool's own signature; `Evictor`, `Deque` and `PriorityQueue` are ignored. */
  constructor(Evictor: unknown, Deque: unknown, PriorityQueue: unknown, factory: Factory<T>, options?: Options);
  constructor(...args: unknown[]) {
    super();
    const [factory, options] = (args.length >= 4 ? args.slice(3) : args) as [Factory<T>, Options | undefined];
    checkFactory(factory);
    const config = parseOptions(options);
    this.#config = config;
    const validate = factory.validate;
    const poolOptions: AsyncPoolOptions<T> = {
      // Every rejection of `create` is reported, as generic-pool does, whoever was waiting for it.
      factory: () => {
        const created = Promise.resolve().then(() => factory.create());
        created.catch((error: unknown) => this.emit('factoryCreateError', error));
        return created;
      },
      releaser: (resource) => factory.destroy(resource),
      maxSize: config.max,
      // generic-pool starts a creation for every caller it has room for at once, up to max.
      createConcurrency: config.max,
      strategy: config.fifo ? 'fifo' : 'lifo',
      maxWaiters: config.maxWaitingClients,
      acquireTimeoutMs: config.acquireTimeoutMillis,
      destroyTimeoutMs: config.destroyTimeoutMillis,
      // generic-pool bounds neither creation nor validation, and resources live for ever.
      createTimeoutMs: Infinity,
      validateTimeoutMs: Infinity,
      recycleMs: Infinity,
      idleTimeoutMs: idleTimeout(config),
      priorities: config.priorityRange,
      // generic-pool retries a failed creation for its waiters; here with backoff, up to each caller's timeout.
      onCreateError: 'retry',
      // generic-pool's use() destroys the resource when fn rejects.
      onUseError: 'destroy',
      ...(config.testOnBorrow && validate !== undefined
        ? {
            // generic-pool turns a resource away only when validate resolves to false.
            validate: (resource: T) => this.#test(resource, () => validate.call(factory, resource)),
            // It validates fresh resources too: they go through the same queue as idle ones.
            validateOnCreate: true,
          }
        : {}),
      min: config.min,
    };
    this.asyncPool = new AsyncPool<T>(poolOptions);
    this.asyncPool.on('error', ({ error, operation }) => {
      if (operation !== 'destroy') return;
      this.emit('factoryDestroyError', error instanceof DestroyTimeoutError ? asGenericPoolError(error, MESSAGES.destroyTimeout) : error);
    });
    if (config.min > 0 && config.evictionRunIntervalMillis > 0 && config.idleTimeoutMillis > 0) this.#rotateIdle();
    if (config.autostart) this.start();
  }

  /**
   * generic-pool's `idleTimeoutMillis` closes an idle resource even when that leaves fewer than
   * `min`, then creates new ones up to `min`: the `min` resources are renewed while the pool is
   * quiet. The core's idle timeout never goes below `min`, so the resources it keeps for `min` are
   * retired here, on generic-pool's own schedule (`evictionRunIntervalMillis`); the core then
   * replaces them. Idle times are tracked from the core's events.
   */
  #rotateIdle(): void {
    const pool = this.asyncPool;
    const idleSince = (this.#idleSince = new Map<T, number>());
    const idle = ({ resource }: { resource: T }): void => void idleSince.set(resource, performance.now());
    const out = ({ resource }: { resource: T }): void => void idleSince.delete(resource);
    // A resource handed on at once (to a waiter) gets its 'acquire' right after, which clears it;
    // one under test is left alone until its check ends (see #test).
    pool.on('create', idle).on('release', idle).on('acquire', out).on('destroy', out);
    const timeoutMs = this.#config.idleTimeoutMillis;
    this.#rotation = setInterval(() => {
      const t = performance.now();
      for (const [resource, since] of idleSince) {
        if (t - since <= timeoutMs || this.#underTest.has(resource)) continue;
        idleSince.delete(resource);
        pool.retire(resource);
      }
    }, this.#config.evictionRunIntervalMillis);
    this.#rotation.unref?.();
  }

  /**
   * Runs `check` on `resource` (generic-pool turns a resource away only when it resolves to false).
   * The rotation leaves a resource under test alone, and counts its idle time afresh after: if
   * its caller left meanwhile, the core puts it back in the idle store without an event.
   */
  #test(resource: T, check: () => unknown): Promise<boolean> {
    this.#underTest.add(resource);
    const done = (): void => {
      this.#underTest.delete(resource);
      if (this.#idleSince?.has(resource) === true) this.#idleSince.set(resource, performance.now());
    };
    let result: unknown;
    try {
      result = check();
    } catch (error) {
      done();
      throw error;
    }
    return Promise.resolve(result).then(
      (valid) => (done(), valid !== false),
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }

  /** Creates `min` resources (once). Called at construction with `autostart`, else by the first `acquire()`. */
  start(): void {
    if (this.#draining || this.#started) return;
    this.#started = true;
    if (this.#config.min > 0) {
      // A failure was reported as factoryCreateError; the pool keeps `min` alive from now on.
      this.#filling = this.asyncPool.prefill(this.#config.min).catch(() => undefined);
    }
  }


  /**
   * Resolves with a resource. `priority` is an integer from 0 (highest, the default) to
   * `priorityRange - 1`; out-of-range values count as the lowest, as in generic-pool. Callers of
   * one priority are served in arrival order; a caller never waits behind one of lower priority.
   */
  acquire(priority?: number): Promise<T> {
    if (!this.#started) this.start();
    if (this.#draining) return Promise.reject(new PoolDisposedError('acquire()', MESSAGES.draining));
    const p = clampPriority(priority, this.#config.priorityRange);
    const acquired = p === 0 ? this.asyncPool.acquire() : this.asyncPool.acquire({ priority: p });
    return acquired.catch((error: unknown) => Promise.reject(translate(error)));
  }

  /** Gives a resource back. Rejects with "Resource not currently part of this pool" if it is not borrowed. */
  release(resource: T): Promise<void> {
    try {
      this.asyncPool.release(resource);
    } catch (error) {
      return Promise.reject(translate(error));
    }
    return Promise.resolve();
  }

  /**
   * Closes a borrowed resource and frees its slot. Resolves at once, as in generic-pool; a failure
   * of `factory.destroy` is reported as `factoryDestroyError`.
   */
  destroy(resource: T): Promise<void> {
    if (!this.asyncPool.isBorrowed(resource)) {
      return Promise.reject(asGenericPoolError(new NotBorrowedError('destroy()', 'unknown'), MESSAGES.notBorrowed));
    }
    void this.asyncPool.destroy(resource);
    return Promise.resolve();
  }

  /**
   * Acquires a resource, runs `fn` with it, releases it when `fn` resolves and destroys it when
   * `fn` rejects (the rejection is passed on).
   */
  use<U>(fn: (resource: T) => U | Promise<U>, priority?: number): Promise<U> {
    if (!this.#started) this.start();
    if (this.#draining) return Promise.reject(new PoolDisposedError('use()', MESSAGES.draining));
    const p = clampPriority(priority, this.#config.priorityRange);
    return this.asyncPool.use(fn, p === 0 ? undefined : { priority: p }).catch((error: unknown) => Promise.reject(translate(error)));
  }

  /** True while `resource` is borrowed from this pool. */
  isBorrowedResource(resource: T): boolean {
    return this.asyncPool.isBorrowed(resource);
  }

  /**
   * Stops accepting `acquire()` calls (they reject with "pool is draining and cannot accept
   * work"), serves the callers already waiting, waits for every borrowed resource to come back,
   * then closes every resource. Resolves when all are closed.
   */
  drain(): Promise<void> {
    this.#draining = true;
    if (this.#rotation !== undefined) clearInterval(this.#rotation);
    this.#drained ??= this.asyncPool.dispose({ drain: true });
    return this.#drained;
  }

  /**
   * After `drain()`: resolves (with no value) once every resource is closed. Without `drain()`:
   * closes the idle resources now and retires the others (borrowed ones when they come back,
   * creations in flight when they arrive); the pool stays usable.
   */
  clear(): Promise<void> {
    if (this.#drained !== undefined) return this.#drained.then(() => undefined);
    this.asyncPool.clear();
    return Promise.resolve();
  }

  /** Resolves once `available >= min`. */
  ready(): Promise<void> {
    if (this.available >= this.min) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const pool = this.asyncPool;
      let scheduled = false;
      const check = (): void => {
        scheduled = false;
        if (this.available < this.min) return;
        pool.off('create', later).off('release', later).off('destroy', later).off('acquire', later);
        resolve();
      };
      // The events fire before the resource is placed idle: look once the pool has settled.
      const later = (): void => {
        if (scheduled) return;
        scheduled = true;
        setImmediate(check);
      };
      pool.on('create', later).on('release', later).on('destroy', later).on('acquire', later);
      void this.#filling?.then(later);
    });
  }

  /** Live resources: idle, borrowed and being created. */
  get size(): number {
    return this.asyncPool.size;
  }

  /** Idle resources. */
  get available(): number {
    return this.asyncPool.idle;
  }

  /** Borrowed resources. */
  get borrowed(): number {
    return this.asyncPool.borrowed;
  }

  /** Callers waiting in `acquire()`. */
  get pending(): number {
    return this.asyncPool.pending;
  }

  /** The `max` option as parsed. */
  get max(): number {
    return this.#config.max;
  }

  /** The `min` option as parsed. */
  get min(): number {
    return this.#config.min;
  }

  /** How many more resources may be created: `max - size`. */
  get spareResourceCapacity(): number {
    return this.#config.max - this.asyncPool.size;
  }
}

/** The core's idle timeout for generic-pool's eviction settings: off unless eviction runs. */
function idleTimeout(config: ParsedOptions): number {
  if (config.evictionRunIntervalMillis <= 0) return Infinity;
  const soft = config.softIdleTimeoutMillis > 0 ? config.softIdleTimeoutMillis : Infinity;
  const hard = config.idleTimeoutMillis > 0 ? config.idleTimeoutMillis : Infinity;
  return Math.min(soft, hard);
}

/** generic-pool 3's `createPool(factory, options)`. */
export function createPool<T>(factory: Factory<T>, options?: Options): Pool<T> {
  return new Pool<T>(factory, options);
}

/**
 * generic-pool is a CommonJS module, so `import genericPool from 'generic-pool'` gets its
 * `module.exports`: the same object here, for code that switches by changing the import's path.
 */
export default { createPool, Pool };
