/**
 * Shutdown: `dispose()` refuses new acquires; with `drain: true` it first lets the callers already
 * waiting be served as usual. Then it stops creation and maintenance, rejects the waiters left,
 * closes the idle resources, and waits for the borrowed ones to come back and for creations in
 * flight to arrive (the drain); after its timeout it closes what is still out (the forced close).
 * It resolves once every releaser has finished.
 *
 * @internal
 */
import type { Closer } from './closer.js';
import type { Creator } from './creator.js';
import type { Deque } from './deque.js';
import { PoolDisposedError } from './errors.js';
import type { DestroyReason } from './events.js';
import type { Housekeeper } from './housekeeper.js';
import { checkDuration, show } from './options.js';
import type { ResourceRecord } from './resource.js';
import { Countdown } from './timer.js';
import { now } from './util.js';
import type { Waiters } from './waiters.js';

/** Options of {@link AsyncPool.dispose}. */
export interface DisposeOptions {
  /**
   * How long to wait for borrowed resources to come back (and creations in flight to finish)
   * before closing them anyway. A number > 0, or `Infinity`.
   * @defaultValue Infinity
   */
  readonly timeoutMs?: number;
  /**
   * Serve the callers already waiting before shutting down (new acquires are still rejected at
   * once): they get idle resources, released ones or new ones as usual. `timeoutMs` then bounds
   * the whole shutdown; callers still waiting when it passes are rejected with `PoolDisposedError`.
   * @defaultValue false
   */
  readonly drain?: boolean;
}

/** What shutdown needs from the pool. */
export interface ShutdownOwner<T> {
  readonly borrowedCount: number;
  /** From now on acquires reject; waiters already queued may still be served (a drain). */
  markRefusing(): void;
  /** Marks the pool disposed: from now on arrivals are closed and nothing more is created. */
  markDisposing(): void;
  /** Uncounts a record from `borrowed` and closes it. */
  closeBorrowed(record: ResourceRecord<T>, reason: DestroyReason): void;
  /** Closes every idle resource, one after the other (see `AsyncPool.#closeIdle`). */
  closeIdle(reason: 'disposed'): void;
}

/** Checks `dispose()`'s options. */
function disposeOptions(options: DisposeOptions | undefined): { timeoutMs: number; drain: boolean } {
  if (options === undefined) return { timeoutMs: Infinity, drain: false };
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`poolkeeper: dispose() options must be an object; got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'timeoutMs' && key !== 'drain') {
      throw new TypeError(`poolkeeper: unknown dispose() option "${key}" (expected timeoutMs or drain); got ${show((options as Record<string, unknown>)[key])}`);
    }
  }
  const drain = options.drain === undefined ? false : options.drain;
  if (typeof drain !== 'boolean') throw new TypeError(`poolkeeper: dispose() option "drain" must be a boolean; got ${show(drain)}`);
  const timeoutMs = options.timeoutMs === undefined ? Infinity : checkDuration('timeoutMs', options.timeoutMs, false, true);
  return { timeoutMs, drain };
}

export class Shutdown<T> {
  readonly #owner: ShutdownOwner<T>;
  readonly #records: Map<T, ResourceRecord<T>>;
  readonly #idle: Deque<ResourceRecord<T>>;
  readonly #waiters: Waiters<T>;
  readonly #creator: Creator<T>;
  readonly #housekeeper: Housekeeper<T>;
  readonly #closer: Closer<T>;
  #promise: Promise<void> | undefined = undefined;
  #onDrained: (() => void) | undefined = undefined;
  /** Resources that the forced close closed while borrowed: releasing them later is a no-op. */
  #forceClosed: Set<T> | undefined = undefined;

  constructor(
    owner: ShutdownOwner<T>,
    records: Map<T, ResourceRecord<T>>,
    idle: Deque<ResourceRecord<T>>,
    parts: { waiters: Waiters<T>; creator: Creator<T>; housekeeper: Housekeeper<T>; closer: Closer<T> },
  ) {
    this.#owner = owner;
    this.#records = records;
    this.#idle = idle;
    this.#waiters = parts.waiters;
    this.#creator = parts.creator;
    this.#housekeeper = parts.housekeeper;
    this.#closer = parts.closer;
  }

  /** See `AsyncPool.dispose`. Idempotent: later calls return the same promise. */
  dispose(options: DisposeOptions | undefined): Promise<void> {
    if (this.#promise !== undefined) return this.#promise;
    let timeoutMs: number;
    let drain: boolean;
    try {
      ({ timeoutMs, drain } = disposeOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
    this.#owner.markRefusing();
    const waiters = this.#waiters;
    if (drain && waiters.pending !== 0) {
      // Serve the callers already waiting first; timeoutMs bounds the drain and the shutdown together.
      const deadline = now() + timeoutMs;
      this.#promise = new Promise<void>((resolve) => {
        let timer: Countdown | undefined;
        const served = (): void => {
          waiters.whenNonePending(undefined);
          timer?.cancel();
          resolve();
        };
        waiters.whenNonePending(served);
        // Held: a pending dispose() settles when its bound ends.
        if (timeoutMs !== Infinity) timer = new Countdown(timeoutMs, served, true);
      }).then(() => this.#shutDown(timeoutMs === Infinity ? Infinity : Math.max(deadline - now(), 1)));
      return this.#promise;
    }
    this.#promise = this.#shutDown(timeoutMs);
    return this.#promise;
  }

  /** The shutdown proper: stop creating and maintaining, reject the waiters left, close the idle. */
  #shutDown(timeoutMs: number): Promise<void> {
    this.#owner.markDisposing();
    // The promise exists before any user code runs below (a 'destroy' listener, a releaser): a
    // dispose() from there returns it. Draining starts once this call has done its part.
    let begin!: () => void;
    const begun = new Promise<void>((resolve) => (begin = resolve));
    const drained = begun.then(() => this.#drain(timeoutMs));
    this.#promise ??= drained; // after a drain of waiters, #promise already leads here
    // Until it resolves, dispose() keeps the process alive through the timers that bound what it
    // waits for (releasers, creations in flight, its own timeoutMs): it always settles.
    this.#closer.timers.hold(true);
    // Creations still queued (not started) are dropped: their factory never runs. Those running
    // finish, and what they create is closed on arrival.
    this.#creator.cancelQueued();
    this.#housekeeper.cancel();
    this.#waiters.abandon((waiter) => waiter.reject(new PoolDisposedError('acquire()')));
    this.#owner.closeIdle('disposed');
    begin();
    return drained;
  }

  /** True (once) if `resource` was closed by the forced close while borrowed: its release is a no-op. */
  forgive(resource: T): boolean {
    return this.#forceClosed?.delete(resource) === true;
  }

  /** Called after any change that may end the drain: resolves it once nothing is out or being created. */
  checkDrained(): void {
    if (this.#onDrained !== undefined && this.#owner.borrowedCount === 0 && this.#creator.creating === 0) {
      const done = this.#onDrained;
      this.#onDrained = undefined;
      done();
    }
  }

  async #drain(timeoutMs: number): Promise<void> {
    if (this.#owner.borrowedCount > 0 || this.#creator.creating > 0) {
      await new Promise<void>((resolve) => {
        let timer: Countdown | undefined;
        this.#onDrained = () => {
          timer?.cancel();
          resolve();
        };
        if (timeoutMs !== Infinity) timer = new Countdown(timeoutMs, () => this.#forceClose(), true);
      });
    }
    await this.#closer.settled();
    this.#closer.timers.hold(false); // a disposed pool holds nothing (a creation it stopped waiting for may still run)
  }

  /** The drain timed out: close what is still out, and stop waiting for creations in flight. */
  #forceClose(): void {
    this.#forceClosed = new Set();
    for (const record of [...this.#records.values()]) {
      if (record.state === 'idle' || record.state === 'closed') continue;
      // Only a holder may still release it; one being validated or reset has none.
      if (record.state === 'borrowed') this.#forceClosed.add(record.resource);
      this.#owner.closeBorrowed(record, 'disposed');
    }
    const done = this.#onDrained;
    this.#onDrained = undefined;
    done?.();
  }
}
