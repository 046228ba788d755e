/**
 * Typed events: create, destroy, acquire, release, error, leak. No listener costs a property check
 * (no payload is built); a throwing listener never breaks the pool; an unheard error is dropped.
 */
import { jest } from '@jest/globals';
import { AsyncPool, type DestroyReason, type PoolEvents, type PoolOperation } from '../../src/index.js';
import { Emitter } from '../../src/events.js';
import { tick, useFakeClock } from '../support.js';

useFakeClock();

afterEach(() => {
  jest.restoreAllMocks();
});

interface Res {
  readonly id: number;
}

/** A factory that takes 40 ms (on the fake clock) per resource. */
function slowFactory() {
  let next = 0;
  return () => new Promise<Res>((resolve) => setTimeout(() => resolve({ id: ++next }), 40));
}

type Recorded = { [K in keyof PoolEvents<Res>]: { name: K; event: PoolEvents<Res>[K] } }[keyof PoolEvents<Res>];

function recordAll(pool: AsyncPool<Res>): Recorded[] {
  const log: Recorded[] = [];
  pool
    .on('create', (event) => log.push({ name: 'create', event }))
    .on('destroy', (event) => log.push({ name: 'destroy', event }))
    .on('acquire', (event) => log.push({ name: 'acquire', event }))
    .on('release', (event) => log.push({ name: 'release', event }))
    .on('error', (event) => log.push({ name: 'error', event }))
    .on('leak', (event) => log.push({ name: 'leak', event }));
  return log;
}

test('each event carries its payload, in the order things happened', async () => {
  const closeError = new Error('close failed');
  const pool = new AsyncPool<Res>({
    factory: slowFactory(),
    releaser: () => Promise.reject(closeError),
    maxSize: 1,
    recycleMs: Infinity,
    leakDetectionMs: 1_000,
  });
  const log = recordAll(pool);
  const first = pool.acquire();
  await tick(40);
  const r = await first;
  const second = pool.acquire();
  await tick(1_000); // r leaks; the second caller has waited 1 000 ms
  pool.release(r); // straight to the second caller
  expect(await second).toBe(r);
  await pool.destroy(r);
  expect(log).toEqual([
    { name: 'create', event: { resource: r, durationMs: 40 } },
    { name: 'acquire', event: { resource: r, waitedMs: 40 } },
    { name: 'leak', event: { resource: r, borrowedMs: 1_000, stack: expect.stringContaining('acquired here') } },
    { name: 'release', event: { resource: r, heldMs: 1_000 } },
    { name: 'acquire', event: { resource: r, waitedMs: 1_000 } },
    { name: 'destroy', event: { resource: r, reason: 'destroyed', heldMs: 0 } }, // destroyed as soon as it was handed over
    { name: 'error', event: { error: closeError, operation: 'destroy', resource: r } },
  ]);
  await pool.dispose();
});

test('on() returns the pool for chaining; off() removes exactly that listener', async () => {
  const pool = new AsyncPool<Res>({ factory: slowFactory() });
  const a = jest.fn();
  const b = jest.fn();
  expect(pool.on('release', a)).toBe(pool);
  pool.on('release', b);
  expect(pool.off('release', a)).toBe(pool);
  pool.off('release', jest.fn()); // never added: no-op
  const p = pool.acquire();
  await tick(40);
  pool.release(await p);
  expect(a).not.toHaveBeenCalled();
  expect(b).toHaveBeenCalledTimes(1);
  await pool.dispose();
});

test('the same listener added twice is called twice and removed one at a time', async () => {
  const pool = new AsyncPool<Res>({ factory: slowFactory() });
  const listener = jest.fn();
  pool.on('acquire', listener).on('acquire', listener);
  const p = pool.acquire();
  await tick(40);
  pool.release(await p);
  expect(listener).toHaveBeenCalledTimes(2);
  pool.off('acquire', listener);
  pool.release(await pool.acquire());
  expect(listener).toHaveBeenCalledTimes(3);
  await pool.dispose();
});

test('unknown event names and non-function listeners are TypeErrors', () => {
  const pool = new AsyncPool<Res>({ factory: slowFactory() });
  expect(() => pool.on('drain' as keyof PoolEvents<Res>, () => {})).toThrow(TypeError);
  expect(() => pool.on('create', 'nope' as unknown as () => void)).toThrow(TypeError);
});

test('a listener may remove itself while its event is being emitted', async () => {
  const pool = new AsyncPool<Res>({ factory: slowFactory() });
  const calls: string[] = [];
  const once = (): void => {
    calls.push('once');
    pool.off('acquire', once);
  };
  pool.on('acquire', once).on('acquire', () => calls.push('always'));
  const p = pool.acquire();
  await tick(40);
  pool.release(await p);
  pool.release(await pool.acquire());
  expect(calls).toEqual(['once', 'always', 'always']);
  await pool.dispose();
});

test('a throwing listener is re-thrown on a fresh stack, never into the pool', async () => {
  const thrown: unknown[] = [];
  const realQueueMicrotask = globalThis.queueMicrotask;
  jest.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => {
    realQueueMicrotask(() => {
      try {
        callback();
      } catch (error) {
        thrown.push(error); // what would surface as an uncaught exception
      }
    });
  });
  const pool = new AsyncPool<Res>({ factory: slowFactory() });
  const boom = new Error('listener bug');
  const after = jest.fn();
  pool.on('acquire', () => {
    throw boom;
  });
  pool.on('acquire', after);
  const p = pool.acquire();
  await tick(40);
  const r = await p; // the acquire still succeeds
  expect(after).toHaveBeenCalledTimes(1); // later listeners still run
  pool.release(r);
  const again = await pool.acquire();
  expect(again).toBe(r);
  await tick(0);
  expect(thrown).toEqual([boom, boom]);
  expect(pool.stats().acquired).toBe(2);
  pool.release(again);
  await pool.dispose();
});

test('with no error listener, failures are dropped: nothing throws, nothing rejects', async () => {
  let calls = 0;
  const pool = new AsyncPool<Res>({
    factory: () => {
      if (++calls === 3) throw new Error('refill failed');
      return { id: calls };
    },
    releaser: () => {
      throw new Error('close failed');
    },
    validate: (r) => {
      if (r.id === 1) throw new Error('ping failed');
      return true;
    },
    reset: (r) => {
      if (r.id === 2) throw new Error('reset failed');
    },
    minIdle: 1,
    maxSize: 3,
    recycleMs: Infinity,
  });
  await pool.prefill(1); // id 1
  const r = await pool.acquire(); // validate(1) throws → closed (releaser throws); id 2 is made; refill (call 3) fails
  expect(r.id).toBe(2);
  pool.release(r); // reset throws → closed (releaser throws)
  await tick(1_000);
  await pool.dispose();
  const s = pool.stats();
  expect(s.validationFailed).toBe(1);
  expect(s.destroyed.invalid).toBe(2);
  expect(s.destroyFailed).toBe(s.destroyed.total); // every releaser call threw, none escaped
  expect(s.createFailed).toBe(1);
});

test('an event with no listener costs nothing: no payload is built, emit() is never entered', async () => {
  const emit = jest.spyOn(Emitter.prototype, 'emit');
  const pool = new AsyncPool<Res>({ factory: slowFactory(), maxSize: 2, maxIdle: 1, recycleMs: Infinity, leakDetectionMs: 10 });
  const a = pool.acquire();
  const b = pool.acquire();
  await tick(40);
  const [ra, rb] = [await a, await b];
  await tick(10); // both leak
  pool.release(ra);
  pool.release(rb); // overflow: destroyed
  pool.release(await pool.acquire());
  await pool.dispose();
  expect(emit).not.toHaveBeenCalled();
  // The same run with one listener: emit() is entered for that event only.
  const pool2 = new AsyncPool<Res>({ factory: slowFactory(), recycleMs: Infinity });
  pool2.on('release', () => {});
  const c = pool2.acquire();
  await tick(40);
  pool2.release(await c);
  await pool2.dispose();
  expect(emit.mock.calls.map((call) => call[0])).toEqual(['release']);
});

/**
 * Payload types are checked by the compiler (`tsc -p tsconfig.json` covers tests/): each
 * `@ts-expect-error` below must be an error, or type-checking fails. Never called.
 */
export function payloadTypes(pool: AsyncPool<Res>): void {
  pool.on('create', (e) => {
    const id: number = e.resource.id;
    const ms: number = e.durationMs;
    // @ts-expect-error a create event has no reason
    void e.reason;
    void [id, ms];
  });
  pool.on('destroy', (e) => {
    const reason: DestroyReason = e.reason;
    // @ts-expect-error 'expired' is not a DestroyReason
    const wrong: 'expired' = e.reason;
    void [reason, wrong];
  });
  pool.on('acquire', (e) => {
    // @ts-expect-error waitedMs is a number
    const s: string = e.waitedMs;
    // @ts-expect-error payloads are read-only
    e.waitedMs = 0;
    void s;
  });
  pool.on('error', (e) => {
    const op: PoolOperation = e.operation;
    // @ts-expect-error resource is undefined for a failed creation
    const id: number = e.resource.id;
    // @ts-expect-error error is unknown: narrow it before use
    void e.error.message;
    void [op, id];
  });
  pool.on('leak', (e) => {
    // @ts-expect-error stack may be undefined
    const stack: string = e.stack;
    const ms: number = e.borrowedMs;
    void [stack, ms];
  });
  // @ts-expect-error a listener typed for another payload is rejected
  pool.on('release', (e: { resource: string }) => void e);
  // @ts-expect-error unknown event name
  pool.on('drain', () => {});
  // @ts-expect-error stats snapshots are read-only
  pool.stats().acquired = 1;
}
