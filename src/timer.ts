/**
 * One `setTimeout` armed for the earliest of a moving set of deadlines. `schedule(at)` re-arms
 * only when `at` is earlier than what is armed, so adding later deadlines costs a comparison.
 * When it fires, the owner recomputes what is due and schedules the next deadline itself.
 * The timer is `unref()`'d: it never keeps the process alive.
 *
 * @internal
 */

// setTimeout fires at once for delays above 2^31-1 ms; cap it and let the owner re-arm.
/** @internal Longest delay setTimeout honours. */
export const MAX_DELAY_MS = 2_147_483_647;

export class DeadlineTimer {
  #handle: ReturnType<typeof setTimeout> | undefined = undefined;
  #at = Infinity;
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
    this.#handle.unref?.(); // fake timers may lack unref
  }

  cancel(): void {
    this.#clear();
    this.#handle = undefined;
    this.#at = Infinity;
  }

  // Node keeps the list of a cleared *unref'd* timer until its delay would have elapsed (it
  // expects such timers to come back), so re-arming with ever-different long delays piled up one
  // list per re-arm, for up to an hour. Ref'ing first makes clearTimeout drop the list; nothing
  // runs in between, so the process is never held open.
  #clear(): void {
    if (this.#handle === undefined) return;
    this.#handle.ref?.();
    clearTimeout(this.#handle);
  }
}
