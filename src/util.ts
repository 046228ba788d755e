import { Countdown } from './timer.js';

/**
 * Small helpers shared by the pool's modules.
 *
 * @internal
 */

/**
 * The clock for deadlines and statistics. Read through the global at call time so that fake
 * timers (which replace `performance`) drive it in tests.
 */
export function now(): number {
  return performance.now();
}

/** Does nothing: a callback whose outcome is nobody's to see. */
export function noop(): void {}

/** Reading `then` may throw (a getter): call it inside a try. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * The timers that bound user callbacks (create, validate, reset and destroy timeouts). They never
 * keep the process alive, except while `dispose()` waits on what they bound ({@link CallTimers.hold}).
 */
export class CallTimers {
  readonly #live = new Set<Countdown>();
  #held = false;

  /** A timer for `ms` (`Infinity`: none), forgotten once it fires or is stopped. */
  start(ms: number, onFire: () => void): Countdown | undefined {
    if (ms === Infinity) return undefined;
    const timer: Countdown = new Countdown(ms, () => {
      this.#live.delete(timer);
      onFire();
    }, this.#held);
    this.#live.add(timer);
    return timer;
  }

  stop(timer: Countdown | undefined): void {
    if (timer === undefined) return;
    timer.cancel();
    this.#live.delete(timer);
  }

  /** Whether these timers (and those started later) keep the process alive. */
  hold(on: boolean): void {
    this.#held = on;
    for (const timer of this.#live) timer.hold(on);
  }
}

/**
 * Settles with the outcome of `result` (a callback's answer, already obtained), or with
 * `onTimeout()` after `timeoutMs`. A thenable is adopted as `await` would (its first settlement
 * counts; a `then` that throws afterwards is ignored).
 */
export function settleWithin<R>(result: R | PromiseLike<R>, timers: CallTimers, timeoutMs: number, onTimeout: () => Error): Promise<R> {
  const adopted = Promise.resolve(result);
  if (timeoutMs === Infinity) return adopted;
  return new Promise<R>((resolve, reject) => {
    const timer = timers.start(timeoutMs, () => reject(onTimeout()));
    adopted.then(
      (value) => {
        timers.stop(timer);
        resolve(value);
      },
      (error: unknown) => {
        timers.stop(timer);
        reject(error);
      },
    );
  });
}
