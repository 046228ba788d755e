/**
 * A caller parked in `acquire()`: its promise, its deadline, and how it can be cancelled.
 *
 * @internal
 */

/**
 * `waiting`: in the queue. `serving`: a resource was picked for it and is being validated.
 * `settled`: its promise is resolved or rejected; any queue still holding it skips it.
 */
export type WaiterState = 'waiting' | 'serving' | 'settled';

/** What a waiter calls back into when its signal aborts or its own timer fires. */
export interface WaiterOwner<T> {
  onWaiterAbort(waiter: Waiter<T>): void;
  onWaiterTimeout(waiter: Waiter<T>): void;
}

/** Arrival order across every pool; a clock reading can tie. */
let arrivals = 0;

/** The `arrival` the next waiter will get: every waiter created so far has a smaller one. */
export function arrivalCount(): number {
  return arrivals;
}

/** The longest delay `setTimeout` honours; a longer one fires after 1 ms. */
const MAX_DELAY_MS = 2_147_483_647;

function onTimer<T>(waiter: Waiter<T>): void {
  waiter.timer = undefined;
  // A timeout above MAX_DELAY_MS is armed in steps (and timers have millisecond resolution:
  // less than 1 ms left counts as reached).
  const left = waiter.deadline - performance.now();
  if (left >= 1) waiter.armTimer(left);
  else waiter.owner.onWaiterTimeout(waiter);
}

export class Waiter<T> {
  /** Arrival order: a smaller number arrived earlier. */
  readonly arrival = arrivals++;
  state: WaiterState = 'waiting';
  readonly promise: Promise<T>;
  resolve!: (resource: T) => void;
  reject!: (error: unknown) => void;
  /** A timer of its own, only for a per-call `timeoutMs`; shared-timeout waiters have none. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** True while it sits in the pool's shared-deadline queue. */
  sharedDeadline = false;
  /** Its priority level (0 is the highest); only pools with `priorities` > 1 set it. */
  priority = 0;
  /** Where `acquire()` was called; captured only with leak detection. */
  acquireStack: Error | undefined = undefined;

  constructor(
    readonly owner: WaiterOwner<T>,
    /** Clock reading when the caller started waiting, for wait-time statistics. */
    readonly enqueuedAt: number,
    /** How long it may wait, in milliseconds; `Infinity` for no timeout. */
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // The waiter is its own abort listener (`handleEvent`), so no closure is allocated per call.
    if (signal !== undefined) signal.addEventListener('abort', this, { once: true });
  }

  /**
   * Clock reading after which it times out; `Infinity` for none. Computed rather than stored: a
   * stored clock reading is a boxed double, 24 B more per waiter (2.4 MB for 100k waiters).
   */
  get deadline(): number {
    return this.enqueuedAt + this.timeoutMs;
  }

  /**
   * Arms a timer of its own (per-call timeouts). It keeps the process alive while the caller
   * waits: every acquire with a finite timeout settles (the timer goes when the waiter settles).
   */
  armTimer(delayMs: number): void {
    this.timer = setTimeout(onTimer<T>, Math.min(Math.ceil(delayMs), MAX_DELAY_MS), this);
  }

  /** Abort listener. */
  handleEvent(): void {
    this.owner.onWaiterAbort(this);
  }

  /**
   * Marks it settled and drops its timer and abort listener. Returns false when it already was,
   * so every settling path can simply ask `if (!waiter.finish()) return`.
   */
  finish(): boolean {
    if (this.state === 'settled') return false;
    this.state = 'settled';
    if (this.timer !== undefined) {
      clearTimeout(this.timer); // ref'd, so Node drops its list at once (see dropTimer)
      this.timer = undefined;
    }
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this);
    return true;
  }
}
