import { parkedPromise, Waiter, WaiterExtra, type WaiterOwner } from '../../src/waiter.js';
import { PriorityWaiterQueue } from '../../src/waiter-queue.js';

const owner: WaiterOwner<number> = { onWaiterAbort() {}, onWaiterTimeout() {} };
const make = (priority: number): Waiter<number> => {
  void parkedPromise<number>();
  const w = new Waiter<number>(0);
  w.extra = new WaiterExtra<number>(w, owner, Infinity, undefined);
  w.extra.priority = priority;
  return w;
};

describe('PriorityWaiterQueue', () => {
  test('serves the highest priority first, each level in arrival order', () => {
    const q = new PriorityWaiterQueue<number>(3);
    const low1 = make(2);
    const mid1 = make(1);
    const low2 = make(2);
    const high1 = make(0);
    const mid2 = make(1);
    const high2 = make(0);
    for (const w of [low1, mid1, low2, high1, mid2, high2]) q.push(w);
    expect(q.length).toBe(6);
    expect(q.peek()).toBe(high1);
    const order: Waiter<number>[] = [];
    for (let w = q.shift(); w !== undefined; w = q.shift()) order.push(w);
    expect(order).toEqual([high1, high2, mid1, mid2, low1, low2]);
    expect(q.length).toBe(0);
  });

  test('a waiter arriving at a higher level after lower ones were served still goes first', () => {
    const q = new PriorityWaiterQueue<number>(2);
    const [l1, l2] = [make(1), make(1)];
    q.push(l1);
    q.push(l2);
    expect(q.shift()).toBe(l1); // the cursor has moved down to level 1
    const h = make(0);
    q.push(h);
    expect(q.shift()).toBe(h);
    expect(q.shift()).toBe(l2);
    expect(q.shift()).toBeUndefined();
  });

  test('a cancelled waiter is skipped in its level and uncounted', () => {
    const q = new PriorityWaiterQueue<number>(2);
    const [h, l1, l2] = [make(0), make(1), make(1)];
    q.push(l1);
    q.push(h);
    q.push(l2);
    h.finish();
    q.forget(h);
    l1.finish();
    q.forget(l1);
    expect(q.length).toBe(1);
    expect(q.peek()).toBe(l2);
    expect(q.shift()).toBe(l2);
    expect(q.length).toBe(0);
  });

  test('unshift puts a waiter back at the front of its own level only', () => {
    const q = new PriorityWaiterQueue<number>(2);
    const [h1, h2, l1] = [make(0), make(0), make(1)];
    q.push(h1);
    q.push(h2);
    q.push(l1);
    expect(q.shift()).toBe(h1);
    q.unshift(h1); // its resource proved invalid: it keeps its place
    expect(q.shift()).toBe(h1);
    expect(q.shift()).toBe(h2);
    const l0 = make(1);
    q.push(l0);
    expect(q.shift()).toBe(l1);
    q.unshift(l1);
    expect(q.shift()).toBe(l1);
    expect(q.shift()).toBe(l0);
  });

  test('drain returns every live waiter by priority, then arrival, and empties the queue', () => {
    const q = new PriorityWaiterQueue<number>(3);
    const ws = [make(2), make(0), make(1), make(0), make(2)];
    for (const w of ws) q.push(w);
    ws[3]!.finish();
    q.forget(ws[3]!);
    expect(q.drain()).toEqual([ws[1], ws[2], ws[0], ws[4]]);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
    const again = make(1);
    q.push(again);
    expect(q.shift()).toBe(again);
  });

  test('levels are created on first use only', () => {
    const q = new PriorityWaiterQueue<number>(1_000);
    const w = make(999);
    q.push(w);
    expect(q.peek()).toBe(w);
    expect(q.shift()).toBe(w);
  });

  test('cancellations in a level whose head never leaves keep memory bounded', () => {
    const q = new PriorityWaiterQueue<number>(2);
    const head = make(1);
    q.push(head);
    for (let i = 0; i < 50_000; i++) {
      const w = make(i % 2);
      q.push(w);
      w.finish();
      q.forget(w);
    }
    expect(q.length).toBe(1);
    expect(q.shift()).toBe(head);
  });
});
