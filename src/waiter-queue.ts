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

  /**
   * Puts a waiter back at the front: it keeps its place when the resource it was given proved
   * invalid. Waiters put back before it may be older (their checks failed later): it goes after
   * those, which are all at the front, so the queue stays in arrival order.
   */
  unshift(waiter: Waiter<T>): void {
    const older: Waiter<T>[] = [];
    for (let head = this.#items.peekFront(); head !== undefined && (head.state === 'settled' || head.arrival < waiter.arrival); head = this.#items.peekFront()) {
      this.#items.shift();
      if (head.state !== 'settled') older.push(head);
    }
    this.#items.unshift(waiter);
    for (let i = older.length - 1; i >= 0; i--) this.#items.unshift(older[i]!);
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
    // Most often the one that left is the oldest (served in arrival order, or the first to time
    // out): dropping settled heads now is O(1), and leaves compaction, an O(n) copy, to
    // waiters that leave out of order. Without it, the pool's shared-deadline queue, which
    // only shifts when its timer fires, was compacted every few hundred hand-overs.
    this.#dropSettledHead();
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
