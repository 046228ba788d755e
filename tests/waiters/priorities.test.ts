/** priorities: acquire({ priority }) serves higher priorities first, FIFO within each, with every way of leaving. */
import { AsyncPool, AcquireTimeoutError, AbortError, PoolDisposedError } from 'poolkeeper';
import { outcome, tracked, type Res } from '../helpers.js';

function pool(options: { priorities?: number; maxSize?: number; validate?: (r: Res) => boolean | Promise<boolean> } = {}) {
  const t = tracked();
  const p = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, maxSize: 1, priorities: 3, ...options });
  return { t, p };
}

/** Queues one acquire per label; each, once served, records its label and gives the resource back. */
function queue(p: AsyncPool<Res>, order: string[], calls: [string, number | undefined][]): Promise<void>[] {
  return calls.map(([label, priority]) =>
    p.acquire(priority === undefined ? undefined : { priority }).then((r) => {
      order.push(label);
      p.release(r);
    }),
  );
}

test('a released resource goes to the highest priority waiting, FIFO within a priority', async () => {
  const { p } = pool();
  const held = await p.acquire();
  const order: string[] = [];
  const all = queue(p, order, [['l1', 2], ['m1', 1], ['h1', 0], ['l2', 2], ['d', undefined], ['m2', 1], ['h2', 0]]);
  p.release(held);
  await Promise.all(all);
  expect(order).toEqual(['h1', 'd', 'h2', 'm1', 'm2', 'l1', 'l2']);
  await p.dispose();
});

test('a high-priority newcomer goes ahead of lower waiters but behind its own level', async () => {
  const { p } = pool();
  const held = await p.acquire();
  const order: string[] = [];
  const low = queue(p, order, [['low', 2]]);
  const highA = p.acquire({ priority: 0 });
  p.release(held);
  const a = await highA; // high-a got it; low still waits
  const rest = queue(p, order, [['high-b', 0], ['mid', 1]]);
  p.release(a);
  await Promise.all([...low, ...rest]);
  expect(order).toEqual(['high-b', 'mid', 'low']);
  await p.dispose();
});

test('with an idle resource and nobody waiting, any priority is served at once', async () => {
  const { p } = pool({ maxSize: 2 });
  const r = await p.acquire({ priority: 2 });
  p.release(r);
  const again = await p.acquire({ priority: 1 });
  expect(again).toBe(r);
  p.release(again);
  await p.dispose();
});

test('a waiter that times out or aborts leaves its level; the others keep their order', async () => {
  const { p } = pool();
  const held = await p.acquire();
  const order: string[] = [];
  const ac = new AbortController();
  const timedOut = outcome(p.acquire({ priority: 0, timeoutMs: 5 }));
  const aborted = outcome(p.acquire({ priority: 1, signal: ac.signal }));
  const rest = queue(p, order, [['m', 1], ['l', 2], ['h', 0]]);
  ac.abort();
  const t = await timedOut;
  expect(t.ok ? undefined : t.error).toBeInstanceOf(AcquireTimeoutError);
  const a = await aborted;
  expect(a.ok ? undefined : a.error).toBeInstanceOf(AbortError);
  expect(p.pending).toBe(3);
  p.release(held);
  await Promise.all(rest);
  expect(order).toEqual(['h', 'm', 'l']);
  expect(p.pending).toBe(0);
  await p.dispose();
});

test('a waiter whose resource fails validation keeps its place at the head of its level', async () => {
  let reject = true;
  const { p, t } = pool({ maxSize: 1, validate: () => (reject ? ((reject = false), false) : true) });
  const held = await p.acquire();
  const order: string[] = [];
  const all = queue(p, order, [['l', 2], ['h', 0]]);
  p.release(held); // validated for h: invalid, closed; h keeps its place, a new one is created for it
  await Promise.all(all);
  expect(order).toEqual(['h', 'l']);
  expect(t.released).toEqual([held]);
  await p.dispose();
});

test('dispose rejects the waiters of every level', async () => {
  const { p } = pool();
  const held = await p.acquire();
  const waiting = [p.acquire({ priority: 2 }), p.acquire({ priority: 0 }), p.acquire()].map(outcome);
  const disposed = p.dispose();
  for (const w of await Promise.all(waiting)) expect(w.ok ? undefined : w.error).toBeInstanceOf(PoolDisposedError);
  p.release(held);
  await disposed;
});

test('a priority outside 0 .. priorities - 1, or not an integer, is rejected naming the option', async () => {
  const { p } = pool();
  await expect(p.acquire({ priority: 3 })).rejects.toThrow(new RangeError('poolkeeper: acquire() option "priority" must be an integer from 0 to 2 (option "priorities" is 3); got 3'));
  await expect(p.acquire({ priority: -1 })).rejects.toThrow(RangeError);
  await expect(p.acquire({ priority: 1.5 })).rejects.toThrow(RangeError);
  await expect(p.acquire({ priority: '1' as unknown as number })).rejects.toThrow(TypeError);
  const plain = new AsyncPool({ factory: () => ({}) });
  await expect(plain.acquire({ priority: 1 })).rejects.toThrow(/from 0 to 0/);
  expect(await plain.acquire({ priority: 0 })).toEqual({});
  await p.dispose();
  await plain.dispose({ timeoutMs: 1 });
});

test('the priorities option is an integer from 1 to 1024', () => {
  const factory = () => ({});
  expect(() => new AsyncPool({ factory, priorities: 0 })).toThrow(RangeError);
  expect(() => new AsyncPool({ factory, priorities: 1025 })).toThrow(new RangeError('poolkeeper: option "priorities" must be an integer from 1 to 1024; got 1025'));
  expect(() => new AsyncPool({ factory, priorities: 2.5 })).toThrow(RangeError);
  expect(() => new AsyncPool({ factory, priorities: Infinity })).toThrow(RangeError);
  expect(() => new AsyncPool({ factory, priorities: '2' as unknown as number })).toThrow(TypeError);
  expect(() => new AsyncPool({ factory, priorities: 1024 })).not.toThrow();
});

test('a listener that acquires with a higher priority from inside a release is served next', async () => {
  const { p } = pool();
  const held = await p.acquire();
  const order: string[] = [];
  const low = queue(p, order, [['low', 2]]);
  let inner: Promise<void>[] = [];
  p.on('release', () => {
    if (inner.length === 0) inner = queue(p, order, [['from-listener', 0]]);
  });
  p.release(held); // the listener runs before the resource is handed on
  await Promise.all([...low, ...inner]);
  expect(order).toEqual(['from-listener', 'low']);
  await p.dispose();
});
