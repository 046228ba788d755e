/**
 * The callers waiting in `acquire()`: the queue in arrival order, the ones being served (their
 * resource is being validated), the pending count, the shared deadline timer for waiters using
 * the pool's `acquireTimeoutMs`, and every way a caller leaves without a resource (abort,
 * timeout, a failed creation, fail-fast, dispose), with its counter in the stats. Which waiter
 * gets what is decided by the pool's dispatch.
 *
 * @internal
 */
import { AbortError, AcquireTimeoutError, type PoolCounts } from './errors.js';
import type { StatsRecorder } from './stats.js';
import { DeadlineTimer } from './timer.js';
import { now } from './util.js';
import type { arrivalCount, Waiter } from './waiter.js';
import { PriorityWaiterQueue, WaiterQueue, type WaiterQueueLike } from './waiter-queue.js';

/** What the waiters need from the pool when a caller leaves without a resource. */
export interface WaitersOwner {
  /** The counts an `AcquireTimeoutError` quotes. */
  counts(): PoolCounts;
  /** The creation failure callers are waiting out, if any: a timed-out caller's `cause`. */
  readonly createFailure: unknown;
  /** A caller left unserved (timeout, abort): creation for it may stop, a resource kept back for it may go on. */
  waiterLeft(): void;
}

/** The error of an `acquire()` whose signal aborted. */
export function abortErrorOf(signal: AbortSignal): AbortError {
  return new AbortError('acquire() was aborted by its signal', { cause: signal.reason });
}

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
  readonly #owner: WaitersOwner;
  readonly #stats: StatsRecorder;

  constructor(acquireTimeoutMs: number, priorities: number, owner: WaitersOwner, stats: StatsRecorder) {
    this.queue = priorities === 1 ? new WaiterQueue<T>() : new PriorityWaiterQueue<T>(priorities);
    this.#sharedTimeoutMs = acquireTimeoutMs;
    this.#owner = owner;
    this.#stats = stats;
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

  /** The caller's signal aborted: it leaves with an `AbortError`. */
  abort(waiter: Waiter<T>): void {
    if (!this.settle(waiter)) return;
    this.#stats.aborted++;
    waiter.reject(abortErrorOf(waiter.signal!));
    this.#owner.waiterLeft();
  }

  /** Its timeout passed: it leaves with an `AcquireTimeoutError` quoting the counts as it left. */
  timeOut(waiter: Waiter<T>): void {
    if (waiter.state === 'settled') return;
    const counts = this.#owner.counts(); // taken before it leaves, so `pending` includes it
    this.settle(waiter);
    this.#stats.timedOut++;
    waiter.reject(new AcquireTimeoutError(waiter.timeoutMs, counts, this.#owner.createFailure));
    this.#owner.waiterLeft();
  }

  /**
   * A creation the oldest waiter counted on failed (or got no permit, `cause` `'budget'`): it gets
   * the error, if it arrived before `arrivedBefore` (an {@link arrivalCount} reading). False when
   * nobody waits, or it came later.
   */
  rejectOldest(error: unknown, arrivedBefore: number, cause: 'create' | 'budget'): boolean {
    const head = this.queue.peek();
    if (head === undefined || head.arrival >= arrivedBefore) return false;
    const waiter = this.queue.shift()!;
    waiter.state = 'serving';
    this.settle(waiter);
    if (cause === 'budget') this.#stats.rejectedBudgetUnavailable++;
    else this.#stats.rejectedCreateFailed++;
    waiter.reject(error);
    return true;
  }

  /** Fail-fast: rejects every queued waiter with `error`. */
  rejectAll(error: unknown): void {
    for (const waiter of this.queue.drain()) {
      waiter.state = 'serving';
      if (!this.settle(waiter)) continue;
      this.#stats.rejectedUnavailable++;
      waiter.reject(error);
    }
  }

  /** A waiter's resource failed validation: it goes back to the head of the queue. */
  requeue(waiter: Waiter<T>): void {
    this.serving.delete(waiter);
    waiter.state = 'waiting';
    this.queue.unshift(waiter);
  }

  /** `dispose({ drain: true })`: calls `done` (once) when no caller is pending any more; `undefined` cancels. */
  whenNonePending(done: (() => void) | undefined): void {
    this.onNonePending = done === undefined ? undefined : () => {
      this.onNonePending = undefined;
      done();
    };
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
      this.timeOut(waiter);
    }
    this.#timer.hold(false); // every waiter with a shared deadline has left
  }
}
