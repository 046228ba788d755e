/**
 * The callers waiting in `acquire()`: the queue in arrival order, the ones being served (their
 * resource is being validated), the pending count, and the shared deadline timer for waiters
 * using the pool's `acquireTimeoutMs`. Which waiter gets what is decided by the pool's dispatch.
 *
 * @internal
 */
import { DeadlineTimer } from './timer.js';
import { now } from './util.js';
import type { arrivalCount, Waiter } from './waiter.js';
import { PriorityWaiterQueue, WaiterQueue, type WaiterQueueLike } from './waiter-queue.js';

export class Waiters<T> {
  /**
   * Callers waiting for a resource, in arrival order; with `priorities` > 1, by priority first
   * (a queue per level). Pools without priorities get the plain queue and pay nothing for them.
   */
  readonly queue: WaiterQueueLike<T>;
  /** Waiters whose resource is being validated. */
  readonly serving = new Set<Waiter<T>>();
  /** Callers whose `acquire()` has not settled yet. */
  pending = 0;
  /** Set by `dispose({ drain: true })`: called once no caller is pending. */
  onNonePending: (() => void) | undefined = undefined;
  /**
   * Waiters using the pool's `acquireTimeoutMs`: their deadlines ascend in arrival order, so one
   * timer set for the oldest covers them all (O(1) timers however many wait).
   */
  readonly #deadlines = new WaiterQueue<T>();
  readonly #timer = new DeadlineTimer(() => this.#expire());
  readonly #sharedTimeoutMs: number;
  readonly #onTimeout: (waiter: Waiter<T>) => void;

  constructor(acquireTimeoutMs: number, priorities: number, onTimeout: (waiter: Waiter<T>) => void) {
    this.queue = priorities === 1 ? new WaiterQueue<T>() : new PriorityWaiterQueue<T>(priorities);
    this.#sharedTimeoutMs = acquireTimeoutMs;
    this.#onTimeout = onTimeout;
  }

  /** Queues `waiter`, which arrived at `t`, and arms its deadline. */
  add(waiter: Waiter<T>, t: number): void {
    this.pending++;
    this.queue.push(waiter);
    const timeoutMs = waiter.timeoutMs;
    if (timeoutMs === Infinity) return;
    if (timeoutMs === this.#sharedTimeoutMs) {
      waiter.sharedDeadline = true;
      this.#deadlines.push(waiter);
      this.#timer.schedule(t + timeoutMs, t);
      this.#timer.hold(true); // a waiter with a finite timeout keeps the process alive
    } else {
      waiter.armTimer(timeoutMs);
    }
  }

  /**
   * Bookkeeping for a waiter leaving, however it leaves. Returns false if it already had.
   * The caller then resolves or rejects its promise.
   */
  settle(waiter: Waiter<T>): boolean {
    const state = waiter.state;
    if (!waiter.finish()) return false;
    this.pending--;
    if (this.pending === 0 && this.onNonePending !== undefined) this.onNonePending();
    if (state === 'waiting') this.queue.forget(waiter);
    else if (this.serving.size !== 0) this.serving.delete(waiter);
    if (waiter.sharedDeadline) {
      waiter.sharedDeadline = false;
      this.#deadlines.forget();
      if (this.#deadlines.length === 0) this.#timer.hold(false); // no finite timeout left to honour
    }
    return true;
  }

  /**
   * A creation the oldest waiter counted on failed: it gets the error, if it arrived before
   * `arrivedBefore` (an {@link arrivalCount} reading). False when nobody waits, or it came later.
   */
  rejectOldest(error: unknown, arrivedBefore: number): boolean {
    const head = this.queue.peek();
    if (head === undefined || head.arrival >= arrivedBefore) return false;
    const waiter = this.queue.shift()!;
    waiter.state = 'serving';
    this.settle(waiter);
    waiter.reject(error);
    return true;
  }

  /** Fail-fast: rejects every queued waiter with `error`; returns how many. */
  rejectAll(error: unknown): number {
    let count = 0;
    for (const waiter of this.queue.drain()) {
      waiter.state = 'serving';
      if (!this.settle(waiter)) continue;
      count++;
      waiter.reject(error);
    }
    return count;
  }

  /** A waiter's resource failed validation: it goes back to the head of the queue. */
  requeue(waiter: Waiter<T>): void {
    this.serving.delete(waiter);
    waiter.state = 'waiting';
    this.queue.unshift(waiter);
  }

  /** `dispose()`: stops the timer and settles every waiter, queued or being served; `reject` then rejects it. */
  abandon(reject: (waiter: Waiter<T>) => void): void {
    this.#timer.cancel();
    for (const waiter of [...this.queue.drain(), ...this.serving]) {
      waiter.state = 'serving'; // out of the queue already: settling must not uncount it again
      if (this.settle(waiter)) reject(waiter);
    }
    this.#deadlines.drain();
  }

  /** The shared timer fired: time out every waiter whose deadline has passed. */
  #expire(): void {
    const t = now();
    for (let waiter = this.#deadlines.peek(); waiter !== undefined; waiter = this.#deadlines.peek()) {
      // Timers have millisecond resolution: a deadline less than 1 ms away counts as reached.
      if (waiter.deadline - t >= 1) {
        // Rejecting the others may have taken milliseconds (an Error each): arm the next timer
        // from the clock now, not from when this pass began, or it would fire that much late.
        this.#timer.schedule(waiter.deadline, now());
        return;
      }
      this.#deadlines.shift();
      waiter.sharedDeadline = false;
      this.#onTimeout(waiter);
    }
    this.#timer.hold(false); // every waiter with a shared deadline has left
  }
}
