/**
 * The floor: the physical least an awaited pool can cost in Node. Idle resources on an array
 * stack handed out as `Promise.resolve(idle.pop())`; waiters' resolvers in a ring buffer, each
 * parked with `new Promise((resolve) => ring.push(resolve))`; creation up to `max` on demand.
 * `acquire` is deliberately not an `async` function: that would wrap every result in one more
 * promise and, for a waiter, add microtask turns, a cost no pool has to pay. No timeouts, no
 * validation, no double-release check, no statistics. Every pool is measured against it.
 */

/** A first-in first-out ring buffer that doubles when full; O(1) push and shift. */
class Ring<V> {
  #items: (V | undefined)[] = new Array<V | undefined>(16).fill(undefined);
  #mask = 15;
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(value: V): void {
    const size = this.#items.length;
    if (this.#length === size) {
      const next = new Array<V | undefined>(size * 2).fill(undefined);
      for (let i = 0; i < size; i++) next[i] = this.#items[(this.#head + i) & this.#mask];
      this.#items = next;
      this.#mask = size * 2 - 1;
      this.#head = 0;
    }
    this.#items[(this.#head + this.#length) & this.#mask] = value;
    this.#length++;
  }

  shift(): V | undefined {
    if (this.#length === 0) return undefined;
    const value = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    return value;
  }
}

export class FloorPool<R> {
  readonly #idle: R[] = [];
  readonly #waiters = new Ring<(resource: R) => void>();
  readonly #create: () => R | Promise<R>;
  readonly #destroy: (resource: R) => unknown;
  readonly #max: number;
  #size = 0;

  constructor(max: number, create: () => R | Promise<R>, destroy: (resource: R) => unknown) {
    this.#max = max;
    this.#create = create;
    this.#destroy = destroy;
  }

  get created(): number {
    return this.#size;
  }

  acquire(): Promise<R> {
    const idle = this.#idle;
    if (idle.length !== 0) return Promise.resolve(idle.pop()!);
    if (this.#size < this.#max) {
      this.#size++;
      return Promise.resolve(this.#create());
    }
    return new Promise<R>((resolve) => this.#waiters.push(resolve));
  }

  release(resource: R): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(resource);
    else this.#idle.push(resource);
  }

  async close(): Promise<void> {
    for (const resource of this.#idle.splice(0)) await this.#destroy(resource);
  }
}
