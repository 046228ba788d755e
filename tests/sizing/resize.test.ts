/**
 * resize(): changing maxSize (and maxIdle/minIdle) of a running pool. Growing lets queued callers
 * create at once; shrinking closes idle resources above the new cap now and borrowed ones as they
 * come back, never interrupting a holder. From the call on, size never grows while it is above the
 * new maxSize, and never exceeds it once it has come down to it.
 */
import { AsyncPool, PoolDisposedError, type PoolEvents } from '../../src/index.js';
import { deferred, flush, outcome, tracked, type Res } from '../helpers.js';

function pool(options: Partial<ConstructorParameters<typeof AsyncPool<Res>>[0]> = {}) {
  const t = tracked();
  const p = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, maxSize: 2, ...options });
  const destroyed: PoolEvents<Res>['destroy'][] = [];
  p.on('destroy', (event) => destroyed.push(event));
  return { t, p, destroyed };
}

test('growing lets queued callers create at once, in arrival order', async () => {
  const { p } = pool({ maxSize: 1 });
  const first = await p.acquire();
  const order: number[] = [];
  const waiting = [1, 2, 3].map((n) => p.acquire().then((r) => (order.push(n), r)));
  await flush();
  expect(p.pending).toBe(3);
  p.resize(3);
  await flush();
  expect(order).toEqual([1, 2]);
  expect(p.size).toBe(3);
  expect(p.maxSize).toBe(3);
  p.release(first);
  const got = await Promise.all(waiting);
  expect(order).toEqual([1, 2, 3]);
  expect(got[2]).toBe(first);
  for (const r of got) p.release(r);
  await p.dispose();
});

test('shrinking closes idle resources above the new cap at once (reason "resized"), oldest idle first', async () => {
  const { p, destroyed } = pool({ maxSize: 4 });
  await p.prefill(4);
  p.resize(1);
  expect(p.size).toBe(1);
  expect(p.idle).toBe(1);
  expect(destroyed.map((d) => d.reason)).toEqual(['resized', 'resized', 'resized']);
  expect(p.stats()).toMatchObject({ maxSize: 1, resized: 1, destroyed: { resized: 3 } });
  await p.dispose();
});

test('shrinking below the borrowed count: holders keep their resources; each is closed as it comes back until size fits', async () => {
  const { p, t, destroyed } = pool({ maxSize: 3 });
  const held = await Promise.all([p.acquire(), p.acquire(), p.acquire()]);
  const waiter = p.acquire();
  p.resize(1);
  expect(p.size).toBe(3);
  expect(held.every((r) => !r.closed)).toBe(true); // nobody is interrupted
  p.release(held[0]!);
  await flush();
  expect(held[0]!.closed).toBe(true); // not handed to the waiter: size is above the cap
  expect(p.size).toBe(2);
  p.release(held[1]!);
  await flush();
  expect(held[1]!.closed).toBe(true);
  expect(p.size).toBe(1);
  expect(p.pending).toBe(1); // the waiter is still queued, not lost
  p.release(held[2]!);
  expect(await waiter).toBe(held[2]); // size fits now: the release goes to the waiter
  expect(destroyed.filter((d) => d.reason === 'resized')).toHaveLength(2);
  expect(t.created).toHaveLength(3);
  p.release(held[2]!);
  await p.dispose();
});

test('size never grows while above the new cap: a creation in flight that arrives is closed, the waiter keeps its place', async () => {
  const gate = deferred<Res>();
  let calls = 0;
  const p = new AsyncPool<Res>({ factory: () => (++calls === 2 ? gate.promise : { id: calls, closed: false }), maxSize: 2 });
  const a = await p.acquire();
  const waiting = p.acquire(); // starts creation #2
  await flush();
  expect(p.creating).toBe(1);
  p.resize(1);
  gate.resolve({ id: 2, closed: false });
  await flush();
  expect(p.size).toBe(1);
  expect(p.stats().destroyed.resized).toBe(1);
  expect(p.pending).toBe(1);
  p.release(a);
  expect(await waiting).toBe(a);
  p.release(a);
  await p.dispose();
});

test('maxIdle that followed maxSize keeps following it; an explicit one must stay <= maxSize', async () => {
  const { p } = pool({ maxSize: 4 });
  p.resize(6);
  await p.prefill(6); // prefill accepts up to maxIdle: it followed
  expect(p.idle).toBe(6);
  const explicit = pool({ maxSize: 4, maxIdle: 3 }).p;
  expect(() => explicit.resize(2)).toThrow(new RangeError('poolkeeper: option "maxIdle" must be <= maxSize (2); got 3 (pass maxIdle to resize() as well)'));
  expect(explicit.maxSize).toBe(4); // a rejected resize changes nothing
  explicit.resize(2, { maxIdle: 1 });
  expect(explicit.maxSize).toBe(2);
  await Promise.all([p.dispose(), explicit.dispose()]);
});

test('lowering maxIdle closes idle resources above it; raising minIdle refills in the background', async () => {
  const { p, destroyed } = pool({ maxSize: 4 });
  await p.prefill(4);
  p.resize(4, { maxIdle: 2 });
  expect(p.idle).toBe(2);
  expect(destroyed.map((d) => d.reason)).toEqual(['resized', 'resized']);
  p.resize(4, { minIdle: 2, maxIdle: 4 });
  expect(p.stats()).toMatchObject({ maxSize: 4, maxIdle: 4, minIdle: 2 });
  const taken = await Promise.all([p.acquire(), p.acquire()]);
  await flush();
  expect(p.idle).toBe(2); // refilled to minIdle
  for (const r of taken) p.release(r);
  await p.dispose();
});

test('validation: typed errors naming the argument, nothing changed', () => {
  const { p } = pool({ maxSize: 4, minIdle: 2 });
  expect(() => p.resize(0)).toThrow(new RangeError('poolkeeper: resize() argument "maxSize" must be an integer >= 1 or Infinity; got 0'));
  expect(() => p.resize('5' as unknown as number)).toThrow(new TypeError('poolkeeper: resize() argument "maxSize" must be an integer >= 1 or Infinity; got "5"'));
  expect(() => p.resize(1.5)).toThrow(RangeError);
  expect(() => p.resize(NaN)).toThrow(RangeError);
  expect(() => p.resize(1)).toThrow(new RangeError('poolkeeper: option "minIdle" must be <= maxIdle (1); got 2'));
  expect(() => p.resize(4, { minIdle: -1 })).toThrow(RangeError);
  expect(() => p.resize(4, { maxIdle: 5 })).toThrow(RangeError);
  expect(() => p.resize(4, { max: 3 } as never)).toThrow(new TypeError('poolkeeper: unknown resize() option "max" (expected maxIdle or minIdle)'));
  expect(() => p.resize(4, null as never)).toThrow(TypeError);
  expect(p.maxSize).toBe(4);
  expect(p.stats().resized).toBe(0);
});

test('Infinity and huge sizes are accepted; resize on a disposed pool throws PoolDisposedError', async () => {
  const { p } = pool({ maxSize: 2 });
  p.resize(Infinity);
  expect(p.maxSize).toBe(Infinity);
  p.resize(2 ** 31);
  expect(p.maxSize).toBe(2 ** 31);
  await p.dispose();
  expect(() => p.resize(3)).toThrow(PoolDisposedError);
});

test('a listener that resizes from inside a destroy event (re-entrant) leaves the counts consistent', async () => {
  const { p } = pool({ maxSize: 4 });
  await p.prefill(4);
  let resized = false;
  p.on('destroy', () => {
    if (!resized) {
      resized = true;
      p.resize(3);
    }
  });
  p.resize(2);
  expect(p.size).toBeLessThanOrEqual(3);
  expect(p.size).toBe(p.idle + p.borrowed + p.creating);
  const r = await outcome(p.acquire());
  expect(r.ok).toBe(true);
  if (r.ok) p.release(r.value);
  await p.dispose();
});

test('maxSize cannot go below the min option', async () => {
  const { p } = pool({ maxSize: 4, min: 2 });
  expect(() => p.resize(1)).toThrow(new RangeError('poolkeeper: resize() argument "maxSize" must be >= min (2); got 1'));
  expect(p.maxSize).toBe(4);
  p.resize(2);
  expect(p.maxSize).toBe(2);
  await p.dispose();
});
