/**
 * The pools under test behind one small interface, each configured with its own defaults plus
 * what the scenario asks for (`max`, the factory, an acquire timeout).
 */
import genericPool from 'generic-pool';
import { Pool as LightningPool } from 'lightning-pool';
import tarn from 'tarn';
import { AcquireTimeoutError, AsyncPool } from 'poolkeeper';
import { FloorPool } from './floor.js';

/** What a scenario asks of a pool. */
export interface PoolSpec<R> {
  readonly max: number;
  readonly create: () => R | Promise<R>;
  readonly destroy?: (resource: R) => void | Promise<void>;
  /** Acquire timeout for every waiter, when the scenario wants one (else each pool's default). */
  readonly acquireTimeoutMs?: number;
}

/** One pool instance, seen through the calls the scenarios make. */
export interface PoolUnderTest<R> {
  acquire(): Promise<R>;
  release(resource: R): void;
  /** Resources the pool has created so far. */
  created(): number;
  close(): Promise<void>;
}

export interface Contender {
  readonly name: string;
  make<R>(spec: PoolSpec<R>): PoolUnderTest<R>;
  /** True when `error` is this pool's acquire-timeout error; undefined for a pool with no timeouts. */
  readonly isTimeout: ((error: unknown) => boolean) | undefined;
}

const noop = (): void => {};

/** Counts what a factory creates: not every pool exposes that count. */
function counting<R>(create: () => R | Promise<R>): { create: () => R | Promise<R>; count: () => number } {
  let created = 0;
  return {
    create: () => {
      created++;
      return create();
    },
    count: () => created,
  };
}

class Floor<R> implements PoolUnderTest<R> {
  readonly #pool: FloorPool<R>;
  constructor(spec: PoolSpec<R>) {
    this.#pool = new FloorPool(spec.max, spec.create, spec.destroy ?? noop);
  }
  acquire(): Promise<R> {
    return this.#pool.acquire();
  }
  release(resource: R): void {
    this.#pool.release(resource);
  }
  created(): number {
    return this.#pool.created;
  }
  close(): Promise<void> {
    return this.#pool.close();
  }
}

class Poolkeeper<R> implements PoolUnderTest<R> {
  readonly #pool: AsyncPool<R>;
  constructor(spec: PoolSpec<R>) {
    // Library defaults otherwise: FIFO waiters, double-release detection, recycleMs, counters,
    // the wait-time histogram and a 30 s acquire timeout are all on.
    this.#pool = new AsyncPool<R>({
      factory: spec.create,
      releaser: spec.destroy,
      maxSize: spec.max,
      ...(spec.acquireTimeoutMs === undefined ? {} : { acquireTimeoutMs: spec.acquireTimeoutMs }),
    });
  }
  acquire(): Promise<R> {
    return this.#pool.acquire();
  }
  release(resource: R): void {
    this.#pool.release(resource);
  }
  created(): number {
    return this.#pool.stats().created;
  }
  close(): Promise<void> {
    return this.#pool.dispose();
  }
}

class GenericPool<R> implements PoolUnderTest<R> {
  readonly #pool: genericPool.Pool<R>;
  readonly #count: () => number;
  constructor(spec: PoolSpec<R>) {
    const { create, count } = counting(spec.create);
    this.#count = count;
    const destroy = spec.destroy ?? noop;
    this.#pool = genericPool.createPool<R>(
      { create: async () => create(), destroy: async (resource) => destroy(resource) },
      { max: spec.max, ...(spec.acquireTimeoutMs === undefined ? {} : { acquireTimeoutMillis: spec.acquireTimeoutMs }) },
    );
  }
  acquire(): Promise<R> {
    return this.#pool.acquire();
  }
  release(resource: R): void {
    void this.#pool.release(resource);
  }
  created(): number {
    return this.#count();
  }
  async close(): Promise<void> {
    await this.#pool.drain();
    await this.#pool.clear();
  }
}

class Tarn<R> implements PoolUnderTest<R> {
  readonly #pool: tarn.Pool<R>;
  readonly #count: () => number;
  constructor(spec: PoolSpec<R>) {
    const { create, count } = counting(spec.create);
    this.#count = count;
    this.#pool = new tarn.Pool<R>({
      create: async () => create(),
      destroy: spec.destroy ?? noop,
      min: 0,
      max: spec.max,
      ...(spec.acquireTimeoutMs === undefined ? {} : { acquireTimeoutMillis: spec.acquireTimeoutMs }),
    });
  }
  acquire(): Promise<R> {
    return this.#pool.acquire().promise;
  }
  release(resource: R): void {
    this.#pool.release(resource);
  }
  created(): number {
    return this.#count();
  }
  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

class Lightning<R> implements PoolUnderTest<R> {
  readonly #pool: LightningPool<R>;
  readonly #count: () => number;
  constructor(spec: PoolSpec<R>) {
    const { create, count } = counting(spec.create);
    this.#count = count;
    const destroy = spec.destroy ?? noop;
    // Its `maxQueue` defaults to 1 000 (more acquires are rejected): raised so that scenario 3's
    // bursts can queue at all. Its acquire timeout is off by default.
    this.#pool = new LightningPool<R>(
      { create: async () => create(), destroy: async (resource) => destroy(resource) },
      { max: spec.max, min: 0, minIdle: 0, maxQueue: 1e9, ...(spec.acquireTimeoutMs === undefined ? {} : { acquireTimeoutMillis: spec.acquireTimeoutMs }) },
    );
  }
  acquire(): Promise<R> {
    return this.#pool.acquire();
  }
  release(resource: R): void {
    this.#pool.release(resource);
  }
  created(): number {
    return this.#count();
  }
  close(): Promise<void> {
    return this.#pool.closeAsync(true);
  }
}

export const FLOOR = 'floor';
export const SUBJECT = 'poolkeeper';
export const LIGHTNING = 'lightning-pool';

export const contenders: readonly Contender[] = [
  { name: FLOOR, make: (spec) => new Floor(spec), isTimeout: undefined },
  { name: SUBJECT, make: (spec) => new Poolkeeper(spec), isTimeout: (error) => error instanceof AcquireTimeoutError },
  {
    name: 'generic-pool',
    make: (spec) => new GenericPool(spec),
    isTimeout: (error) => error instanceof Error && error.name === 'TimeoutError',
  },
  { name: 'tarn', make: (spec) => new Tarn(spec), isTimeout: (error) => error instanceof tarn.TimeoutError },
  {
    name: LIGHTNING,
    make: (spec) => new Lightning(spec),
    // It rejects a timed-out acquire with a plain Error; only the message tells.
    isTimeout: (error) => error instanceof Error && error.message === 'Request timed out',
  },
];
