/** Helpers shared by the tests of the pool and its subpaths: a fake clock and a factory the test drives. */
import { jest } from '@jest/globals';
import { deferred } from './helpers.js';

/**
 * Installs jest's modern fake timers (setTimeout, Date and performance.now, which the pool reads)
 * around every test of the file. Microtasks stay real so promise chains (and p-queue) run as usual.
 */
export function useFakeClock(): void {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  });
  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });
}

/** Advances the fake clock by `ms`, letting promise callbacks run between timers. */
export async function tick(ms = 0): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

export interface Conn {
  readonly id: number;
  closed: boolean;
}

/**
 * A factory whose calls stay pending until the test settles them, and a releaser that counts.
 * `calls[i]` is the i-th factory call: `succeed()` makes a fresh resource, `fail(error)` rejects.
 */
export function gatedFactory() {
  let next = 0;
  const calls: { succeed(): Conn; fail(error: unknown): void; readonly startedAt: number }[] = [];
  const released: Conn[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    calls,
    released,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    factory: (): Promise<Conn> => {
      const d = deferred<Conn>();
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let settled = false;
      const settle = (): boolean => {
        if (settled) throw new Error('this factory call was already settled');
        settled = true;
        inFlight--;
        return true;
      };
      calls.push({
        startedAt: performance.now(),
        succeed: () => {
          settle();
          const conn = { id: ++next, closed: false };
          d.resolve(conn);
          return conn;
        },
        fail: (error: unknown) => {
          settle();
          d.reject(error);
        },
      });
      return d.promise;
    },
    releaser: (conn: Conn): void => {
      conn.closed = true;
      released.push(conn);
    },
  };
}

/** A factory that counts calls and makes `{ id }` resources at once, or fails while `failing` is set. */
export function switchableFactory() {
  let next = 0;
  const state = {
    failing: false,
    calls: 0,
    callTimes: [] as number[],
    created: [] as Conn[],
    released: [] as Conn[],
    errors: [] as Error[],
    factory: async (): Promise<Conn> => {
      state.calls++;
      state.callTimes.push(performance.now());
      if (state.failing) {
        const error = Object.assign(new Error(`connect failed (${state.calls})`), { code: 'ECONNREFUSED' });
        state.errors.push(error);
        throw error;
      }
      const conn = { id: ++next, closed: false };
      state.created.push(conn);
      return conn;
    },
    releaser: (conn: Conn): void => {
      conn.closed = true;
      state.released.push(conn);
    },
  };
  return state;
}
