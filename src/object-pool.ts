/**
 * `ObjectPool<T>`: a small synchronous pool for objects that are costly to build and cheap to
 * keep (buffers, parsers, compiled patterns). It never blocks and never caps how many objects are
 * out; it only bounds how many idle ones it keeps.
 *
 * @module
 */
import { NotBorrowedError } from './errors.js';
import { SyncLease } from './lease.js';
import { checkCount, checkFunction, checkOptionKeys, show } from './options.js';

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
  readonly reset?: (resource: T) => void;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(['factory', 'maxIdle', 'reset']);

/**
 * A synchronous pool of reusable objects.
 *
 * @example
 * ```ts
 * const buffers = new ObjectPool({ factory: () => Buffer.alloc(64 * 1024), reset: (b) => b.fill(0) });
 * using lease = buffers.borrow();
 * lease.resource.write('hello');
 * ```
 */
export class ObjectPool<T> {
  readonly #factory: () => T;
  readonly #reset: ((resource: T) => void) | undefined;
  readonly #maxIdle: number;
  /** Idle objects; LIFO keeps the most recently used (cache-warm) ones in play. */
  readonly #idle: T[] = [];
  /**
   * Objects out, each with the number of its borrow: O(1) double-release and foreign-object
   * detection, and a lease or `use()` can tell its own borrow from a later one of the same object.
   */
  readonly #borrowed = new Map<T, number>();
  #borrows = 0;

  /** @throws TypeError or RangeError naming the option, when an option is invalid. */
  constructor(options: ObjectPoolOptions<T>) {
    // The same checks and messages as AsyncPool's options.
    checkOptionKeys(options, KNOWN_KEYS);
    this.#factory = checkFunction<() => T>('factory', options.factory, true)!;
    this.#reset = checkFunction<(resource: T) => void>('reset', options.reset, false);
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
    const resource = this.#idle.length === 0 ? this.#build() : this.#idle.pop()!;
    this.#borrowed.set(resource, ++this.#borrows);
    return resource;
  }

  /**
   * Gives an object back: `reset` runs, then it is kept if fewer than `maxIdle` are idle.
   * @throws NotBorrowedError if `resource` is not currently borrowed from this pool.
   * @throws whatever `reset` throws (the object is then dropped).
   */
  release(resource: T): void {
    if (!this.#borrowed.delete(resource)) throw new NotBorrowedError('release()', 'unknown');
    if (this.#reset !== undefined) this.#reset(resource);
    if (this.#idle.length < this.#maxIdle) this.#idle.push(resource);
  }

  /** True while `resource` is borrowed from this pool. */
  isBorrowed(resource: T): boolean {
    return this.#borrowed.has(resource);
  }

  /** Acquires an object, runs `fn` with it, and releases it (also when `fn` throws). */
  use<R>(fn: (resource: T) => R): R {
    if (typeof fn !== 'function') throw new TypeError(`poolkeeper: use() argument "fn" must be a function; got ${show(fn)}`);
    const resource = this.acquire();
    const borrow = this.#borrows;
    try {
      return fn(resource);
    } finally {
      // Only this borrow: if fn gave the object back and it was lent again, it is someone else's.
      if (this.#borrowed.get(resource) === borrow) this.release(resource);
    }
  }

  /**
   * A {@link SyncLease} for `using lease = pool.borrow()`. The lease acts on this borrow only: an
   * object given back directly and lent again belongs to its new holder.
   */
  borrow(): SyncLease<T> {
    const resource = this.acquire();
    const borrow = this.#borrows;
    return new SyncLease(resource, {
      release: (r) => this.release(r),
      isBorrowed: (r) => this.#borrowed.get(r) === borrow,
    });
  }

  /** Drops every idle object. */
  clear(): void {
    this.#idle.length = 0;
  }

  #build(): T {
    const object = this.#factory();
    if (this.#borrowed.has(object) || this.#idle.includes(object)) {
      throw new TypeError('poolkeeper: factory() returned a resource that is already in the pool; it must return a new one');
    }
    return object;
  }
}
