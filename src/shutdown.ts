/**
 * Shutdown: `dispose()` refuses new acquires; with `drain: true` it first lets the callers already
 * waiting be served as usual. Then it stops creation and maintenance, rejects the waiters left,
 * closes the idle resources, and waits for the borrowed ones to come back and for creations in
 * flight to arrive (the drain); after its timeout it closes what is still out (the forced close).
 * It resolves once every releaser has finished.
 *
 * @internal
 */
import type { DisposeOptions } from './async-pool.js';
import type { Closer } from './closer.js';
import type { Creator } from './creator.js';
import type { Deque } from './deque.js';
import type { DestroyReason } from './events.js';
import type { Housekeeper } from './housekeeper.js';
import { checkDuration, show } from './options.js';
import type { ResourceRecord } from './resource.js';
import { MAX_DELAY_MS } from './timer.js';
import { now } from './util.js';

/** What shutdown needs from the pool. */
export interface ShutdownOwner<T> {
  readonly borrowedCount: number;
  /** Callers whose `acquire()` has not settled. */
  readonly pendingCount: number;
  /** From now on acquires reject; waiters already queued may still be served (a drain). */
  markRefusing(): void;
  /** Calls `done` (once) when no caller is pending any more; `undefined` cancels. */
  whenNonePending(done: (() => void) | undefined): void;
  /** Marks the pool disposed: from now on arrivals are closed and nothing more is created. */
  markDisposing(): void;
  /** Stops the wait timer and rejects every waiter, queued or being served, with `PoolDisposedError`. */
  abandonWaiters(): void;
  /** Uncounts a record from `borrowed` and closes it. */
  closeBorrowed(record: ResourceRecord<T>, reason: DestroyReason): void;
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
    parts: { creator: Creator<T>; housekeeper: Housekeeper<T>; closer: Closer<T> },
  ) {
    this.#owner = owner;
    this.#records = records;
    this.#idle = idle;
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
    const owner = this.#owner;
    owner.markRefusing();
    if (drain && owner.pendingCount !== 0) {
      // Serve the callers already waiting first; timeoutMs bounds the drain and the shutdown together.
      const deadline = now() + timeoutMs;
      this.#promise = new Promise<void>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const served = (): void => {
          owner.whenNonePending(undefined);
          if (timer !== undefined) clearTimeout(timer);
          resolve();
        };
        owner.whenNonePending(served);
        // Beyond 2^31-1 ms (about 24.8 days) setTimeout would fire at once: no timer, wait.
        if (timeoutMs <= MAX_DELAY_MS) {
          timer = setTimeout(served, timeoutMs);
          timer.unref?.();
        }
      }).then(() => this.#shutDown(timeoutMs === Infinity ? Infinity : Math.max(deadline - now(), 1)));
      return this.#promise;
    }
    this.#promise = this.#shutDown(timeoutMs);
    return this.#promise;
  }

  /** The shutdown proper: stop creating and maintaining, reject the waiters left, close the idle. */
  #shutDown(timeoutMs: number): Promise<void> {
    this.#owner.markDisposing();
    // Creations still queued (not started) are dropped: their factory never runs. Those running
    // finish, and what they create is closed on arrival.
    this.#creator.cancelQueued();
    this.#housekeeper.cancel();
    this.#owner.abandonWaiters();
    for (const record of this.#idle.drain()) this.#closer.close(record, 'disposed');
    return this.#drain(timeoutMs);
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
        let timer: ReturnType<typeof setTimeout> | undefined;
        this.#onDrained = () => {
          if (timer !== undefined) clearTimeout(timer);
          resolve();
        };
        if (timeoutMs <= MAX_DELAY_MS) { // longer: no timer, as above
          timer = setTimeout(() => this.#forceClose(), timeoutMs);
          timer.unref?.();
        }
      });
    }
    await this.#closer.settled();
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
