/**
 * Sizing: the checks and the arithmetic of `resize()`, kept apart from the pool so that the
 * pool only applies the new limits it gets back.
 *
 * @module
 */
import { checkCount, show, type Limits } from './options.js';

/** Options of {@link AsyncPool.resize}. */
export interface ResizeOptions {
  /** New `maxIdle`: an integer, 0 ≤ maxIdle ≤ maxSize. Defaults to `maxSize` if `maxIdle` was never set, else the current value. */
  readonly maxIdle?: number;
  /** New `minIdle`: an integer, 0 ≤ minIdle ≤ maxIdle. Defaults to the current value. */
  readonly minIdle?: number;
}

/** The limits `resize()` will set, and whether `maxIdle` was given (then it stops following `maxSize`). */
export interface NewLimits extends Limits {
  readonly idleGiven: boolean;
}

/**
 * Checks the arguments of `resize()` against the current limits and returns the new ones.
 * Throws naming the argument, before anything changes.
 */
export function resizeLimits(maxSize: number, options: ResizeOptions | undefined, current: Limits, maxIdleFollows: boolean, min: number): NewLimits {
  const max = checkCount('maxSize', maxSize, 1, true, 'resize() argument');
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`poolkeeper: resize() options must be an object; got ${show(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'maxIdle' && key !== 'minIdle') throw new TypeError(`poolkeeper: unknown resize() option "${key}" (expected maxIdle or minIdle)`);
    }
  }
  const idleGiven = options?.maxIdle !== undefined;
  const maxIdle = idleGiven ? checkCount('maxIdle', options!.maxIdle, 0, true) : maxIdleFollows ? max : current.maxIdle;
  if (maxIdle > max) {
    throw new RangeError(`poolkeeper: option "maxIdle" must be <= maxSize (${max}); got ${maxIdle}${idleGiven ? '' : ' (pass maxIdle to resize() as well)'}`);
  }
  const minIdle = options?.minIdle === undefined ? current.minIdle : checkCount('minIdle', options.minIdle, 0, false);
  if (minIdle > maxIdle) throw new RangeError(`poolkeeper: option "minIdle" must be <= maxIdle (${maxIdle}); got ${minIdle}`);
  if (min > max) throw new RangeError(`poolkeeper: resize() argument "maxSize" must be >= min (${min}); got ${max}`);
  return { maxSize: max, maxIdle, minIdle, idleGiven };
}
