/**
 * The pool's timers. Two rules hold for every one of them:
 *
 * - A timer fires when its duration says. `setTimeout` fires a delay above 2^31−1 ms (about
 *   24.8 days) after 1 ms; a longer timer here is armed in steps of at most that and re-armed
 *   until its deadline is reached.
 * - A timer never keeps the process alive, unless its owner holds it (`hold(true)`): the pool
 *   does so only while someone awaits what the timer will settle (a waiter with a finite
 *   timeout, a pending `dispose()`).
 *
 * @internal
 */

/** The longest delay `setTimeout` honours. */
export const MAX_DELAY_MS = 2_147_483_647;

// Clock for deadlines. Read through the global at call time so that fake timers (which replace
// `performance`) drive it in tests.
function now(): number {
  return performance.now();
}

type Handle = ReturnType<typeof setTimeout>;

/**
 * Clears `handle`. Node keeps the list of a cleared *unref'd* timer until its delay would have
 * elapsed (it expects such timers to come back), so re-arming with ever-different long delays
 * piled up one list per re-arm, for up to an hour. Ref'ing first makes clearTimeout drop the
 * list; nothing runs in between, so the process is never held open.
 */
export function dropTimer(handle: Handle): void {
  handle.ref?.(); // fake timers may lack ref/unref
  clearTimeout(handle);
}

/**
 * One `setTimeout` armed for the earliest of a moving set of deadlines. `schedule(at)` re-arms
 * only when `at` is earlier than what is armed, so adding later deadlines costs a comparison.
 * When it fires, the owner recomputes what is due and schedules the next deadline itself (a
 * deadline beyond {@link MAX_DELAY_MS} fires early, and the owner finds nothing due yet).
 */
export class DeadlineTimer {
  #handle: Handle | undefined = undefined;
  #at = Infinity;
  #held = false;
  readonly #onFire: () => void;

  constructor(onFire: () => void) {
    this.#onFire = onFire;
  }

  /** The deadline currently armed, or `Infinity`. */
  get armedAt(): number {
    return this.#at;
  }

  /** Makes sure the timer fires no later than `at` (clock milliseconds), given the clock reads `now`. */
  schedule(at: number, now: number): void {
    if (!(at < this.#at)) return; // also ignores NaN and Infinity
    this.#clear();
    this.#at = at;
    const delay = Math.min(Math.max(Math.ceil(at - now), 0), MAX_DELAY_MS);
    this.#handle = setTimeout(() => {
      this.#handle = undefined;
      this.#at = Infinity;
      this.#onFire();
    }, delay);
    if (!this.#held) this.#handle.unref?.();
  }

  /** Whether the armed timer (and any armed later) keeps the process alive. */
  hold(on: boolean): void {
    if (this.#held === on) return;
    this.#held = on;
    if (this.#handle === undefined) return;
    if (on) this.#handle.ref?.();
    else this.#handle.unref?.();
  }

  /** Disarms it; it no longer holds the process either. */
  cancel(): void {
    this.#clear();
    this.#handle = undefined;
    this.#at = Infinity;
    this.#held = false;
  }

  #clear(): void {
    if (this.#handle !== undefined) dropTimer(this.#handle);
  }
}

/**
 * A one-shot timer for any duration ≥ 0 (`Infinity` never fires): `onFire` runs once, `ms`
 * after it was made, unless cancelled first. Unref'd unless held.
 */
export class Countdown {
  #handle: Handle | undefined = undefined;
  #held = false;
  readonly #at: number;
  readonly #onFire: () => void;

  constructor(ms: number, onFire: () => void, held = false) {
    this.#onFire = onFire;
    this.#held = held;
    this.#at = now() + ms;
    if (ms !== Infinity) this.#arm(ms);
  }

  /** Whether it keeps the process alive until it fires. */
  hold(on: boolean): void {
    this.#held = on;
    if (this.#handle === undefined) return;
    if (on) this.#handle.ref?.();
    else this.#handle.unref?.();
  }

  cancel(): void {
    if (this.#handle === undefined) return;
    dropTimer(this.#handle);
    this.#handle = undefined;
  }

  #arm(delay: number): void {
    this.#handle = setTimeout(() => this.#fire(), Math.min(Math.max(Math.ceil(delay), 0), MAX_DELAY_MS));
    if (!this.#held) this.#handle.unref?.();
  }

  #fire(): void {
    // Timers have millisecond resolution: less than 1 ms left counts as reached.
    const left = this.#at - now();
    if (left >= 1) {
      this.#arm(left); // a step of a long timer
      return;
    }
    this.#handle = undefined;
    this.#onFire();
  }
}
