/** Shared test helpers: a counting resource factory and small async utilities. */
export interface Res {
  readonly id: number;
  closed: boolean;
}

/** A factory/releaser pair that records what it created and closed. */
export function tracked() {
  let next = 0;
  const created: Res[] = [];
  const released: Res[] = [];
  return {
    created,
    released,
    factory: async (): Promise<Res> => {
      const r = { id: ++next, closed: false };
      created.push(r);
      return r;
    },
    releaser: async (r: Res): Promise<void> => {
      r.closed = true;
      released.push(r);
    },
  };
}

/** Lets pending promise callbacks run (several microtask turns plus a macrotask). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Settles `promise` into an outcome object, so tests can assert without try/catch. */
export async function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: any }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Fake timers and clock only. jest's defaults also fake queueMicrotask, nextTick and
 * setImmediate, which p-queue and promise plumbing rely on; faking those would make
 * `jest.getTimerCount()` count microtasks, not the pool's timers.
 */
export const FAKE_TIMERS_CONFIG: { doNotFake: ('queueMicrotask' | 'nextTick' | 'setImmediate')[] } = {
  doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'],
};
