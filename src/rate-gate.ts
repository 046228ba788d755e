/**
 * `createRatePerSec`: at most `cap` starts in any window of `intervalMs` (a sliding window, so a
 * failover cannot start a burst at a window's edge). Starts that must wait are queued in order and
 * let through by one timer, which never keeps the process alive: an idle pool with a rate limit
 * holds nothing (whoever waits for a creation holds the process through its own timeout).
 *
 * @internal
 */
import { Deque } from './deque.js';
import { Countdown } from './timer.js';
import { now } from './util.js';

export class RateGate {
  readonly #cap: number;
  readonly #intervalMs: number;
  /** When the starts of the current window happened (at most `cap`), oldest first. */
  readonly #starts = new Deque<number>();
  /** Starts waiting for the window to allow them, in order. */
  readonly #waiting = new Deque<() => void>();
  #timer: Countdown | undefined = undefined;

  /** `ratePerSec`: a number > 0; `cap` starts per `cap / ratePerSec` seconds. */
  constructor(ratePerSec: number) {
    this.#cap = Math.max(1, Math.round(ratePerSec));
    this.#intervalMs = Math.round((this.#cap / ratePerSec) * 1000);
  }

  /** Starts waiting to pass. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `start` now if the window allows, else once it does (after the starts queued before it). */
  pass(start: () => void): void {
    if (this.#waiting.length === 0 && this.#take(now())) {
      start();
      return;
    }
    this.#waiting.push(start);
    this.#arm();
  }

  /** Drops every start still waiting and returns them, in order; their functions never run. */
  clear(): (() => void)[] {
    this.#timer?.cancel();
    this.#timer = undefined;
    return this.#waiting.drain();
  }

  /** Records a start at `t` if the window allows one. */
  #take(t: number): boolean {
    const starts = this.#starts;
    // Starts that left the window are dropped, so memory follows the recent rate, not the cap.
    // Timers have millisecond resolution: less than 1 ms short of the window counts as out of it.
    while (starts.length !== 0 && this.#intervalMs - (t - starts.peekFront()!) < 1) starts.shift();
    if (starts.length >= this.#cap) return false;
    starts.push(t);
    return true;
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#starts.peekFront()! + this.#intervalMs - now());
    this.#timer = new Countdown(wait, () => {
      this.#timer = undefined;
      this.#release();
    });
  }

  #release(): void {
    const t = now();
    while (this.#waiting.length !== 0 && this.#take(t)) this.#waiting.shift()!();
    if (this.#waiting.length !== 0) this.#arm();
  }
}
