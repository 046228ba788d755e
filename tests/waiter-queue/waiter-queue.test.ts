import { parkedPromise, Waiter } from '../../src/waiter.js';
import { WaiterQueue } from '../../src/waiter-queue.js';

const make = (): Waiter<number> => {
  void parkedPromise<number>();
  return new Waiter<number>(0);
};

describe('WaiterQueue', () => {
  test('serves in arrival order and skips cancelled waiters', () => {
    const q = new WaiterQueue<number>();
    const ws = [make(), make(), make()];
    for (const w of ws) q.push(w);
    ws[0]!.finish();
    q.forget();
    expect(q.length).toBe(2);
    expect(q.shift()).toBe(ws[1]);
    expect(q.shift()).toBe(ws[2]);
    expect(q.shift()).toBeUndefined();
  });

  test('compacts when cancelled waiters outnumber live ones, so memory stays bounded', () => {
    const q = new WaiterQueue<number>();
    const head = make();
    q.push(head); // a head that never leaves, as when the pool is held forever
    let maxSlots = 0;
    for (let i = 0; i < 100_000; i++) {
      const w = make();
      q.push(w);
      w.finish(); // cancelled right away (abort/timeout)
      q.forget();
      maxSlots = Math.max(maxSlots, q.slots);
    }
    expect(maxSlots).toBeLessThanOrEqual(128);
    expect(q.length).toBe(1);
    expect(q.shift()).toBe(head);
  });

  test('unshift gives a waiter back its place at the front', () => {
    const q = new WaiterQueue<number>();
    const [a, b] = [make(), make()];
    q.push(b);
    q.unshift(a);
    expect(q.peek()).toBe(a);
    expect(q.drain()).toEqual([a, b]);
    expect(q.length).toBe(0);
  });
});

describe('WaiterQueue: plain waiters held as slots', () => {
  /** A plain waiter's slots: a resolver that records what it was given, a clock reading, an arrival number. */
  const plain = (q: WaiterQueue<number>, at: number, arrival: number): number[] => {
    const got: number[] = [];
    q.pushPlain((value) => got.push(value), at, arrival);
    return got;
  };

  test('shiftPlain serves the oldest from its slots, with its clock reading, and leaves objects to shift()', () => {
    const q = new WaiterQueue<number>();
    const first = plain(q, 1.5, 0);
    const object = make();
    q.push(object);
    const third = plain(q, 3.25, 1_000_000);
    expect(q.length).toBe(3);

    const resolve = q.shiftPlain()!;
    expect(q.shiftedAt).toBe(1.5);
    resolve(7);
    expect(first).toEqual([7]);
    expect(q.shiftPlain()).toBeUndefined(); // the head is an object: the queue is left as it was
    expect(q.length).toBe(2);
    expect(q.shift()).toBe(object);
    expect(q.shiftPlain()).toBeDefined();
    expect(q.shiftedAt).toBe(3.25);
    expect(third).toEqual([]);
    expect(q.length).toBe(0);
    expect(q.shiftPlain()).toBeUndefined();
  });

  test('peek, shift and drain turn slots into a Waiter once, in place, with its reading, arrival and resolver', () => {
    const q = new WaiterQueue<number>();
    const got = plain(q, 2.5, 41);
    plain(q, 3.5, 42);
    plain(q, 4.5, 43);
    const head = q.peek()!;
    expect(head).toBeInstanceOf(Waiter);
    expect({ at: head.enqueuedAt, arrival: head.arrival, state: head.state }).toEqual({ at: 2.5, arrival: 41, state: 'waiting' });
    expect(q.peek()).toBe(head); // made once: the pool may hold it by identity
    expect(q.shiftPlain()).toBeUndefined(); // it is an object now
    expect(q.shift()).toBe(head);
    head.resolve(9);
    expect(got).toEqual([9]);
    const rest = q.drain();
    expect(rest.map((w) => [w.enqueuedAt, w.arrival])).toEqual([[3.5, 42], [4.5, 43]]);
    expect(q.length).toBe(0);
  });

  test('a waiter put back goes after the older ones held as slots and before the newer ones', () => {
    const q = new WaiterQueue<number>();
    plain(q, 0, 10);
    plain(q, 0, 30);
    void parkedPromise<number>();
    const returning = new Waiter<number>(0, undefined, 20);
    q.unshift(returning);
    expect(q.drain().map((w) => w.arrival)).toEqual([10, 20, 30]);
  });

  test('compaction keeps slots and live objects in order, and drops only tombstones', () => {
    const q = new WaiterQueue<number>();
    const objects: Waiter<number>[] = [];
    const slotReadings: number[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 4 === 0) {
        plain(q, i, i);
        slotReadings.push(i);
      } else {
        void parkedPromise<number>();
        const w = new Waiter<number>(i, undefined, i);
        objects.push(w);
        q.push(w);
      }
    }
    // Cancel every object but the last: tombstones come to outnumber live waiters and the queue compacts.
    for (const w of objects.slice(0, -1)) {
      w.finish();
      q.forget();
    }
    expect(q.length).toBe(51);
    expect(q.slots).toBeLessThan(102);
    const order: number[] = [];
    for (;;) {
      if (q.shiftPlain() !== undefined) {
        order.push(q.shiftedAt);
        continue;
      }
      const w = q.shift();
      if (w === undefined) break;
      order.push(w.enqueuedAt);
    }
    expect(order).toEqual([...slotReadings, 199]);
  });

  test('after a burst the ring gives its memory back once mostly empty', () => {
    const q = new WaiterQueue<number>();
    for (let i = 0; i < 100_000; i++) q.pushPlain(() => {}, i, i);
    expect(q.capacity).toBeGreaterThanOrEqual(100_000);
    for (let i = 0; i < 100_000; i++) {
      expect(q.shiftPlain()).toBeDefined();
      expect(q.shiftedAt).toBe(i); // every reading survives each shrink
    }
    expect(q.capacity).toBeLessThanOrEqual(1024);
  });
});
