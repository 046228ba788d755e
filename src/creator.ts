/**
 * Creation: one factory call per slot, through a p-queue that bounds concurrency and rate; the
 * create timeout and the checks on what the factory returns; generations (`clear()`); the budget
 * permit obtained before each factory call (when the pool has a `budget`); and the failure side:
 * backoff for background creation, over-capacity back-pressure, and fail-fast after repeated
 * failures.
 *
 * @internal
 */
import PQueue from 'p-queue';
import type { BudgetPermit } from './budget.js';
import type { Closer } from './closer.js';
import { AbortError, BudgetUnavailableError, CreateTimeoutError, PoolDisposedError, PoolUnavailableError } from './errors.js';
import type { DestroyReason } from './events.js';
import type { Hooks } from './hooks.js';
import { defaults, show, type Limits, type ResolvedOptions } from './options.js';
import { PermitSlot, ResourceRecord } from './resource.js';
import type { StatsRecorder } from './stats.js';
import { createChannel, type TraceContext } from './tracing.js';
import { isThenable, now } from './util.js';
import { arrivalCount } from './waiter.js';

/** Who a creation is for: a waiter, `prefill()`, or keep-warm refills and fail-fast probes. */
export type CreateKind = 'acquire' | 'prefill' | 'background';

/** What the creator needs from the pool. */
export interface CreatorOwner<T> {
  readonly disposing: boolean;
  /** `dispose()` was called: no more keep-warm creation (a drain still creates for its waiters). */
  readonly refusing: boolean;
  /** Live resources: idle + borrowed + being created. */
  readonly size: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  /** Waiters whose resource is being validated. */
  readonly validatingCount: number;
  /** Registers a new record, counted in `borrowed` until placed. */
  adopt(record: ResourceRecord<T>): void;
  /** Uncounts a record from `borrowed` and closes it. */
  closeBorrowed(record: ResourceRecord<T>, reason: DestroyReason): void;
  /** A slot was freed: dispatch, and let a dispose finish. */
  slotFreed(): void;
  /** Places a fresh record: to the oldest waiter, or idle. */
  place(record: ResourceRecord<T>): void;
  /**
   * Rejects the oldest waiter with a creation's error (or the budget's, `cause` `'budget'`) if it
   * arrived before `arrivedBefore` (an `arrivalCount()` reading); false when nobody waits or it came later.
   */
  rejectOldest(error: unknown, arrivedBefore: number, cause?: 'create' | 'budget'): boolean;
  /** The budget lost the permit of `slot`: retire its resource. */
  permitLost(slot: PermitSlot<T>): void;
  /** Retires a resource whose permit was lost: closed now if idle, when it comes back if out. */
  revoke(record: ResourceRecord<T>): void;
  /** Rejects every waiter (fail-fast). */
  rejectAll(error: PoolUnavailableError): void;
  dispatch(): void;
  checkDrained(): void;
  /** Makes sure the maintenance timer fires by `at`. */
  scheduleMaintenance(at: number, t: number): void;
}

/** A creation waiting for a budget permit. */
interface PermitWait {
  readonly kind: CreateKind;
  /** Withdraws it: aborts the budget request and frees the slot at once. */
  cancel(reason: unknown): void;
}

const PREFILL_CANCELLED = 'The pool was disposed before this creation started; prefill() cannot complete.';

/** Why a queued creation did not start: the pool is above a cap that resize() lowered. */
const OVER_CAP = Symbol('over maxSize after resize()');

export class Creator<T> {
  /** Factory calls in flight, queued ones included; each holds a slot. */
  creating = 0;
  /**
   * Of `creating`: those no waiter asked for (prefill, keep-warm refills, fail-fast probes), which
   * will end up idle; refills count them so prefill() and a refill never both fill the same gap.
   */
  inBackground = 0;
  consecutiveFailures = 0;
  lastError: unknown = undefined;
  failingFast = false;
  /** True while a retry that callers wait for holds the process (see `#retryTimer`). */
  retryHeld = false;
  /** The last creation failed "over capacity": waiters' creations wait for the backoff to end. */
  overCapacity = false;

  readonly #o: ResolvedOptions<T>;
  readonly #owner: CreatorOwner<T>;
  readonly #records: Map<T, ResourceRecord<T>>;
  readonly #hooks: Hooks<T>;
  readonly #closer: Closer<T>;
  readonly #stats: StatsRecorder;
  readonly #queue: PQueue;
  /** Creations waiting in the create queue, not started yet. */
  readonly #queued = new Set<{ cancel(): void }>();
  /** Creations waiting for a budget permit, oldest first. Always empty without a budget. */
  readonly #permitWaits = new Set<PermitWait>();
  readonly #limits: Limits;
  /** Bumped by `clear()`: a creation started before it is closed when it arrives. */
  #generation = 0;
  /** Background creation is backing off until `#retryAt`. */
  #retryPending = false;
  #retryAt = 0;
  #retryAttempt = 0;
  /**
   * With `onCreateError: 'retry'`, the end of a backoff that callers wait for: a timer that keeps
   * the process alive, as the connection attempt it stands for would. Unref'd once nobody waits.
   */
  #retryTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    o: ResolvedOptions<T>,
    owner: CreatorOwner<T>,
    records: Map<T, ResourceRecord<T>>,
    hooks: Hooks<T>,
    closer: Closer<T>,
    stats: StatsRecorder,
    limits: Limits,
  ) {
    this.#o = o;
    this.#limits = limits;
    this.#owner = owner;
    this.#records = records;
    this.#hooks = hooks;
    this.#closer = closer;
    this.#stats = stats;
    const rate = o.createRatePerSec;
    // p-queue bounds creation: `concurrency` factory calls at once, and with a rate, `intervalCap`
    // starts per `interval` on a sliding window (strict), so a failover cannot start a burst.
    const intervalCap = rate === Infinity ? Infinity : Math.max(1, Math.round(rate));
    this.#queue = new PQueue({
      concurrency: o.createConcurrency,
      ...(rate === Infinity ? {} : { intervalCap, interval: Math.round((intervalCap / rate) * 1000), strict: true }),
    });
  }

  /** `clear()`: creations in flight now are closed when they arrive. */
  newGeneration(): void {
    this.#generation++;
  }

  /** `dispose()`: drops the creations not started yet (waiting for a permit or their turn); their factory never runs. */
  cancelQueued(): void {
    this.#clearRetryTimer();
    for (const wait of [...this.#permitWaits]) wait.cancel(new PoolDisposedError('acquire()'));
    this.#queue.clear();
    for (const queued of this.#queued) queued.cancel();
    this.#queued.clear();
  }

  /** The last caller stopped waiting: a pending retry no longer holds the process. */
  noWaiters(): void {
    if (!this.retryHeld) return;
    this.retryHeld = false;
    this.#retryTimer?.unref?.();
  }

  #clearRetryTimer(): void {
    this.retryHeld = false;
    if (this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** True while creation backs off after a failure. */
  get backingOff(): boolean {
    return this.#retryPending;
  }

  /** `resize()`: the creation queue's concurrency follows `maxSize` when the option was not given. */
  resized(maxSize: number): void {
    if (this.#o.createConcurrencyFollowsMaxSize) this.#queue.concurrency = Math.min(maxSize, defaults.createConcurrencyCap);
  }

  /**
   * Callers left (timeout, abort) while creations for them wait for a permit: withdraw those no
   * remaining waiter needs, newest first, so the budget is never held for nobody.
   */
  withdrawPermitWaits(waiting: number): void {
    if (this.#permitWaits.size === 0) return;
    let excess = this.creating - this.inBackground - waiting;
    if (excess <= 0) return;
    const waits = [...this.#permitWaits];
    for (let i = waits.length - 1; i >= 0 && excess > 0; i--) {
      const wait = waits[i]!;
      if (wait.kind !== 'acquire') continue;
      wait.cancel(new AbortError('No caller needs this creation any more'));
      excess--;
    }
  }

  /** Ends a backoff whose time has come; returns the deadline of one still ahead, or `Infinity`. */
  retryDeadline(t: number): number {
    if (!this.#retryPending) return Infinity;
    if (this.#retryAt - t < 1) {
      this.#retryPending = false;
      return Infinity;
    }
    return this.#retryAt;
  }

  /**
   * Starts one factory call holding one slot. Resolves with `undefined` on success or with the
   * error on failure; never rejects, so no caller can leave a rejection unhandled.
   */
  create(kind: CreateKind): Promise<unknown> {
    this.creating++;
    if (kind !== 'acquire') this.inBackground++;
    const generation = this.#generation;
    // Waiters that arrived before this point may count on this creation; later ones never did.
    const arrivals = arrivalCount();
    if (this.#o.budget === undefined) return this.#start(kind, generation, undefined, arrivals);
    return this.#withPermit(kind, generation, arrivals);
  }

  /** Obtains a permit from the budget, then starts the creation. Never rejects. */
  #withPermit(kind: CreateKind, generation: number, arrivals: number): Promise<unknown> {
    return new Promise<unknown>((done) => {
      const controller = new AbortController();
      const slot = new PermitSlot<T>();
      let over = false; // granted, failed or withdrawn: decided once
      const wait: PermitWait = {
        kind,
        cancel: (reason) => {
          if (over) return;
          over = true;
          this.#permitWaits.delete(wait);
          controller.abort(reason);
          done(this.#cancelled(kind));
        },
      };
      this.#permitWaits.add(wait);
      let pending: Promise<BudgetPermit>;
      try {
        pending = Promise.resolve(this.#hooks.budgetAcquire({ signal: controller.signal, onLost: () => this.#owner.permitLost(slot) }));
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (permit) => {
          const valid = typeof permit === 'object' && permit !== null && typeof permit.release === 'function';
          if (valid) slot.permit = permit;
          if (over) {
            void this.#closer.givePermitBack(slot); // granted after it was withdrawn
            return;
          }
          over = true;
          this.#permitWaits.delete(wait);
          if (!valid) {
            const error = new TypeError(`poolkeeper: budget.acquire() resolved with ${show(permit)}; it must resolve with a permit { release() }`);
            done(this.#failed(new BudgetUnavailableError(error), kind, arrivals, 'budget'));
            return;
          }
          this.#start(kind, generation, slot, arrivals).then(done);
        },
        (error: unknown) => {
          if (over) return;
          over = true;
          this.#permitWaits.delete(wait);
          done(this.#failed(error instanceof BudgetUnavailableError ? error : new BudgetUnavailableError(error), kind, arrivals, 'budget'));
        },
      );
    });
  }

  /** A creation withdrawn before its factory ran: nobody needs it, or the pool is disposed. */
  #cancelled(kind: CreateKind): unknown {
    this.creating--;
    if (kind !== 'acquire') this.inBackground--;
    const owner = this.#owner;
    owner.dispatch();
    owner.checkDrained();
    return owner.disposing ? new PoolDisposedError('prefill()', PREFILL_CANCELLED) : undefined;
  }

  /** Queues the factory call of a creation counted in `creating` (holding its permit, if any). Never rejects. */
  #start(kind: CreateKind, generation: number, slot: PermitSlot<T> | undefined, arrivals: number): Promise<unknown> {
    return new Promise<unknown>((done) => {
      let started = 0;
      // While queued in p-queue (createConcurrency, createRatePerSec), dispose() can cancel it.
      const queued = {
        cancel: () => {
          void this.#closer.givePermitBack(slot);
          done(this.#failed(new PoolDisposedError('prefill()', PREFILL_CANCELLED), kind, arrivals));
        },
      };
      this.#queued.add(queued);
      const task = (): Promise<T> => {
        this.#queued.delete(queued);
        // resize() lowered the cap while this waited its turn: it would only be closed on arrival.
        if (this.#owner.size > this.#limits.maxSize) return Promise.reject(OVER_CAP);
        started = now();
        if (createChannel.hasSubscribers) {
          const context: TraceContext = { pool: this.#o.name };
          return createChannel.tracePromise(this.#callFactory, context, this, slot);
        }
        return this.#callFactory(slot);
      };
      // No abort signal here on purpose: p-queue would race a running factory against it and
      // drop the resource that arrives later. dispose() cancels only the queued ones.
      this.#queue.add(task).then(
        (resource) => done(this.#created(resource, kind, generation, started, slot)),
        (error: unknown) => {
          if (error !== OVER_CAP) {
            done(this.#failed(error, kind, arrivals));
            return;
          }
          void this.#closer.givePermitBack(slot);
          done(this.#cancelled(kind));
        },
      );
    });
  }

  /**
   * One factory call, bounded by `createTimeoutMs`; a resource that arrives too late is closed.
   * The permit (if any) goes back here when the call fails; after a timeout it stays with the
   * call until the factory settles (the connection may still be opening), then goes back.
   */
  #callFactory(slot: PermitSlot<T> | undefined): Promise<T> {
    const timeoutMs = this.#o.createTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const accept = (resource: T): void => {
        if (settled) {
          // It arrived after its create timeout: never leak it; its permit goes back once it is closed.
          if (resource !== null && resource !== undefined && !this.#records.has(resource)) void this.#closer.runReleaser(resource, slot);
          else void this.#closer.givePermitBack(slot);
          return;
        }
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        if (resource === null || resource === undefined) {
          void this.#closer.givePermitBack(slot);
          reject(new TypeError(`poolkeeper: factory() returned ${String(resource)}; it must return the resource`));
        } else if (this.#records.has(resource)) {
          void this.#closer.givePermitBack(slot);
          reject(new TypeError('poolkeeper: factory() returned a resource that is already in the pool; it must return a new one'));
        } else {
          resolve(resource);
        }
      };
      const fail = (error: unknown): void => {
        if (settled) {
          void this.#closer.givePermitBack(slot); // a late failure after the timeout: the caller already has its error
          return;
        }
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        void this.#closer.givePermitBack(slot);
        reject(error);
      };
      if (timeoutMs !== Infinity) {
        timer = setTimeout(() => {
          settled = true; // the permit stays with the factory call until it settles (see above)
          reject(new CreateTimeoutError(timeoutMs));
        }, timeoutMs);
        timer.unref?.();
      }
      try {
        const result = this.#hooks.factory();
        if (isThenable(result)) (result as PromiseLike<T>).then(accept, fail);
        else accept(result);
      } catch (error) {
        fail(error);
      }
    });
  }

  #created(resource: T, kind: CreateKind, generation: number, started: number, slot: PermitSlot<T> | undefined): undefined {
    this.creating--;
    if (kind !== 'acquire') this.inBackground--;
    this.consecutiveFailures = 0;
    this.lastError = undefined;
    this.failingFast = false;
    this.overCapacity = false;
    this.#retryAttempt = 0;
    const t = now();
    const o = this.#o;
    const owner = this.#owner;
    const lifetime = o.recycleMs * (1 - o.recycleJitter * Math.random());
    const record = new ResourceRecord(resource, t, t + lifetime);
    if (slot !== undefined) {
      record.permit = slot;
      slot.record = record;
    }
    owner.adopt(record);
    this.#stats.created++;
    if (this.#hooks.listeners.create !== undefined) this.#hooks.emit('create', { resource, durationMs: t - started });
    if (generation !== this.#generation && !owner.disposing) {
      owner.closeBorrowed(record, 'cleared');
      owner.slotFreed();
      return undefined;
    }
    // Not while disposing: it is closed at once, and the timer would outlive the pool.
    if (lifetime !== Infinity && !owner.disposing) owner.scheduleMaintenance(record.expiresAt, t);
    owner.place(record);
    // Lost while the factory ran: it still serves the caller it was made for (closing it at once
    // would only start another creation, without end if the budget keeps losing permits), and is
    // retired after.
    if (slot?.lost === true) owner.revoke(record);
    return undefined;
  }

  /** `arrivals`: the {@link arrivalCount} reading when the creation was started. */
  #failed(error: unknown, kind: CreateKind, arrivals: number, source: 'factory' | 'budget' = 'factory'): unknown {
    const owner = this.#owner;
    // User code (the predicate) runs before any state changes; the pool is re-checked after.
    const overCapacity = source === 'factory' && !owner.disposing && this.#o.isOverCapacity !== undefined && this.#hooks.isOverCapacity(error);
    this.creating--;
    if (kind !== 'acquire') this.inBackground--;
    if (owner.disposing) {
      // Failed while shutting down: nobody waits for it.
      owner.checkDrained();
      return error;
    }
    if (source === 'budget') return this.#noPermit(error, kind, arrivals);
    if (overCapacity) {
      // Back-pressure, not a failure: waiters keep their place until the backoff ends, within
      // their own timeouts. Never counts towards fail-fast.
      this.#stats.createFailed++;
      this.#stats.overCapacity++;
      this.lastError = error;
      this.overCapacity = true;
      if (kind === 'background') this.#closer.reportError(error, 'create', undefined);
      this.#backOff();
      owner.dispatch();
      return error;
    }
    this.#stats.createFailed++;
    this.consecutiveFailures++;
    this.lastError = error;
    // Dispatch lets waiters count on any creation in flight, a keep-warm one too: when waiters
    // outnumber the creations started for them, this one was theirs, and so is its error.
    if (kind === 'acquire' || owner.waitingCount > this.creating - this.inBackground) {
      // The resource would have gone to the oldest waiter: that caller gets the error, unless
      // creations are retried (onCreateError 'retry'), or this creation was started for callers
      // and the oldest arrived after it started: the caller it was for has left, and the next
      // one, who still has time, gets a creation of its own. A waiter that counted on a
      // keep-warm creation gets its error. prefill()'s caller gets its own error either way.
      const arrivedBefore = kind === 'acquire' ? arrivals : Infinity;
      const rejected = this.#o.onCreateError === 'reject' && owner.rejectOldest(error, arrivedBefore);
      if (!rejected && kind !== 'prefill') this.#closer.reportError(error, 'create', undefined);
    } else if (kind === 'background') {
      this.#closer.reportError(error, 'create', undefined);
    }
    if (kind !== 'prefill') this.#backOff();
    if (this.consecutiveFailures >= this.#o.failFastAfter && !this.failingFast) this.#failFast();
    owner.dispatch();
    return error;
  }

  /** The budget granted no permit: the caller the creation was for gets the error; no fail-fast count. */
  #noPermit(error: unknown, kind: CreateKind, arrivals: number): unknown {
    const owner = this.#owner;
    if (kind === 'acquire' || owner.waitingCount > this.creating - this.inBackground) {
      const arrivedBefore = kind === 'acquire' ? arrivals : Infinity;
      if (!owner.rejectOldest(error, arrivedBefore, 'budget') && kind !== 'prefill') this.#closer.reportError(error, 'budget', undefined);
    } else if (kind === 'background') {
      this.#closer.reportError(error, 'budget', undefined);
    }
    if (kind === 'background') this.#backOff();
    owner.dispatch();
    return error;
  }

  /**
   * Background creation (and, with `onCreateError: 'retry'`, creation for waiters) waits
   * (exponential backoff with jitter) before trying again.
   */
  #backOff(): void {
    const { minDelayMs, maxDelayMs } = this.#o.createRetry;
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** this.#retryAttempt);
    this.#retryAttempt = Math.min(this.#retryAttempt + 1, 30);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2; // "equal jitter": never a busy loop
    const t = now();
    this.#retryPending = true;
    this.#retryAt = t + delay;
    this.#owner.scheduleMaintenance(this.#retryAt, t);
    if (this.#o.onCreateError === 'retry' && this.#owner.waitingCount !== 0) {
      // Callers wait for this retry: the (unref'd) maintenance timer alone would let the process
      // exit in the middle of their acquire(). This one ends the backoff and dispatches.
      this.#clearRetryTimer();
      this.retryHeld = true;
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.retryHeld = false;
        if (this.retryDeadline(now()) === Infinity) this.#owner.dispatch();
      }, delay);
    }
  }

  /** Too many failures in a row: reject waiters now rather than letting each time out. */
  #failFast(): void {
    this.failingFast = true;
    // Prefill failures set no backoff: make sure a probe is scheduled, or nothing would end fail-fast.
    if (!this.#retryPending) this.#backOff();
    this.#owner.rejectAll(new PoolUnavailableError(this.consecutiveFailures, this.lastError));
  }

  /**
   * Keeps `minIdle` resources idle and `min` resources live (and probes while failing fast),
   * unless backing off or shutting down.
   */
  refill(): void {
    const owner = this.#owner;
    if (owner.refusing || this.#retryPending) return;
    if (this.failingFast) {
      if (this.creating === 0) void this.create('background');
      return;
    }
    // Not while a waiter's resource is being validated: a resource made now would land idle, be
    // the next one validated if the check fails, and so on without end. Refilled after.
    if (owner.validatingCount !== 0) return;
    const { min } = this.#o;
    const limits = this.#limits;
    while (owner.idleCount + this.inBackground < limits.minIdle && owner.size < limits.maxSize) {
      void this.create('background');
    }
    while (owner.size < min) void this.create('background'); // min <= maxSize: borrowed ones count
  }
}
