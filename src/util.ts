/**
 * Small helpers shared by the pool's modules.
 *
 * @internal
 */

/**
 * The clock for deadlines and statistics. Read through the global at call time so that fake
 * timers (which replace `performance`) drive it in tests.
 */
export function now(): number {
  return performance.now();
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Runs `fn` and settles with its outcome, or with `onTimeout()` after `timeoutMs`. Never throws
 * synchronously; the returned promise rejects with whatever `fn` threw or rejected with.
 */
export function callWithTimeout<R>(fn: () => R | PromiseLike<R>, timeoutMs: number, onTimeout: () => Error): Promise<R> {
  let result: R | PromiseLike<R>;
  try {
    result = fn();
  } catch (error) {
    return Promise.reject(error);
  }
  if (!isThenable(result)) return Promise.resolve(result);
  if (timeoutMs === Infinity) return Promise.resolve(result);
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    timer.unref?.();
    result.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
