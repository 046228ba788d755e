import { Deque } from './deque.js';
import type { Waiter } from './waiter.js';

/**
 * What the pool needs of its queue of waiters: {@link WaiterQueue} (one arrival-order queue, the
 * default) or {@link PriorityWaiterQueue} (one such queue per priority level).
 *
 * @internal
 */
export interface WaiterQueueLike<T> {
  readonly length: number;
  push(waiter: Waiter<T>): void;
  unshift(waiter: Waiter<T>): void;
  peek(): Waiter<T> | undefined;
  shift(): Waiter<T> | undefined;
  forget(waiter: Waiter<T>): void;
  drain(): Waiter<T>[];
}

/**
 * Waiters in arrival order. Cancelling one (timeout, abort) is O(1): it is marked settled and
 * left in place as a tombstone that `peek`/`shift` skip. When tombstones outnumber live waiters
 * the queue is compacted, which keeps memory bounded and the cost amortised O(1) even when
 * callers keep cancelling behind a head that never moves.
 *
 * @internal
 */
export class WaiterQueue<T> implements WaiterQueueLike<T> {
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

  /**
   * Tells the queue that one of its waiters settled elsewhere and is now a tombstone. (`waiter`
   * is for {@link PriorityWaiterQueue}, which must know its level; this queue does not need it.)
   */
  forget(_waiter?: Waiter<T>): void {
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

/**
 * Waiters by priority, then in arrival order: one {@link WaiterQueue} per priority level (0 is
 * the highest), each created the first time a waiter of that level arrives. `shift` takes the
 * oldest waiter of the highest non-empty level, so a waiter never waits behind one of lower
 * priority, and within a level the order is strict FIFO.
 *
 * Costs: push, unshift and forget are the level queue's O(1) (amortised) plus one array read;
 * `shift`/`peek` skip empty levels from a cursor on the highest level that may hold waiters, so
 * they cost O(1) plus at most the number of levels, a constant fixed at construction. With
 * `priorities: 1` the pool does not use this class at all.
 *
 * @internal
 */
export class PriorityWaiterQueue<T> implements WaiterQueueLike<T> {
  readonly #levels: (WaiterQueue<T> | undefined)[];
  #live = 0;
  /** No level above this one holds a live waiter. */
  #top: number;

  constructor(levels: number) {
    this.#levels = new Array<WaiterQueue<T> | undefined>(levels).fill(undefined);
    this.#top = levels;
  }

  /** Live waiters across every level. */
  get length(): number {
    return this.#live;
  }

  push(waiter: Waiter<T>): void {
    this.#level(waiter.priority).push(waiter);
    this.#live++;
  }

  unshift(waiter: Waiter<T>): void {
    this.#level(waiter.priority).unshift(waiter);
    this.#live++;
  }

  peek(): Waiter<T> | undefined {
    return this.#head()?.peek();
  }

  shift(): Waiter<T> | undefined {
    const waiter = this.#head()?.shift();
    if (waiter !== undefined) this.#live--;
    return waiter;
  }

  forget(waiter: Waiter<T>): void {
    this.#levels[waiter.priority]!.forget();
    this.#live--;
  }

  /** Removes every live waiter; returns them highest priority first, each level in arrival order. */
  drain(): Waiter<T>[] {
    const all: Waiter<T>[] = [];
    for (const level of this.#levels) if (level !== undefined && level.length !== 0) all.push(...level.drain());
    this.#live = 0;
    this.#top = this.#levels.length;
    return all;
  }

  #level(priority: number): WaiterQueue<T> {
    let level = this.#levels[priority];
    if (level === undefined) level = this.#levels[priority] = new WaiterQueue<T>();
    if (priority < this.#top) this.#top = priority;
    return level;
  }

  #head(): WaiterQueue<T> | undefined {
    const levels = this.#levels;
    for (; this.#top < levels.length; this.#top++) {
      const level = levels[this.#top];
      if (level !== undefined && level.length !== 0) return level;
    }
    return undefined;
  }
}
