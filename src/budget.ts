/**
 * Budgets: a cap on live resources shared beyond one pool. A pool with a `budget` obtains a permit
 * before each `factory` call and gives it back after the `releaser` has run (or at once when the
 * factory fails), so N pools, in one process or in many, never hold more live resources than the
 * budget allows. The budget is consulted only when a resource is created or closed, never when an
 * idle resource is handed out; a pool without one does none of this.
 *
 * {@link LocalBudget} shares a cap between the pools of one process; `poolkeeper/redis-budget`
 * shares one between processes through Redis.
 *
 * @module
 */
import { AbortError } from './errors.js';
import { checkCount } from './options.js';

/** A permit to keep one live resource, granted by a {@link Budget}. */
export interface BudgetPermit {
  /**
   * Gives the permit back. The pool calls it exactly once: after the resource's `releaser` has
   * finished, or when the factory call it was obtained for fails. A throw or a rejection is
   * reported through the pool's `error` event (operation `'budget'`), never thrown to a caller.
   */
  release(): void | Promise<void>;
}

/** What the pool passes to {@link Budget.acquire}. */
export interface BudgetAcquireOptions {
  /**
   * Aborted when no caller needs the creation any more (the caller that asked timed out or was
   * aborted, or the pool was disposed). The budget must then reject promptly and keep nothing.
   */
  readonly signal: AbortSignal;
  /**
   * Call it (at most once) if the permit is lost after it was granted, e.g. its lease expired
   * during an outage. The pool then retires the resource that holds it: closed at once if idle,
   * when it comes back if borrowed (a holder is never interrupted).
   */
  readonly onLost: () => void;
}

/**
 * A source of permits, each allowing one live resource. Implementations grant permits in the order
 * `acquire()` was called within the process, and reject (never hang) when they cannot tell: the
 * pool then fails the acquires that needed a new resource with `BudgetUnavailableError`, and keeps
 * serving idle resources.
 */
export interface Budget {
  /** Resolves with a permit once one is free; rejects if `options.signal` aborts or the budget is unreachable. */
  acquire(options: BudgetAcquireOptions): Promise<BudgetPermit>;
}

interface LocalRequest {
  readonly resolve: (permit: BudgetPermit) => void;
}

/**
 * A budget shared by the pools of one process: at most `limit` live resources among all of them.
 * Permits are granted in request order.
 *
 * @example
 * ```ts
 * const budget = new LocalBudget(20);
 * const reads = new AsyncPool({ factory: connect, budget, maxSize: 20 });
 * const writes = new AsyncPool({ factory: connect, budget, maxSize: 10 });
 * ```
 */
export class LocalBudget implements Budget {
  readonly #limit: number;
  #held = 0;
  /** Requests waiting for a permit, oldest first (a Set: O(1) removal when one is aborted). */
  readonly #queue = new Set<LocalRequest>();

  /** @param limit - Most permits out at once: an integer ≥ 1, or `Infinity`. */
  constructor(limit: number) {
    this.#limit = checkCount('limit', limit, 1, true, 'LocalBudget argument');
  }

  /** Permits granted and not given back yet. */
  get held(): number {
    return this.#held;
  }

  /** Requests waiting for a permit. */
  get waiting(): number {
    return this.#queue.size;
  }

  /** The most permits out at once. */
  get limit(): number {
    return this.#limit;
  }

  acquire(options: BudgetAcquireOptions): Promise<BudgetPermit> {
    const { signal } = options;
    if (signal.aborted) return Promise.reject(new AbortError('The permit request was aborted', { cause: signal.reason }));
    if (this.#queue.size === 0 && this.#held < this.#limit) {
      this.#held++;
      return Promise.resolve(this.#permit());
    }
    return new Promise<BudgetPermit>((resolve, reject) => {
      const onAbort = (): void => {
        this.#queue.delete(request);
        reject(new AbortError('The permit request was aborted', { cause: signal.reason }));
      };
      const request: LocalRequest = {
        resolve: (permit) => {
          signal.removeEventListener('abort', onAbort);
          resolve(permit);
        },
      };
      this.#queue.add(request);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #permit(): BudgetPermit {
    let released = false;
    return {
      release: () => {
        if (released) return; // once only: a second call must not free someone else's permit
        released = true;
        this.#held--;
        this.#grant();
      },
    };
  }

  #grant(): void {
    for (const request of this.#queue) {
      if (this.#held >= this.#limit) return;
      this.#queue.delete(request);
      this.#held++;
      request.resolve(this.#permit());
    }
  }
}
