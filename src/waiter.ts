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

function onTimer<T>(waiter: Waiter<T>): void {
  waiter.timer = undefined;
  waiter.owner.onWaiterTimeout(waiter);
}

export class Waiter<T> {
  state: WaiterState = 'waiting';
  readonly promise: Promise<T>;
  resolve!: (resource: T) => void;
  reject!: (error: unknown) => void;
  /** A timer of its own, only for a per-call `timeoutMs`; shared-timeout waiters have none. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** True while it sits in the pool's shared-deadline queue. */
  sharedDeadline = false;
  /** Where `acquire()` was called; captured only with leak detection. */
  acquireStack: Error | undefined = undefined;

  constructor(
    readonly owner: WaiterOwner<T>,
    /** Clock reading when the caller started waiting, for wait-time statistics. */
    readonly enqueuedAt: number,
    /** Clock reading after which it times out; `Infinity` for none. */
    readonly deadline: number,
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

  /** Arms a timer of its own (per-call timeouts). The timer never keeps the process alive. */
  armTimer(delayMs: number): void {
    this.timer = setTimeout(onTimer<T>, delayMs, this);
    this.timer.unref?.();
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
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this);
    return true;
  }
}
