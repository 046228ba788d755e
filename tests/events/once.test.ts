/**
 * once(): a listener for the next emission only, removable by the function given to it, and what
 * Node's `events.once(pool, name)` helper needs (once + removeListener, `error` semantics, abort).
 */
import { once as nodeOnce, type EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import { AsyncPool, type PoolEvents } from '../../src/index.js';
import { Emitter } from '../../src/events.js';

interface Res {
  readonly id: number;
}

/**
 * Node's `events.once()` on a pool. Its declared type (@types/node) asks for a full EventEmitter;
 * at run time it needs `once` and `removeListener`, which the pool has.
 */
function eventOnce(pool: AsyncPool<Res>, name: keyof PoolEvents<Res>, options?: { signal?: AbortSignal }): Promise<unknown[]> {
  return nodeOnce(pool as unknown as EventEmitter, name, options);
}

function counting() {
  let next = 0;
  return async (): Promise<Res> => ({ id: ++next });
}

/** Collects what listeners throw (re-thrown by the emitter on a fresh stack). */
function catchRethrown(): unknown[] {
  const thrown: unknown[] = [];
  const realQueueMicrotask = globalThis.queueMicrotask;
  jest.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => {
    realQueueMicrotask(() => {
      try {
        callback();
      } catch (error) {
        thrown.push(error);
      }
    });
  });
  return thrown;
}

afterEach(() => {
  jest.restoreAllMocks();
});

test('a once() listener runs for the first emission only; once() returns the pool', async () => {
  const pool = new AsyncPool<Res>({ factory: counting() });
  const seen: number[] = [];
  expect(pool.once('acquire', (event) => seen.push(event.resource.id))).toBe(pool);
  const a = await pool.acquire();
  const b = await pool.acquire();
  pool.release(a);
  pool.release(b);
  await pool.use(() => undefined);
  expect(seen).toEqual([1]);
  await pool.dispose();
});

test('off() and removeListener() remove a once() listener by the function given to once()', async () => {
  const pool = new AsyncPool<Res>({ factory: counting() });
  const first = jest.fn();
  const second = jest.fn();
  pool.once('acquire', first).once('acquire', second);
  pool.off('acquire', first);
  pool.removeListener('acquire', second);
  await pool.use(() => undefined);
  expect(first).not.toHaveBeenCalled();
  expect(second).not.toHaveBeenCalled();
  await pool.dispose();
});

test('the same function added with on() and once() runs twice, then once', async () => {
  const pool = new AsyncPool<Res>({ factory: counting() });
  const listener = jest.fn();
  pool.on('release', listener).once('release', listener);
  await pool.use(() => undefined);
  await pool.use(() => undefined);
  expect(listener).toHaveBeenCalledTimes(3);
  await pool.dispose();
});

test('a once() listener that causes the same event again, synchronously, still runs once', async () => {
  const pool = new AsyncPool<Res>({ factory: counting(), maxSize: 2 });
  const a = await pool.acquire();
  const b = await pool.acquire();
  const calls: number[] = [];
  pool.once('release', (event) => {
    calls.push(event.resource.id);
    pool.release(b); // a nested 'release' emission while the outer one is running
  });
  pool.release(a);
  expect(calls).toEqual([1]);
  expect(pool.idle).toBe(2);
  await pool.dispose();
});

test('a once() listener that throws is removed all the same, and the pool carries on', async () => {
  const thrown = catchRethrown();
  const pool = new AsyncPool<Res>({ factory: counting() });
  const boom = new Error('listener bug');
  let calls = 0;
  pool.once('acquire', () => {
    calls++;
    throw boom;
  });
  await pool.use(() => undefined);
  await pool.use(() => undefined);
  await new Promise((resolve) => setImmediate(resolve));
  expect(calls).toBe(1);
  expect(thrown).toEqual([boom]);
  await pool.dispose();
});

test('once() rejects unknown events and non-functions, like on()', () => {
  const pool = new AsyncPool<Res>({ factory: counting() });
  expect(() => pool.once('drain' as keyof PoolEvents<Res>, () => {})).toThrow(TypeError);
  expect(() => pool.once('create', undefined as unknown as () => void)).toThrow(TypeError);
});

test("events.once(pool, 'create') resolves with the event's payload", async () => {
  const pool = new AsyncPool<Res>({ factory: counting() });
  const created = eventOnce(pool, 'create');
  const r = await pool.acquire();
  const [event] = (await created) as [PoolEvents<Res>['create']];
  expect(event.resource).toBe(r);
  expect(typeof event.durationMs).toBe('number');
  pool.release(r);
  await pool.dispose();
});

test("events.once() rejects with the 'error' event's payload when one comes first, and leaves nothing behind", async () => {
  const thrown = catchRethrown();
  const failure = new Error('releaser failed');
  const pool = new AsyncPool<Res>({
    factory: counting(),
    releaser: () => {
      throw failure;
    },
  });
  const r = await pool.acquire();
  const waiting = eventOnce(pool, 'create');
  await pool.destroy(r);
  await expect(waiting).rejects.toEqual(expect.objectContaining({ error: failure, operation: 'destroy', resource: r }));
  // Its listeners are gone: later events reach nothing of it and nothing throws.
  await pool.use(() => undefined);
  await pool.destroy(await pool.acquire());
  await new Promise((resolve) => setImmediate(resolve));
  expect(thrown).toEqual([]);
  await pool.dispose();
});

test('events.once() with an AbortSignal rejects on abort and removes its listeners', async () => {
  const thrown = catchRethrown();
  const pool = new AsyncPool<Res>({ factory: counting() });
  const removed = jest.spyOn(pool, 'removeListener');
  const controller = new AbortController();
  const waiting = eventOnce(pool, 'leak', { signal: controller.signal });
  controller.abort();
  await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  expect(removed.mock.calls.map(([name]) => name).sort()).toEqual(['error', 'leak']);
  await new Promise((resolve) => setImmediate(resolve));
  expect(thrown).toEqual([]);
  await pool.dispose();
});

test('the emitter drops a once() listener after it fires: no listener array is left behind', () => {
  const emitter = new Emitter<{ tick: number }>(['tick']);
  const seen: number[] = [];
  emitter.once('tick', (n) => seen.push(n));
  emitter.emit('tick', 1);
  emitter.emit('tick', 2);
  expect(seen).toEqual([1]);
  expect(emitter.listeners.tick).toBeUndefined();
});
