/**
 * Counts the timers armed and not yet fired or cleared, by wrapping the global `setTimeout` and
 * `clearTimeout` (which every pool here calls). `process.getActiveResourcesInfo()` cannot be
 * used for this: it lists only ref'd timers, and a well-behaved pool `unref()`s its timers.
 */
type SetTimeout = (callback: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) => unknown;
type ClearTimeout = (handle: unknown) => void;

export class TimerCensus {
  readonly #armed = new Set<unknown>();
  #restore: (() => void) | undefined = undefined;

  /** Timers armed now, set since {@link install}. */
  get armed(): number {
    return this.#armed.size;
  }

  install(): void {
    const g = globalThis as unknown as { setTimeout: SetTimeout; clearTimeout: ClearTimeout };
    const { setTimeout: originalSet, clearTimeout: originalClear } = g;
    const armed = this.#armed;
    g.setTimeout = (callback, delay, ...args) => {
      const handle = originalSet((...callArgs: unknown[]) => {
        armed.delete(handle);
        callback(...callArgs);
      }, delay, ...args);
      armed.add(handle);
      return handle;
    };
    g.clearTimeout = (handle) => {
      armed.delete(handle);
      originalClear(handle);
    };
    this.#restore = () => {
      g.setTimeout = originalSet;
      g.clearTimeout = originalClear;
    };
  }

  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
    this.#armed.clear();
  }
}
