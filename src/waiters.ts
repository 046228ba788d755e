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
import { nextArrival, type arrivalCount, type Resolver, type Waiter } from './waiter.js';
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
  /** The pool's `acquireTimeoutMs`: waiters using it share one deadline timer. */
  readonly #sharedTimeoutMs: number;
  readonly #sharedFinite: boolean;
  /**
   * Waiters using the shared timeout have deadlines that ascend in arrival order, so one timer set
   * for the oldest covers them all (O(1) timers however many wait). While every pending waiter
   * uses it and the queue is the plain one, the queue itself is in deadline order and this is
   * undefined: a queued acquire enters one queue, not two. The first waiter with a timeout of its
   * own (or none) brings this separate queue in, built from the waiters pending then; it stays
   * until nobody is pending. With `priorities` > 1 it is always there.
   */
  #deadlines: WaiterQueue<T> | undefined;
  /** Pending waiters the shared deadline covers: the timer holds the process while any is. */
  #sharedPending = 0;
  readonly #timer = new DeadlineTimer(() => this.#expire());
  readonly #plainQueue: boolean;
  /** {@link Waiters.queue} when it is the plain one: waiters held as slots go there. */
  readonly #slots: WaiterQueue<T> | undefined;
  readonly #owner: WaitersOwner;
  readonly #stats: StatsRecorder;

  constructor(acquireTimeoutMs: number, priorities: number, owner: WaitersOwner, stats: StatsRecorder) {
    this.#plainQueue = priorities === 1;
    this.#slots = this.#plainQueue ? new WaiterQueue<T>() : undefined;
    this.queue = this.#slots ?? new PriorityWaiterQueue<T>(priorities);
    this.#deadlines = this.#plainQueue ? undefined : new WaiterQueue<T>();
    this.#sharedTimeoutMs = acquireTimeoutMs;
    this.#sharedFinite = acquireTimeoutMs !== Infinity;
    this.#owner = owner;
    this.#stats = stats;
  }

  /** How long `waiter` may wait, in milliseconds; `Infinity` for no timeout. */
  timeoutOf(waiter: Waiter<T>): number {
    return waiter.extra === undefined ? this.#sharedTimeoutMs : waiter.extra.timeoutMs;
  }

  /**
   * Whether the shared deadline timer covers `waiter` (the pool's finite `acquireTimeoutMs`).
   * Computed, not a flag, to keep waiters small; `add` and `settle` ask it once each per waiter.
   */
  #hasSharedDeadline(waiter: Waiter<T>): boolean {
    return this.#sharedFinite && (waiter.extra === undefined || waiter.extra.timeoutMs === this.#sharedTimeoutMs);
  }

  /** Queues `waiter`, which arrived at `t` (its `enqueuedAt`), and arms its deadline. */
  add(waiter: Waiter<T>, t: number): void {
    this.pending++;
    this.queue.push(waiter);
    if (this.#hasSharedDeadline(waiter)) {
      if (this.#deadlines !== undefined) this.#deadlines.push(waiter);
      if (++this.#sharedPending === 1) this.#armShared(t);
      return;
    }
    const timeoutMs = this.timeoutOf(waiter);
    if (timeoutMs !== Infinity) waiter.extra!.armTimer(timeoutMs);
    // It may wait longer than the waiters behind it: the queue is no longer in deadline order.
    if (this.#deadlines === undefined && this.#sharedFinite) this.#separateDeadlines();
  }

  /**
   * Whether a plain `acquire()` (no signal, no timeout of its own, no priority, no stack) may wait
   * as slots of the queue ({@link Waiters.addPlain}): while the queue is the plain one and is
   * itself in deadline order. Once the separate deadline queue is in, which holds waiters by
   * identity, every waiter is an object until nobody is pending.
   */
  get acceptsPlain(): boolean {
    return this.#deadlines === undefined;
  }

  /**
   * Queues a plain waiter as slots (see `WaiterQueue`), which arrived at `t`, and arms its
   * deadline. Only while {@link Waiters.acceptsPlain}.
   */
  addPlain(resolve: Resolver<T>, t: number): void {
    this.pending++;
    this.#slots!.pushPlain(resolve, t, nextArrival());
    // Its deadline comes after every other shared one: the timer needs arming only when idle.
    if (this.#sharedFinite && ++this.#sharedPending === 1) this.#armShared(t);
  }

  /**
   * The first waiter on the shared deadline: hold the process (a waiter with a finite timeout
   * keeps it alive while it waits) and arm the timer for it. While any is pending the timer stays
   * armed, for a deadline no later than the earliest (it fires, and `#expire` arms it for the
   * next), and a waiter arriving later has a later deadline: it needs no arming.
   */
  #armShared(t: number): void {
    this.#timer.hold(true);
    this.#timer.schedule(t + this.#sharedTimeoutMs, t);
  }

  /** Bookkeeping for a plain waiter the pool took out of the queue with `shiftPlain()` to serve it. */
  settlePlain(): void {
    this.#left(this.#sharedFinite);
  }

  /**
   * Bookkeeping for a waiter leaving, however it leaves. Returns false if it already had.
   * The caller then resolves or rejects its promise.
   */
  settle(waiter: Waiter<T>): boolean {
    const state = waiter.state;
    if (!waiter.finish()) return false;
    if (state === 'waiting') this.queue.forget(waiter);
    else if (this.serving.size !== 0) this.serving.delete(waiter);
    const shared = this.#hasSharedDeadline(waiter);
    if (shared && this.#deadlines !== undefined) this.#deadlines.forget();
    this.#left(shared);
    return true;
  }

  /** A pending caller left: `shared` when the shared deadline covered it. */
  #left(shared: boolean): void {
    if (shared && --this.#sharedPending === 0) this.#timer.hold(false); // no finite timeout left to honour
    if (--this.pending === 0) {
      if (this.#plainQueue) this.#deadlines = undefined; // the (empty) queue is in deadline order again
      if (this.onNonePending !== undefined) this.onNonePending();
    }
  }

  /** The caller's signal aborted: it leaves with an `AbortError`. */
  abort(waiter: Waiter<T>): void {
    if (this.abortQuietly(waiter)) this.#owner.waiterLeft();
  }

  /**
   * {@link abort}, without telling the owner: for the pool, when it finds an aborted caller while
   * it holds a resource to place (it tells itself once the resource is placed). False if the
   * caller had already left.
   */
  abortQuietly(waiter: Waiter<T>): boolean {
    if (!this.settle(waiter)) return false;
    this.#stats.aborted++;
    waiter.reject(abortErrorOf(waiter.extra!.signal!));
    return true;
  }

  /** Its timeout passed: it leaves with an `AcquireTimeoutError` quoting the counts as it left. */
  timeOut(waiter: Waiter<T>): void {
    if (waiter.state === 'settled') return;
    this.#timeOutWith(waiter, this.#owner.createFailure);
    this.#owner.waiterLeft();
  }

  /** Settles `waiter` with an `AcquireTimeoutError` whose `cause` is `cause`, without telling the owner. */
  #timeOutWith(waiter: Waiter<T>, cause: unknown): void {
    const counts = this.#owner.counts(); // taken before it leaves, so `pending` includes it
    this.settle(waiter);
    this.#stats.timedOut++;
    waiter.reject(new AcquireTimeoutError(this.timeoutOf(waiter), counts, cause));
  }

  /**
   * A creation the oldest waiter counted on failed (or got no permit, `cause` `'budget'`): it gets
   * the error, if it arrived before `arrivedBefore` (an {@link arrivalCount} reading). False when
   * nobody waits, or it came later. If its deadline has come, it times out instead, with the error
   * as the `cause`, and false is returned, so the failure is reported as one no caller got: its
   * timer is due in this same turn, and which of the two Node runs first (a creation bounded by the
   * same timeout fails at that moment) must not decide what the caller gets, nor what is reported.
   */
  rejectOldest(error: unknown, arrivedBefore: number, cause: 'create' | 'budget'): boolean {
    const head = this.queue.peek();
    if (head === undefined || head.arrival >= arrivedBefore) return false;
    const waiter = this.queue.shift()!;
    waiter.state = 'serving';
    // Its signal aborted, but a listener stopped the event before the pool's own ran: it leaves
    // with its AbortError, and the failure is reported as one no caller got.
    if (waiter.aborted) {
      this.abortQuietly(waiter);
      return false;
    }
    // Timers have millisecond resolution: a deadline less than 1 ms away counts as reached.
    if (waiter.enqueuedAt + this.timeoutOf(waiter) - now() < 1) {
      this.#timeOutWith(waiter, error);
      return false;
    }
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
    this.#deadlines?.drain();
  }

  /**
   * Brings in the separate deadline queue, with the waiters pending on the shared timeout, those
   * being validated and the queue's, merged in arrival order (a waiter put back after a failed
   * check may be older than one still being validated). O(pending) once; it stays until nobody is
   * pending, so each waiter takes part in at most one such copy.
   */
  #separateDeadlines(): void {
    const deadlines = new WaiterQueue<T>();
    const add = (waiter: Waiter<T>): void => {
      if (this.#hasSharedDeadline(waiter)) deadlines.push(waiter);
    };
    const serving = [...this.serving].sort((a, b) => a.arrival - b.arrival);
    let next = 0;
    for (const waiter of this.queue.drain()) {
      while (next < serving.length && serving[next]!.arrival < waiter.arrival) add(serving[next++]!);
      this.queue.push(waiter);
      add(waiter);
    }
    while (next < serving.length) add(serving[next++]!);
    this.#deadlines = deadlines;
  }

  /** The pending waiter with the earliest shared deadline, if any. */
  #earliestShared(): Waiter<T> | undefined {
    if (this.#deadlines !== undefined) return this.#deadlines.peek();
    if (this.#sharedPending === 0) return undefined;
    // Every pending waiter uses the shared timeout, so the oldest arrival has the earliest
    // deadline: the queue's head, or one being validated (which may be younger than the head,
    // when the head was put back after a failed check).
    let oldest = this.queue.peek();
    for (const waiter of this.serving) if (oldest === undefined || waiter.arrival < oldest.arrival) oldest = waiter;
    return oldest;
  }

  /** The shared timer fired: time out every waiter whose deadline has passed. */
  #expire(): void {
    const t = now();
    // Timing one out runs the pool's dispatch, and user code with it: each turn looks afresh.
    for (let waiter = this.#earliestShared(); waiter !== undefined; waiter = this.#earliestShared()) {
      const deadline = waiter.enqueuedAt + this.#sharedTimeoutMs;
      // Timers have millisecond resolution: a deadline less than 1 ms away counts as reached.
      if (deadline - t >= 1) {
        // Rejecting the others may have taken milliseconds (an Error each): arm the next timer
        // from the clock now, not from when this pass began, or it would fire that much late.
        this.#timer.schedule(deadline, now());
        return;
      }
      this.timeOut(waiter); // settles it, which uncounts its shared deadline
    }
  }
}
