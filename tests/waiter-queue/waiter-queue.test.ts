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
