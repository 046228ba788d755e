/**
 * `ObjectPool<T>`: a small synchronous pool for objects that are costly to build and cheap to
 * keep (buffers, parsers, compiled patterns). It never blocks and never caps how many objects are
 * out; it only bounds how many idle ones it keeps.
 *
 * @module
 */
import { NotBorrowedError } from './errors.js';
import { SyncLease } from './lease.js';
import { checkCount, show } from './options.js';

/** Options of {@link ObjectPool}. */
export interface ObjectPoolOptions<T> {
  /** Builds a new object. Required. */
  readonly factory: () => T;
  /**
   * Most idle objects kept; a release beyond it drops the object. An integer ≥ 0, or `Infinity`.
   * @defaultValue 10
   */
  readonly maxIdle?: number;
  /**
   * Runs on every release, before the object is kept (clear a buffer, rewind a parser). If it
   * throws, the object is dropped and the error is thrown from `release()`.
   */
  readonly reset?: (object: T) => void;
}

const KNOWN_KEYS = new Set(['factory', 'maxIdle', 'reset']);

/**
 * A synchronous pool of reusable objects.
 *
 * @example
 * ```ts
 * const buffers = new ObjectPool({ factory: () => Buffer.alloc(64 * 1024), reset: (b) => b.fill(0) });
 * using lease = buffers.borrow();
 * lease.object.write('hello');
 * ```
 */
export class ObjectPool<T> {
  readonly #factory: () => T;
  readonly #reset: ((object: T) => void) | undefined;
  readonly #maxIdle: number;
  /** Idle objects; LIFO keeps the most recently used (cache-warm) ones in play. */
  readonly #idle: T[] = [];
  /** Objects out: O(1) double-release and foreign-object detection. */
  readonly #borrowed = new Set<T>();

  /** @throws TypeError or RangeError naming the option, when an option is invalid. */
  constructor(options: ObjectPoolOptions<T>) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`poolkeeper: options must be an object with at least a factory; got ${show(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (!KNOWN_KEYS.has(key)) throw new TypeError(`poolkeeper: unknown option "${key}" (check its spelling)`);
    }
    if (typeof options.factory !== 'function') {
      throw new TypeError(`poolkeeper: option "factory" must be a function; got ${show(options.factory)}`);
    }
    if (options.reset !== undefined && typeof options.reset !== 'function') {
      throw new TypeError(`poolkeeper: option "reset" must be a function; got ${show(options.reset)}`);
    }
    this.#factory = options.factory;
    this.#reset = options.reset;
    this.#maxIdle = options.maxIdle === undefined ? 10 : checkCount('maxIdle', options.maxIdle, 0, true);
  }

  /** Idle objects kept. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Objects out. */
  get borrowed(): number {
    return this.#borrowed.size;
  }

  /** An idle object, or a new one. Never blocks. */
  acquire(): T {
    const object = this.#idle.length === 0 ? this.#build() : this.#idle.pop()!;
    this.#borrowed.add(object);
    return object;
  }

  /**
   * Gives an object back: `reset` runs, then it is kept if fewer than `maxIdle` are idle.
   * @throws NotBorrowedError if `object` is not currently borrowed from this pool.
   * @throws whatever `reset` throws (the object is then dropped).
   */
  release(object: T): void {
    if (!this.#borrowed.delete(object)) throw new NotBorrowedError('release()', 'unknown');
    if (this.#reset !== undefined) this.#reset(object);
    if (this.#idle.length < this.#maxIdle) this.#idle.push(object);
  }

  /** True while `object` is borrowed from this pool. */
  isBorrowed(object: T): boolean {
    return this.#borrowed.has(object);
  }

  /** Acquires an object, runs `fn` with it, and releases it (also when `fn` throws). */
  use<R>(fn: (object: T) => R): R {
    if (typeof fn !== 'function') throw new TypeError(`poolkeeper: use() argument "fn" must be a function; got ${show(fn)}`);
    const object = this.acquire();
    try {
      return fn(object);
    } finally {
      if (this.#borrowed.has(object)) this.release(object);
    }
  }

  /** A {@link SyncLease} for `using lease = pool.borrow()`. */
  borrow(): SyncLease<T> {
    return new SyncLease(this.acquire(), this);
  }

  /** Drops every idle object. */
  clear(): void {
    this.#idle.length = 0;
  }

  #build(): T {
    const object = this.#factory();
    if (this.#borrowed.has(object) || this.#idle.includes(object)) {
      throw new TypeError('poolkeeper: factory() returned an object already in the pool; it must build a new one');
    }
    return object;
  }
}
