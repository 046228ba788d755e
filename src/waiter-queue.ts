import { Deque } from './deque.js';
import type { Waiter } from './waiter.js';

/**
 * Waiters in arrival order. Cancelling one (timeout, abort) is O(1): it is marked settled and
 * left in place as a tombstone that `peek`/`shift` skip. When tombstones outnumber live waiters
 * the queue is compacted, which keeps memory bounded and the cost amortised O(1) even when
 * callers keep cancelling behind a head that never moves.
 *
 * @internal
 */
export class WaiterQueue<T> {
  #items = new Deque<Waiter<T>>();
  #live = 0;

  /** Live (not settled) waiters in the queue. */
  get length(): number {
    return this.#live;
  }

  /** Slots in use, tombstones included; exposed for tests of compaction. */
  get slots(): number {
    return this.#items.length;
  }

  push(waiter: Waiter<T>): void {
    this.#items.push(waiter);
    this.#live++;
  }

  /** Puts a waiter back at the front: it keeps its place when the resource it was given proved invalid. */
  unshift(waiter: Waiter<T>): void {
    this.#items.unshift(waiter);
    this.#live++;
  }

  /** The oldest live waiter, left in place. */
  peek(): Waiter<T> | undefined {
    this.#dropSettledHead();
    return this.#items.peekFront();
  }

  /** Removes and returns the oldest live waiter. */
  shift(): Waiter<T> | undefined {
    this.#dropSettledHead();
    const waiter = this.#items.shift();
    if (waiter !== undefined) this.#live--;
    return waiter;
  }

  /** Tells the queue that one of its waiters settled elsewhere and is now a tombstone. */
  forget(): void {
    this.#live--;
    const slots = this.#items.length;
    if (slots >= 64 && this.#live * 2 < slots) this.#items.retain(isLive);
  }

  /** Removes every live waiter and returns them in arrival order. */
  drain(): Waiter<T>[] {
    this.#live = 0;
    return this.#items.drain().filter(isLive);
  }

  #dropSettledHead(): void {
    let head = this.#items.peekFront();
    while (head !== undefined && head.state === 'settled') {
      this.#items.shift();
      head = this.#items.peekFront();
    }
  }
}

function isLive<T>(waiter: Waiter<T>): boolean {
  return waiter.state !== 'settled';
}
