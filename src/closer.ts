/**
 * Closing: takes a record out of the pool, runs the releaser through one queue (bounded by
 * `destroyTimeoutMs`), reports its failures, and lets `dispose()` wait until every close ended.
 *
 * @internal
 */
import PQueue from 'p-queue';
import type { Deque } from './deque.js';
import { DestroyTimeoutError } from './errors.js';
import type { DestroyReason, PoolOperation } from './events.js';
import type { Hooks } from './hooks.js';
import type { PermitSlot, ResourceRecord } from './resource.js';
import type { StatsRecorder } from './stats.js';
import { CallTimers, isThenable, noop, settleWithin } from './util.js';

export class Closer<T> {
  readonly #queue = new PQueue();
  /** The timers bounding user callbacks, held while `dispose()` waits on them (shared with creation and health). */
  readonly timers = new CallTimers();
  readonly #records: Map<T, ResourceRecord<T>>;
  readonly #hooks: Hooks<T>;
  readonly #stats: StatsRecorder;
  readonly #timeoutMs: number;

  constructor(records: Map<T, ResourceRecord<T>>, hooks: Hooks<T>, stats: StatsRecorder, destroyTimeoutMs: number) {
    this.#records = records;
    this.#hooks = hooks;
    this.#stats = stats;
    this.#timeoutMs = destroyTimeoutMs;
  }

  /**
   * Takes `record` out of the pool (the caller has already uncounted it from idle or borrowed)
   * and queues its releaser. The returned promise resolves when the releaser has finished.
   * `heldMs` (for `destroy()` of a borrowed resource) goes on the `destroy` event.
   */
  close(record: ResourceRecord<T>, reason: DestroyReason, heldMs?: number): Promise<void> {
    record.state = 'closed';
    const resource = record.resource;
    this.#records.delete(resource);
    this.#stats.destroyed[reason]++;
    if (this.#hooks.listeners.destroy !== undefined) this.#hooks.emit('destroy', { resource, reason, heldMs });
    return this.runReleaser(resource, record.permit);
  }

  /**
   * Takes `record` out of service for `reason` (`retire()`, a lost budget permit), never from its
   * holder: an idle one is closed now (true: its slot is free), one that is out is marked and
   * closed when it comes back (false).
   */
  retire(record: ResourceRecord<T>, idle: Deque<ResourceRecord<T>>, reason: 'retired' | 'revoked'): boolean {
    if (record.state !== 'idle') {
      record.retired ??= reason;
      return false;
    }
    idle.retain((r) => r !== record);
    void this.close(record, reason);
    return true;
  }

  /**
   * Runs the releaser through the close queue, so dispose() can await every close, then gives
   * the resource's budget permit back (in the same task: dispose() waits for that too). Never rejects.
   */
  runReleaser(resource: T, slot: PermitSlot<T> | undefined): Promise<void> {
    const hooks = this.#hooks;
    if (!hooks.hasReleaser) {
      if (slot === undefined) return Promise.resolve();
      return this.#queue.add(async () => this.givePermitBack(slot));
    }
    const timeoutMs = this.#timeoutMs;
    return this.#queue.add(() =>
      this.#callReleaser(resource, timeoutMs).then(
        () => this.givePermitBack(slot),
        (error: unknown) => {
          this.#stats.destroyFailed++;
          this.reportError(error, 'destroy', resource);
          return this.givePermitBack(slot);
        },
      ),
    );
  }

  /** Gives a budget permit back, once. Never throws or rejects: failures become `error` events. */
  givePermitBack(slot: PermitSlot<T> | undefined): Promise<void> | undefined {
    if (slot === undefined || slot.done) return undefined;
    slot.done = true;
    const permit = slot.permit;
    slot.permit = undefined;
    if (permit === undefined || slot.lost) return undefined;
    const resource = slot.record?.resource;
    let result: unknown;
    try {
      result = this.#hooks.releasePermit(permit);
    } catch (error) {
      this.reportError(error, 'budget', resource);
      return undefined;
    }
    if (!isThenable(result)) return undefined;
    return Promise.resolve(result).then(noop, (error: unknown) => this.reportError(error, 'budget', resource));
  }

  #callReleaser(resource: T, timeoutMs: number): Promise<void> {
    let result: void | PromiseLike<void>;
    try {
      result = this.#hooks.releaser(resource);
      if (!isThenable(result)) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    return settleWithin(result, this.timers, timeoutMs, () => new DestroyTimeoutError(timeoutMs));
  }

  /** Reports a failed user callback through the `error` event. */
  reportError(error: unknown, operation: PoolOperation, resource: T | undefined): void {
    if (this.#hooks.listeners.error !== undefined) this.#hooks.emit('error', { error, operation, resource });
  }

  /** Resolves once every queued releaser has finished. */
  settled(): Promise<void> {
    return this.#queue.onIdle();
  }
}
