import { Waiter, type Resolver } from './waiter.js';

/** The smallest ring, and what an emptied one goes back to. */
const MIN_CAPACITY = 16;

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
  /** When the oldest live waiter waits as slots: takes it out and returns its resolver (its clock reading in {@link shiftedAt}); otherwise undefined, and the queue is left as it was. */
  shiftPlain(): Resolver<T> | undefined;
  /** The enqueue time of the waiter {@link shiftPlain} returned last. */
  readonly shiftedAt: number;
  forget(waiter: Waiter<T>): void;
  drain(): Waiter<T>[];
}

/**
 * Waiters in arrival order, on a power-of-two ring of three parallel arrays.
 *
 * A plain `acquire()` (no signal, no timeout of its own, no priority, no stack to keep) waits as
 * three slots, not as an object: its promise's resolver, its clock reading and its arrival
 * number, the last two in `Float64Array`s. Compared with a {@link Waiter} per caller (64 B, plus
 * 16 B for its boxed clock reading, plus a slot), that is 56 B less per waiting acquire and
 * nothing for the garbage collector to trace; the pool hands such a waiter its resource straight
 * from the slots ({@link shiftPlain}). Whenever the pool needs a waiter by identity (to validate
 * a resource for it, to time it out, to reject it), {@link peek}, {@link shift} and {@link drain}
 * turn the slots into a `Waiter` first, in place, so the rest of the pool sees objects only.
 *
 * Cancelling a waiter (timeout, abort) is O(1): it is marked settled and left in place as a
 * tombstone that `peek`/`shift` skip. Only objects can be cancelled (slots are never reachable
 * from outside). When tombstones outnumber live waiters the queue is compacted, which keeps
 * memory bounded and the cost amortised O(1) even when callers keep cancelling behind a head
 * that never moves.
 *
 * @internal
 */
export class WaiterQueue<T> implements WaiterQueueLike<T> {
  /** A `Waiter`, or the resolver of a waiter held as slots; undefined when free. */
  #items: (Waiter<T> | Resolver<T> | undefined)[];
  /** Clock reading of a waiter held as slots. */
  #times: Float64Array;
  /** Arrival number of a waiter held as slots. */
  #arrivals: Float64Array;
  #mask: number;
  #head = 0;
  /** Slots in use, tombstones included. */
  #length = 0;
  #live = 0;
  shiftedAt = 0;

  constructor() {
    // Filled, not left with holes: V8 still calls the array holey, but push and shift on a filled
    // ring measured ~10 % faster than on an unfilled one (200 × 10k push/shift, Node 20).
    this.#items = new Array<Waiter<T> | Resolver<T> | undefined>(MIN_CAPACITY).fill(undefined);
    this.#times = new Float64Array(MIN_CAPACITY);
    this.#arrivals = new Float64Array(MIN_CAPACITY);
    this.#mask = MIN_CAPACITY - 1;
  }

  /** Live (not settled) waiters in the queue. */
  get length(): number {
    return this.#live;
  }

  /** Slots in use, tombstones included; exposed for tests of compaction. */
  get slots(): number {
    return this.#length;
  }

  /** Slots allocated; exposed for tests of shrinking. */
  get capacity(): number {
    return this.#items.length;
  }

  push(waiter: Waiter<T>): void {
    this.#pushSlot(waiter, 0, 0);
    this.#live++;
  }

  /** Queues a plain waiter as slots: its resolver, its clock reading and its arrival number. */
  pushPlain(resolve: Resolver<T>, enqueuedAt: number, arrival: number): void {
    this.#pushSlot(resolve, enqueuedAt, arrival);
    this.#live++;
  }

  /**
   * Puts a waiter back at the front: it keeps its place when the resource it was given proved
   * invalid. Waiters put back before it may be older (their checks failed later): it goes after
   * those, which are all at the front, so the queue stays in arrival order.
   */
  unshift(waiter: Waiter<T>): void {
    const older: Waiter<T>[] = [];
    for (let head = this.#front(); head !== undefined && (head.state === 'settled' || head.arrival < waiter.arrival); head = this.#front()) {
      this.#takeFront();
      if (head.state !== 'settled') older.push(head);
    }
    this.#unshiftSlot(waiter);
    for (let i = older.length - 1; i >= 0; i--) this.#unshiftSlot(older[i]!);
    this.#live++;
  }

  /** The oldest live waiter, left in place. */
  peek(): Waiter<T> | undefined {
    this.#dropSettledHead();
    return this.#front();
  }

  /** Removes and returns the oldest live waiter. */
  shift(): Waiter<T> | undefined {
    this.#dropSettledHead();
    const waiter = this.#front();
    if (waiter === undefined) return undefined;
    this.#takeFront();
    this.#live--;
    return waiter;
  }

  shiftPlain(): Resolver<T> | undefined {
    let item = this.#items[this.#head];
    // A tombstone at the front (rare: a waiter that timed out or aborted, left in place) is
    // dropped by a call, so that the common case stays small enough to inline on release.
    if (typeof item !== 'function') {
      if (item === undefined || item.state !== 'settled') return undefined;
      this.#dropSettledHead();
      item = this.#items[this.#head];
      if (typeof item !== 'function') return undefined;
    }
    this.shiftedAt = this.#times[this.#head]!;
    this.#takeFront();
    this.#live--;
    return item;
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
    if (this.#length >= 64 && this.#live * 2 < this.#length) this.#compact();
  }

  /** Removes every live waiter and returns them in arrival order. */
  drain(): Waiter<T>[] {
    const waiters: Waiter<T>[] = [];
    for (let i = 0; i < this.#length; i++) {
      const waiter = this.#waiterAt((this.#head + i) & this.#mask);
      if (waiter.state !== 'settled') waiters.push(waiter);
    }
    this.#reset(MIN_CAPACITY);
    this.#live = 0;
    return waiters;
  }

  /** The front slot as a `Waiter` (made from its slots, in place, if it is held as slots). */
  #front(): Waiter<T> | undefined {
    return this.#length === 0 ? undefined : this.#waiterAt(this.#head);
  }

  #waiterAt(index: number): Waiter<T> {
    const item = this.#items[index]!;
    if (typeof item !== 'function') return item;
    const waiter = new Waiter<T>(this.#times[index]!, item, this.#arrivals[index]!);
    this.#items[index] = waiter;
    return waiter;
  }

  #dropSettledHead(): void {
    while (this.#length !== 0) {
      const item = this.#items[this.#head]!;
      if (typeof item === 'function' || item.state !== 'settled') return;
      this.#takeFront();
    }
  }

  #pushSlot(item: Waiter<T> | Resolver<T>, enqueuedAt: number, arrival: number): void {
    if (this.#length === this.#items.length) this.#resize(this.#items.length * 2);
    const index = (this.#head + this.#length) & this.#mask;
    this.#items[index] = item;
    this.#times[index] = enqueuedAt;
    this.#arrivals[index] = arrival;
    this.#length++;
  }

  #unshiftSlot(waiter: Waiter<T>): void {
    if (this.#length === this.#items.length) this.#resize(this.#items.length * 2);
    this.#head = (this.#head - 1) & this.#mask;
    this.#items[this.#head] = waiter;
    this.#length++;
  }

  #takeFront(): void {
    this.#items[this.#head] = undefined; // drop the reference so the waiter can be collected
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    // After a burst (100k waiters), give the memory back once the queue is mostly empty.
    // Shrinking to a quarter once under an eighth full keeps the cost amortised O(1) (the new
    // ring is at least half empty, so growing again is far off).
    if (this.#items.length > 1024 && this.#length < this.#items.length >>> 3) this.#resize(this.#items.length >>> 2);
  }

  /** Keeps the live slots only, in order: O(n), amortised O(1) per cancellation. */
  #compact(): void {
    let size = MIN_CAPACITY;
    while (size < this.#live) size *= 2;
    this.#rebuild(size, true);
  }

  #resize(size: number): void {
    this.#rebuild(size, false);
  }

  /** Moves the slots, in order, into a ring of `size`; without the tombstones when `compact`. */
  #rebuild(size: number, compact: boolean): void {
    const items = this.#items;
    const times = this.#times;
    const arrivals = this.#arrivals;
    const mask = this.#mask;
    const head = this.#head;
    const length = this.#length;
    this.#reset(size);
    for (let i = 0; i < length; i++) {
      const index = (head + i) & mask;
      const item = items[index]!;
      if (compact && typeof item !== 'function' && item.state === 'settled') continue;
      this.#pushSlot(item, times[index]!, arrivals[index]!);
    }
  }

  #reset(size: number): void {
    this.#items = new Array<Waiter<T> | Resolver<T> | undefined>(size).fill(undefined);
    this.#times = new Float64Array(size);
    this.#arrivals = new Float64Array(size);
    this.#mask = size - 1;
    this.#head = 0;
    this.#length = 0;
  }
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

  /** Its waiters are always objects (a priority is more than the plain case). */
  shiftPlain(): undefined {
    return undefined;
  }

  readonly shiftedAt = 0;

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
