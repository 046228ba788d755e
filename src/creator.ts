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
import type { Deque } from './deque.js';
import { AbortError, BudgetUnavailableError, CreateTimeoutError, PoolDisposedError, PoolUnavailableError } from './errors.js';
import type { DestroyReason } from './events.js';
import type { Hooks } from './hooks.js';
import { checkCount, defaults, show, type Limits, type ResolvedOptions } from './options.js';
import { RateGate } from './rate-gate.js';
import { PermitSlot, ResourceRecord } from './resource.js';
import type { StatsRecorder } from './stats.js';
import { createChannel, type TraceContext } from './tracing.js';
import { Countdown } from './timer.js';
import { isThenable, now } from './util.js';
import { arrivalCount } from './waiter.js';
import type { Waiters } from './waiters.js';

/** Who a creation is for: a waiter, `prefill()`, or keep-warm refills and fail-fast probes. */
export type CreateKind = 'acquire' | 'prefill' | 'background';

/** What a creation resolves with when it succeeded (a failure resolves with its reason, which may be `undefined`). */
export const CREATED = Symbol('created');

function cancelled(): PoolDisposedError {
  return new PoolDisposedError('prefill()', 'The pool was disposed before this creation started; prefill() cannot complete.');
}

/** What the creator needs from the pool. */
export interface CreatorOwner<T> {
  readonly disposing: boolean;
  /** `dispose()` was called: no more keep-warm creation (a drain still creates for its waiters). */
  readonly refusing: boolean;
  /** Live resources: idle + borrowed + being created. */
  readonly size: number;
  /** Registers a new record, counted in `borrowed` until placed. */
  adopt(record: ResourceRecord<T>): void;
  /** Uncounts a record from `borrowed` and closes it. */
  closeBorrowed(record: ResourceRecord<T>, reason: DestroyReason): void;
  /** A slot was freed: dispatch, and let a dispose finish. */
  slotFreed(): void;
  /** Places a fresh record (state `returning`): to the oldest waiter, or idle; re-checks retired and disposed. */
  place(record: ResourceRecord<T>): void;
  /** Takes a resource whose permit was lost out of service: closed now if idle, when it comes back if out. */
  retire(record: ResourceRecord<T>, reason: 'revoked'): void;
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

/** Why a queued creation did not start: the pool is above a cap that resize() lowered. */
const OVER_CAP = Symbol('over maxSize after resize()');
/** Why a queued creation did not start: user code disposed the pool while it waited its turn. */
const DISPOSED = Symbol('disposed before its factory ran');

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
  readonly #idle: Deque<ResourceRecord<T>>;
  readonly #waiters: Waiters<T>;
  readonly #hooks: Hooks<T>;
  readonly #closer: Closer<T>;
  readonly #stats: StatsRecorder;
  readonly #queue: PQueue;
  /** `createRatePerSec`: lets factory calls start; `undefined` without a rate limit. */
  readonly #rateGate: RateGate | undefined;
  /** Creations waiting in the create queue, not started yet. */
  readonly #queued = new Set<{ cancel(): void }>();
  /** Creations waiting for a budget permit, oldest first. Always empty without a budget. */
  readonly #permitWaits = new Set<PermitWait>();
  readonly #limits: Limits;
  /** Bumped by `clear()`: a creation started before it is closed when it arrives. */
  #generation = 0;
  /** Background creation is backing off until `#retryAt`. */
  #retryPending = false;
  /** The current backoff follows a new resource that failed its check (see newResourceChecked). */
  #invalidBackoff = false;
  /** New resources that failed their first check in a row. */
  #invalidInARow = 0;
  #retryAt = 0;
  #retryAttempt = 0;
  /**
   * With `onCreateError: 'retry'`, the end of a backoff that callers wait for: a timer that keeps
   * the process alive, as the connection attempt it stands for would. Unref'd once nobody waits.
   */
  #retryTimer: Countdown | undefined = undefined;

  constructor(
    o: ResolvedOptions<T>,
    owner: CreatorOwner<T>,
    records: Map<T, ResourceRecord<T>>,
    idle: Deque<ResourceRecord<T>>,
    parts: { waiters: Waiters<T>; hooks: Hooks<T>; closer: Closer<T>; stats: StatsRecorder; limits: Limits },
  ) {
    this.#o = o;
    this.#owner = owner;
    this.#records = records;
    this.#idle = idle;
    this.#waiters = parts.waiters;
    this.#hooks = parts.hooks;
    this.#closer = parts.closer;
    this.#stats = parts.stats;
    this.#limits = parts.limits;
    // p-queue bounds creation to `concurrency` factory calls at once; the rate limit, a sliding
    // window so a failover cannot start a burst, runs on the pool's own unref'd timer (p-queue's
    // interval timer would keep an idle pool's process alive).
    this.#queue = new PQueue({ concurrency: o.createConcurrency });
    this.#rateGate = o.createRatePerSec === Infinity ? undefined : new RateGate(o.createRatePerSec);
  }

  /** `clear()`: creations in flight now are closed when they arrive, resources out when they come back. */
  newGeneration(): void {
    this.#generation++;
    for (const record of this.#records.values()) {
      if (record.state !== 'idle' && record.retired === undefined) record.retired = 'cleared';
    }
  }

  /** `prefill(count)`: creates until `count` are live; see `AsyncPool.prefill()`. */
  async prefill(count: number | undefined): Promise<void> {
    const owner = this.#owner;
    const limit = this.#limits.maxIdle;
    const target = count === undefined ? (limit === Infinity ? this.#limits.minIdle : limit) : checkCount('count', count, 0, false, 'prefill() argument');
    if (target > limit) {
      throw new RangeError(`poolkeeper: prefill() argument "count" must be <= maxIdle (${limit}), since resources beyond it would be closed at once; got ${target}`);
    }
    if (owner.refusing) throw new PoolDisposedError('prefill()');
    const jobs: Promise<unknown>[] = [];
    // A factory runs user code, which may acquire (starting a creation of its own) or dispose the
    // pool: the size and the pool's state are read again before each creation, and at most the
    // deficit seen at the start is created, so a factory that fails synchronously cannot loop.
    for (let deficit = target - owner.size; deficit > 0 && owner.size < target && !owner.disposing; deficit--) {
      jobs.push(this.create('prefill'));
    }
    if (owner.disposing && owner.size < target) jobs.push(Promise.resolve(cancelled()));
    const outcomes = await Promise.all(jobs);
    // A failure's reason may be undefined (a bare reject()): success is the CREATED mark.
    for (const outcome of outcomes) if (outcome !== CREATED) throw outcome;
  }

  /** `dispose()`: drops the creations not started yet (waiting for a permit or their turn); their factory never runs. */
  cancelQueued(): void {
    this.#clearRetryTimer();
    for (const wait of [...this.#permitWaits]) wait.cancel(new PoolDisposedError('acquire()'));
    this.#queue.clear();
    for (const queued of this.#queued) queued.cancel();
    this.#queued.clear();
    // Creations waiting for the rate limit go on at once, and find the pool disposed.
    if (this.#rateGate !== undefined) for (const start of this.#rateGate.clear()) start();
  }

  /**
   * The oldest caller gets this creation's failure (see `Waiters.rejectOldest`); if it was the
   * last one queued, a backoff held for it no longer holds the process.
   */
  #rejectOldest(error: unknown, arrivedBefore: number, cause: 'create' | 'budget'): boolean {
    const rejected = this.#waiters.rejectOldest(error, arrivedBefore, cause);
    if (this.#waiters.queue.length === 0) this.noWaiters();
    return rejected;
  }

  /** The last caller stopped waiting: a pending retry no longer holds the process. */
  noWaiters(): void {
    if (!this.retryHeld) return;
    this.retryHeld = false;
    this.#retryTimer?.hold(false);
  }

  /**
   * A caller left unserved (timeout, abort), `waiting` are still queued: a retry held for callers
   * stops holding the process once nobody waits, and permit requests nobody needs are withdrawn.
   */
  waiterLeft(waiting: number): void {
    if (waiting === 0) this.noWaiters();
    this.withdrawPermitWaits(waiting);
  }

  /** The failure callers are waiting out (failures in a row, or an over-capacity refusal), if any. */
  get failure(): unknown {
    return this.consecutiveFailures > 0 || this.overCapacity ? this.lastError : undefined;
  }

  #clearRetryTimer(): void {
    this.retryHeld = false;
    if (this.#retryTimer === undefined) return;
    this.#retryTimer.cancel();
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
      this.#invalidBackoff = false;
      return Infinity;
    }
    return this.#retryAt;
  }

  /**
   * Starts one factory call holding one slot. Resolves with {@link CREATED} on success (or when it
   * was withdrawn, no longer needed) or with the error on failure; never rejects, so no caller can leave a rejection unhandled.
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
        pending = Promise.resolve(this.#hooks.budgetAcquire({ signal: controller.signal, onLost: () => this.#permitLost(slot) }));
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

  /** The budget lost the permit of `slot`: its resource is retired (closed now if idle, on return if out). */
  #permitLost(slot: PermitSlot<T>): void {
    if (slot.lost || slot.done) return;
    slot.lost = true;
    if (slot.record !== undefined) this.#owner.retire(slot.record, 'revoked'); // else #created retires it once placed
  }

  /** A creation withdrawn before its factory ran: nobody needs it, or the pool is disposed. */
  #cancelled(kind: CreateKind): unknown {
    this.creating--;
    if (kind !== 'acquire') this.inBackground--;
    const owner = this.#owner;
    owner.dispatch();
    owner.checkDrained();
    // Not needed any more is no failure: prefill() counts it as done.
    return owner.disposing ? cancelled() : CREATED;
  }

  /** Queues the factory call of a creation counted in `creating` (holding its permit, if any). Never rejects. */
  #start(kind: CreateKind, generation: number, slot: PermitSlot<T> | undefined, arrivals: number): Promise<unknown> {
    return new Promise<unknown>((done) => {
      let started = 0;
      // While queued in p-queue (createConcurrency), dispose() can cancel it.
      const queued = {
        cancel: () => {
          void this.#closer.givePermitBack(slot);
          done(this.#failed(cancelled(), kind, arrivals));
        },
      };
      this.#queued.add(queued);
      const call = (): Promise<T> => {
        // User code (a listener, an earlier factory call) may have disposed the pool since this
        // creation was queued: its factory never runs then.
        if (this.#owner.disposing) return Promise.reject(DISPOSED);
        // resize() lowered the cap while this waited its turn: it would only be closed on arrival.
        if (this.#owner.size > this.#limits.maxSize) return Promise.reject(OVER_CAP);
        started = now();
        if (createChannel.hasSubscribers) {
          const context: TraceContext = { pool: this.#o.name };
          return createChannel.tracePromise(this.#callFactory, context, this, slot);
        }
        return this.#callFactory(slot);
      };
      const gate = this.#rateGate;
      const task = (): Promise<T> => {
        this.#queued.delete(queued);
        if (gate === undefined) return call();
        // Holding its concurrency slot, it waits for the rate limit; dispose() lets it go at once.
        return new Promise<void>((pass) => gate.pass(pass)).then(call);
      };
      // No abort signal here on purpose: p-queue would race a running factory against it and
      // drop the resource that arrives later. dispose() cancels only the queued ones.
      this.#queue.add(task).then(
        (resource) => done(this.#created(resource, kind, generation, started, arrivals, slot)),
        (error: unknown) => {
          if (error !== OVER_CAP && error !== DISPOSED) {
            done(this.#failed(error, kind, arrivals)); // #callFactory gave the permit back
            return;
          }
          // The factory never ran: the permit goes back here.
          void this.#closer.givePermitBack(slot);
          done(error === DISPOSED ? this.#failed(cancelled(), kind, arrivals) : this.#cancelled(kind));
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
      const timers = this.#closer.timers;
      let settled = false;
      let timer: Countdown | undefined = undefined;
      const accept = (resource: T): void => {
        if (settled) {
          // It arrived after its create timeout: never leak it (unless it is one the pool has); its
          // permit goes back once it is closed.
          if (resource !== null && resource !== undefined && !this.#records.has(resource)) void this.#closer.runReleaser(resource, slot);
          else void this.#closer.givePermitBack(slot);
          return;
        }
        settled = true;
        timers.stop(timer);
        if (resource === null || resource === undefined) {
          void this.#closer.givePermitBack(slot);
          reject(new TypeError(`poolkeeper: factory() returned ${String(resource)}; it must return the resource`));
        } else {
          resolve(resource); // checked against the pool's resources when it is registered (#created)
        }
      };
      const fail = (error: unknown): void => {
        if (settled) {
          void this.#closer.givePermitBack(slot); // a late failure after the timeout: the caller already has its error
          return;
        }
        settled = true;
        timers.stop(timer);
        void this.#closer.givePermitBack(slot);
        reject(error);
      };
      timer = timers.start(timeoutMs, () => {
        settled = true; // the permit stays with the factory call until it settles (see above)
        reject(new CreateTimeoutError(timeoutMs));
      });
      try {
        const result = this.#hooks.factory();
        // A thenable is adopted as `await` would: its first settlement counts, nothing after it.
        if (isThenable(result)) Promise.resolve(result as PromiseLike<T>).then(accept, fail);
        else accept(result);
      } catch (error) {
        fail(error);
      }
    });
  }

  #created(resource: T, kind: CreateKind, generation: number, started: number, arrivals: number, slot: PermitSlot<T> | undefined): unknown {
    // Checked here, when it is registered, not when the factory answered: two creations in
    // flight may return the same object. Its permit goes back: the pool keeps no resource for it.
    if (this.#records.has(resource)) {
      void this.#closer.givePermitBack(slot);
      return this.#failed(new TypeError('poolkeeper: factory() returned a resource that is already in the pool; it must return a new one'), kind, arrivals);
    }
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
    // On its way in: counted, neither idle nor anyone's, until placed.
    record.state = 'returning';
    owner.adopt(record);
    this.#stats.created++;
    // clear() was called while it was being created: closed on arrival, never handed out.
    if (generation !== this.#generation) record.retired = 'cleared';
    // Not while disposing: it is closed at once, and the timer would outlive the pool.
    if (lifetime !== Infinity && !owner.disposing) owner.scheduleMaintenance(record.expiresAt, t);
    if (this.#hooks.listeners.create !== undefined) this.#hooks.emit('create', { resource, durationMs: t - started });
    // Placing re-checks what the listener may have done (clear(), dispose(), an acquire() now queued).
    owner.place(record);
    // Lost while the factory ran: it still serves the caller it was made for (closing it at once
    // would only start another creation, without end if the budget keeps losing permits), and is
    // retired after. Placing ran user code: retire() re-checks the record and the pool.
    if (slot?.lost === true) owner.retire(record, 'revoked');
    return CREATED;
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
      this.#backOff();
      // Reported once the state is complete; the listener may call back into the pool.
      if (kind === 'background') this.#closer.reportError(error, 'create', undefined);
      owner.dispatch();
      return error;
    }
    this.#stats.createFailed++;
    this.consecutiveFailures++;
    this.lastError = error;
    let report = kind === 'background';
    // Dispatch lets waiters count on any creation in flight, a keep-warm one too: when waiters
    // outnumber the creations started for them, this one was theirs, and so is its error.
    if (kind === 'acquire' || this.#waiters.queue.length > this.creating - this.inBackground) {
      // The resource would have gone to the oldest waiter: that caller gets the error, unless
      // creations are retried (onCreateError 'retry'), or this creation was started for callers
      // and the oldest arrived after it started: the caller it was for has left, and the next
      // one, who still has time, gets a creation of its own. A waiter that counted on a
      // keep-warm creation gets its error. prefill()'s caller gets its own error either way.
      const arrivedBefore = kind === 'acquire' ? arrivals : Infinity;
      const rejected = this.#o.onCreateError === 'reject' && this.#rejectOldest(error, arrivedBefore, 'create');
      report = !rejected && kind !== 'prefill';
    }
    if (kind !== 'prefill') this.#backOff();
    if (this.consecutiveFailures >= this.#o.failFastAfter && !this.failingFast) this.#failFast();
    // Reported once the state is complete; the listener may call back into the pool.
    if (report) this.#closer.reportError(error, 'create', undefined);
    owner.dispatch();
    return error;
  }

  /** The budget granted no permit: the caller the creation was for gets the error; no fail-fast count. */
  #noPermit(error: unknown, kind: CreateKind, arrivals: number): unknown {
    const owner = this.#owner;
    let report = kind === 'background';
    if (kind === 'acquire' || this.#waiters.queue.length > this.creating - this.inBackground) {
      const arrivedBefore = kind === 'acquire' ? arrivals : Infinity;
      report = !this.#rejectOldest(error, arrivedBefore, 'budget') && kind !== 'prefill';
    }
    if (kind === 'background') this.#backOff();
    // Reported once the state is complete; the listener may call back into the pool.
    if (report) this.#closer.reportError(error, 'budget', undefined);
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
    // A backoff that holds creation back for callers (with 'retry', after an over-capacity refusal,
    // or after a new resource failed its check, even if an ordinary failure restarted it) must
    // keep the process alive while they wait for it: the (unref'd) maintenance timer alone would
    // let it exit in the middle of their acquire(). This timer ends the backoff and dispatches; it
    // holds the process while callers wait (see holdForCallers and noWaiters). A Countdown: a
    // backoff above 2^31-1 ms (a large createRetry.maxDelayMs) is waited out in full.
    if (this.holdingCreation) {
      this.#clearRetryTimer();
      this.#retryTimer = new Countdown(delay, () => {
        this.#retryTimer = undefined;
        this.retryHeld = false;
        if (this.retryDeadline(now()) === Infinity) this.#owner.dispatch();
      });
      if (this.#waiters.queue.length !== 0) this.holdForCallers();
    }
  }

  /**
   * Callers wait for a creation that the current backoff holds back: its timer keeps the process
   * alive, as the connection attempt it stands for would, until it ends or nobody waits
   * ({@link noWaiters}). Called whenever callers are queued during the backoff, not only at its
   * start: the first caller may have left and another come.
   */
  holdForCallers(): void {
    if (this.retryHeld || this.#retryTimer === undefined) return;
    this.retryHeld = true;
    this.#retryTimer.hold(true);
  }

  /**
   * A new resource had the check it gets straight from the factory (`validateOnCreate`). When it
   * failed, what the backend hands out does not work: creation for callers waits for a backoff
   * that grows with each such failure in a row, as after over-capacity refusals, and holds the
   * process while callers wait for it (a creation is due for them). When it passed, the run ends.
   */
  newResourceChecked(valid: boolean): void {
    if (valid) {
      this.#invalidInARow = 0;
      return;
    }
    // The factory's success reset the backoff's growth: the run of invalid ones sets it again.
    this.#retryAttempt = Math.max(this.#retryAttempt, this.#invalidInARow);
    this.#invalidInARow = Math.min(this.#invalidInARow + 1, 30);
    this.#invalidBackoff = true;
    this.#backOff();
  }

  /**
   * Whether creation for callers waits for the current backoff to end: with `onCreateError
   * 'retry'`, after an over-capacity refusal, or after a new resource failed its check.
   */
  get holdingCreation(): boolean {
    return this.#retryPending && (this.#o.onCreateError === 'retry' || this.overCapacity || this.#invalidBackoff);
  }

  /** Too many failures in a row: reject waiters now rather than letting each time out. */
  #failFast(): void {
    this.failingFast = true;
    // Prefill failures set no backoff: make sure a probe is scheduled, or nothing would end fail-fast.
    if (!this.#retryPending) this.#backOff();
    this.#waiters.rejectAll(new PoolUnavailableError(this.consecutiveFailures, this.lastError));
    this.noWaiters();
  }

  /**
   * Keeps `minIdle` resources idle and `min` resources live (and probes while failing fast),
   * unless backing off or shutting down.
   */
  refill(): void {
    const owner = this.#owner;
    if (owner.refusing || this.#retryPending) return;
    if (this.failingFast) {
      // A probe needs a free slot. Without one (resize() lowered maxSize to or below what is
      // live) it would be refused at its turn, and the refusal's dispatch would start the next
      // one: a loop in promise callbacks that starves every timer. Probed once a slot frees.
      if (this.creating === 0 && owner.size < this.#limits.maxSize) void this.create('background');
      return;
    }
    // Not while a waiter's resource is being validated: a resource made now would land idle, be
    // the next one validated if the check fails, and so on without end. Refilled after.
    if (this.#waiters.serving.size !== 0) return;
    const { min } = this.#o;
    const limits = this.#limits;
    // User code run by a creation (the factory) may dispose the pool: re-checked on every turn.
    while (!owner.disposing && this.#idle.length + this.inBackground < limits.minIdle && owner.size < limits.maxSize) {
      void this.create('background');
    }
    while (!owner.disposing && owner.size < min) void this.create('background'); // min <= maxSize: borrowed ones count
  }
}
