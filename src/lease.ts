/**
 * Leases: a borrowed resource that gives itself back when disposed, for `using` blocks.
 *
 * @module
 */
import { NotBorrowedError } from './errors.js';
import type { AcquireOptions } from './options.js';
import type { ResourceRecord } from './resource.js';

/** The part of a pool a {@link Lease} needs. */
export interface LeaseOwner<T> {
  release(resource: T): void;
  destroy(resource: T): Promise<void>;
  isBorrowed(resource: T): boolean;
}

/**
 * A resource borrowed from an {@link AsyncPool}. `await using lease = await pool.borrow()`
 * releases it when the block ends, also when it throws.
 */
export class Lease<T> implements AsyncDisposable {
  readonly #owner: LeaseOwner<T>;
  #done = false;

  /** @internal */
  constructor(
    /** The borrowed resource. */
    readonly resource: T,
    owner: LeaseOwner<T>,
  ) {
    this.#owner = owner;
  }

  /** True once the lease was released or destroyed. */
  get done(): boolean {
    return this.#done;
  }

  /** Gives the resource back to the pool. @throws NotBorrowedError if the lease is already done. */
  release(): void {
    // Checked here, not by the pool: after a release the same resource may be lent to someone
    // else, and a second release through this lease must not return *their* borrow.
    if (this.#done) throw new NotBorrowedError('lease.release()', 'released');
    this.#owner.release(this.resource);
    this.#done = true;
  }

  /** Closes a broken resource instead of giving it back (see `AsyncPool.destroy`). Rejects with `NotBorrowedError` if the lease is already done. */
  destroy(): Promise<void> {
    if (this.#done) return Promise.reject(new NotBorrowedError('lease.destroy()', 'released'));
    const closed = this.#owner.destroy(this.resource);
    this.#done = true;
    return closed;
  }

  /** Releases the resource unless the lease is done or it was given back to the pool directly. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    if (this.#owner.isBorrowed(this.resource)) this.#owner.release(this.resource);
  }
}

/** The part of an {@link ObjectPool} a {@link SyncLease} needs, bound to one borrow. */
export interface SyncLeaseOwner<T> {
  release(resource: T): void;
  /** True while `resource` is still out on the borrow this lease was made for. */
  isBorrowed(resource: T): boolean;
}

/**
 * An object borrowed from an {@link ObjectPool}; `using lease = pool.borrow()` releases it at
 * block end. It acts on its own borrow only: an object given back directly and lent again belongs
 * to its new holder.
 */
export class SyncLease<T> implements Disposable {
  readonly #owner: SyncLeaseOwner<T>;
  #done = false;

  /** @internal */
  constructor(
    /** The borrowed object (named as on {@link Lease}). */
    readonly resource: T,
    owner: SyncLeaseOwner<T>,
  ) {
    this.#owner = owner;
  }

  /**
   * The borrowed object: the same value as {@link SyncLease.resource}.
   * @deprecated Use `resource`, the name both lease types share; `object` will be removed in a
   * future major version.
   */
  get object(): T {
    return this.resource;
  }

  /** True once the lease was released. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Gives the object back.
   * @throws NotBorrowedError if the lease is already done, or the object was given back directly
   * (and maybe lent to someone else since).
   */
  release(): void {
    if (this.#done) throw new NotBorrowedError('lease.release()', 'released');
    if (!this.#owner.isBorrowed(this.resource)) throw new NotBorrowedError('lease.release()', 'released');
    this.#done = true;
    this.#owner.release(this.resource);
  }

  /** Releases the object unless the lease is done or it was given back to the pool directly. */
  [Symbol.dispose](): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#owner.isBorrowed(this.resource)) this.#owner.release(this.resource);
  }
}

/** The part of a pool that `use()` and `borrow()` need: its public calls and its records. */
export interface BorrowOwner<T> extends LeaseOwner<T> {
  acquire(options?: AcquireOptions): Promise<T>;
  /** Every live resource, by resource. */
  readonly records: ReadonlyMap<T, ResourceRecord<T>>;
}

/** True while `resource` is still out on the borrow during which its use count was `uses`. */
function lentAs<T>(records: ReadonlyMap<T, ResourceRecord<T>>, resource: T, record: ResourceRecord<T> | undefined, uses: number | undefined): boolean {
  // The record too: a factory may return an object the pool closed before; it gets a new record.
  return record !== undefined && records.get(resource) === record && record.state === 'borrowed' && record.uses === uses;
}

/**
 * The body of `AsyncPool.use()`: acquires, runs `fn`, then releases the resource (or destroys
 * it, with `destroyOnError`, when `fn` fails), unless `fn` already gave it back.
 */
export async function runBorrowed<T, R>(owner: BorrowOwner<T>, options: AcquireOptions | undefined, fn: (resource: T) => R | Promise<R>, destroyOnError: boolean): Promise<R> {
  const resource = await owner.acquire(options);
  const records = owner.records;
  const record = records.get(resource);
  const uses = record?.uses;
  let result: R;
  try {
    result = await fn(resource);
  } catch (error) {
    // Only this borrow: if fn released the resource and it went to another caller, it is theirs.
    if (lentAs(records, resource, record, uses)) {
      if (destroyOnError) void owner.destroy(resource);
      else owner.release(resource);
    }
    throw error;
  }
  if (lentAs(records, resource, record, uses)) owner.release(resource);
  return result;
}

/** The body of `AsyncPool.borrow()`: acquires, and wraps this borrow in a {@link Lease}. */
export async function leaseOf<T>(owner: BorrowOwner<T>, options: AcquireOptions | undefined): Promise<Lease<T>> {
  const resource = await owner.acquire(options);
  const records = owner.records;
  const record = records.get(resource);
  const uses = record?.uses;
  // The lease acts on this borrow only: a resource given back directly and lent again belongs
  // to its new holder (disposing the lease leaves it alone; release()/destroy() throw).
  const lentAgain = (r: T): boolean => owner.isBorrowed(r) && !lentAs(records, r, record, uses);
  return new Lease(resource, {
    release: (r) => {
      if (lentAgain(r)) throw new NotBorrowedError('release()', 'released');
      owner.release(r);
    },
    destroy: (r) => (lentAgain(r) ? Promise.reject(new NotBorrowedError('destroy()', 'released')) : owner.destroy(r)),
    isBorrowed: (r) => lentAs(records, r, record, uses),
  });
}
