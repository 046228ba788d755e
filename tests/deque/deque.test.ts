import { Deque } from '../../src/deque.js';

describe('Deque', () => {
  test('is FIFO with push/shift and LIFO with push/pop', () => {
    const d = new Deque<number>();
    for (let i = 0; i < 5; i++) d.push(i);
    expect(d.shift()).toBe(0);
    expect(d.pop()).toBe(4);
    expect([d.peekFront(), d.peekBack(), d.length]).toEqual([1, 3, 3]);
  });

  test('unshift puts an element in front', () => {
    const d = new Deque<string>();
    d.push('b');
    d.unshift('a');
    expect([d.shift(), d.shift(), d.shift()]).toEqual(['a', 'b', undefined]);
  });

  // Exact boundaries: the ring wraps and grows at the capacity, and keeps order across both.
  test.each([15, 16, 17, 1023, 1024, 1025, 2047, 2048, 2049])('keeps order across wrap-around and growth at %i elements', (n) => {
    const d = new Deque<number>();
    // Offset the head so the contents wrap around the end of the buffer.
    for (let i = 0; i < 7; i++) d.push(-1);
    for (let i = 0; i < 7; i++) d.shift();
    for (let i = 0; i < n; i++) d.push(i);
    expect(d.length).toBe(n);
    for (let i = 0; i < n; i++) expect(d.at(i)).toBe(i);
    for (let i = 0; i < n; i++) expect(d.shift()).toBe(i);
    expect(d.length).toBe(0);
    expect(d.shift()).toBeUndefined();
  });

  test('grows by doubling and shrinks back after a burst', () => {
    const d = new Deque<number>();
    for (let i = 0; i < 100_000; i++) d.push(i);
    expect(d.capacity).toBe(131_072);
    for (let i = 0; i < 99_990; i++) d.shift();
    expect(d.capacity).toBeLessThanOrEqual(2048);
    expect([d.peekFront(), d.peekBack()]).toEqual([99_990, 99_999]);
  });

  test('retain keeps matching elements in order', () => {
    const d = new Deque<number>();
    for (let i = 0; i < 40; i++) d.push(i);
    d.retain((x) => x % 3 === 0);
    expect(d.drain()).toEqual(Array.from({ length: 14 }, (_, i) => i * 3));
    expect(d.length).toBe(0);
  });

  test('drops references to removed elements', () => {
    const d = new Deque<object>();
    const a = {};
    d.push(a);
    d.shift();
    d.push({});
    // The slot a lived in is cleared: only the new element is reachable.
    expect(d.length).toBe(1);
    expect(d.at(0)).not.toBe(a);
  });
});
