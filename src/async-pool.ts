/**
 * `AsyncPool<T>`: a bounded pool of asynchronously created resources, with waiters served in
 * arrival order.
 *
 * How to read this file: it holds the public API, the counts, the hand-off and the dispatch
 * point. Every change of state (a release, a destroy, a creation that finishes, a timer) ends in
 * {@link AsyncPool.#dispatch}, the one place that decides what happens next: idle resources go to
 * the oldest waiters, and creations start for waiters that no creation in flight will serve.
 * Each lifecycle concern lives in a module of its own, which reaches back into the pool only
 * through `#inner` (typed by the module's `…Owner` interface): the waiting callers and every way
 * they leave unserved in `waiters.ts`, creation in `creator.ts`, validate and reset in
 * `health.ts`, closing in `closer.ts` (with taking a resource out of service), lifetimes and
 * maintenance in `housekeeper.ts`, dispose in `shutdown.ts`, `resize()`'s checks in `sizing.ts`,
 * the per-borrow guard of `use()`/`borrow()` in `lease.ts`. User code runs only through `hooks.ts`.
 *
 * @module
 */
import { Closer } from './closer.js';
import { Creator, type CreatorOwner } from './creator.js';
import { Deque } from './deque.js';
import { NotBorrowedError, PoolDisposedError, PoolQueueFullError, PoolUnavailableError, type PoolCounts } from './errors.js';
import type { DestroyReason, PoolEvents, PoolListener } from './events.js';
import { Health, type HealthOwner } from './health.js';
import { Hooks } from './hooks.js';
import { Housekeeper, type HousekeeperOwner } from './housekeeper.js';
import { leaseOf, runBorrowed, type BorrowOwner, type Lease } from './lease.js';
import { parseAcquireOptions, resolveOptions, show, type AcquireOptions, type AsyncPoolOptions, type Limits, type ResolvedOptions } from './options.js';
import { ResourceRecord } from './resource.js';
import { Shutdown, type DisposeOptions, type ShutdownOwner } from './shutdown.js';
import { resizeLimits, type ResizeOptions } from './sizing.js';
import { StatsRecorder, type PoolStats } from './stats.js';
import { acquireChannel, type TraceContext } from './tracing.js';
import { now } from './util.js';
import { fulfil, parkedPromise, takeResolver, unboundWaiter, Waiter, WaiterExtra, type Resolver, type WaiterOwner } from './waiter.js';
import type { WaiterQueueLike } from './waiter-queue.js';
import { abortErrorOf, Waiters, type WaitersOwner } from './waiters.js';

export type { DisposeOptions } from './shutdown.js';
export type { ResizeOptions } from './sizing.js';

/** Everything the pool's modules call back into; kept off the public surface. */
type Inner<T> = WaiterOwner<T> & WaitersOwner & CreatorOwner<T> & HealthOwner<T> & HousekeeperOwner<T> & ShutdownOwner<T>;

/**
 * What the module keeps alive for good (see `AsyncPool.#anchorShapes`): a pool of its own, after
 * one round of the hot path, and a waiter. Empty while they are being built.
 */
let shapeAnchor: readonly object[] | undefined;

/**
 * A bounded pool of resources that are expensive to create: connections, sockets, workers.
 *
 * @example
 * ```ts
 * const pool = new AsyncPool({
 *   factory: () => connect(),
 *   releaser: (conn) => conn.close(),
 *   maxSize: 10,
 * });
 * await pool.prefill();
 * const rows = await pool.use((conn) => conn.query('SELECT 1'));
 * await pool.dispose();
 * ```
 */
export class AsyncPool<T> implements AsyncDisposable {
  readonly #o: ResolvedOptions<T>;
  // Copies of hot options, read on every acquire/release.
  readonly #lifo: boolean;
  // resize() changes these: the shared limits, and copies of the two the hot path reads.
  readonly #limits: Limits;
  #maxSize: number;
  #maxIdle: number;
  /** `maxIdle` was never given: resize() moves it with `maxSize`. */
  #maxIdleFollows: boolean;
  readonly #acquireTimeoutMs: number;
  readonly #maxUses: number;
  /** minIdle or min is set: keep-warm refills run. resize() updates it. */
  #keepWarm: boolean;
  readonly #validating: boolean;
  readonly #resetting: boolean;
  /** True when an option needs `idleSince` (idle timeout, validation window). */
  readonly #trackIdleTime: boolean;
  readonly #trackLeaks: boolean;
  /** `validateIdleAfterMs` is 0: a released resource handed straight to a waiter is validated for it. */
  readonly #validateEveryBorrow: boolean;
  readonly #maxWaiters: number;

  /** Every live resource that exists (idle or out), by resource: O(1) release and double-release detection. */
  readonly #records = new Map<T, ResourceRecord<T>>();
  /** Idle resources, oldest-idle at the front: LIFO pops the back, FIFO the front. */
  readonly #idle = new Deque<ResourceRecord<T>>();
  readonly #waiting: Waiters<T>;
  // Shortcuts into #waiting, read on every acquire and release.
  readonly #waiters: WaiterQueueLike<T>;
  readonly #serving: Set<Waiter<T>>;
  readonly #stats = new StatsRecorder();
  readonly #hooks: Hooks<T>;
  readonly #closer: Closer<T>;
  readonly #creator: Creator<T>;
  readonly #health: Health<T>;
  readonly #housekeeper: Housekeeper<T>;
  readonly #shutdown: Shutdown<T>;
  readonly #inner: Inner<T>;
  /**
   * What the modules call back into. One class for every pool, so every pool's `#inner` has the
   * same hidden class: an object literal with getters got a hidden class of its own per pool, and
   * once a dropped pool was garbage-collected the code compiled against it was thrown away; the
   * next pool's hot path then ran about 2x slower (scenario 2 of the neutral harness, after other
   * pools had come and gone: 1.8 µs per op, against 0.95 µs with this class).
   */
  static readonly #Inner = class PoolInner<R> implements Inner<R> {
    readonly #pool: AsyncPool<R>;
    constructor(pool: AsyncPool<R>) { this.#pool = pool; }
    // The pool's state, read by the modules.
    get disposing(): boolean { return this.#pool.#disposing; }
    get refusing(): boolean { return this.#pool.#refusing; }
    get size(): number { return this.#pool.size; }
    get borrowedCount(): number { return this.#pool.#borrowed; }
    get createFailure(): unknown { return this.#pool.#creator.failure; }
    counts(): PoolCounts { return this.#pool.#counts(); }
    // The transitions that move the pool's counts, and the dispatch point.
    adopt(record: ResourceRecord<R>): void { this.#pool.#adopt(record); }
    place(record: ResourceRecord<R>): void { this.#pool.#place(record); }
    handOver(record: ResourceRecord<R>, waiter: Waiter<R>): void { this.#pool.#handOver(record, waiter); }
    giveBack(record: ResourceRecord<R>, validate: boolean): void { this.#pool.#return(record, validate); }
    closeBorrowed(record: ResourceRecord<R>, reason: DestroyReason): void { void this.#pool.#closeBorrowed(record, reason); }
    retire(record: ResourceRecord<R>, reason: 'revoked'): void { void this.#pool.#takeOut(record, reason); }
    slotFreed(): void { this.#pool.#slotFreed(); }
    waiterLeft(): void { this.#pool.#waiterLeft(); }
    markRefusing(): void { this.#pool.#refusing = true; }
    markDisposing(): void { this.#pool.#disposing = true; }
    closeIdle(reason: 'disposed' | 'recycled', which?: (record: ResourceRecord<R>) => boolean): void { this.#pool.#closeIdle(reason, which); }
    dispatch(): void { this.#pool.#dispatch(); }
    // Through the pool to a module built after the caller.
    onWaiterAbort(waiter: Waiter<R>): void { this.#pool.#waiting.abort(waiter); }
    onWaiterTimeout(waiter: Waiter<R>): void { this.#pool.#waiting.timeOut(waiter); }
    refill(): void { this.#pool.#creator.refill(); }
    newResourceChecked(valid: boolean): void { this.#pool.#creator.newResourceChecked(valid); }
    scheduleMaintenance(at: number, t: number): void { this.#pool.#housekeeper.schedule(at, t); }
    checkDrained(): void { this.#pool.#shutdown.checkDrained(); }
  };
  /** What `use()` and `borrow()` act through. */
  readonly #borrowOwner: BorrowOwner<T>;

  /** Resources out of the idle store: borrowed, being validated, being reset. */
  #borrowed = 0;
  /** resize() lowered `maxSize`: `size` may be above it until enough resources come back. */
  #oversized = false;
  /** Set by `dispose()`: new acquires are refused (while a drain serves the waiters, they still are served). */
  #refusing = false;
  /** Set when the shutdown proper begins: at once, or once a drain has served the waiters. */
  #disposing = false;
  /** #dispatch is running: a call from inside it (user code, a nested transition) asks it to run again instead. */
  #dispatching = false;
  #dispatchAgain = false;

  /**
   * @throws TypeError or RangeError naming the option, when an option is invalid.
   */
  constructor(options: AsyncPoolOptions<T>) {
    const o = resolveOptions(options);
    this.#o = o;
    this.#lifo = o.strategy === 'lifo';
    this.#maxSize = o.maxSize;
    this.#maxIdle = o.maxIdle;
    this.#limits = { maxSize: o.maxSize, maxIdle: o.maxIdle, minIdle: o.minIdle };
    this.#maxIdleFollows = o.maxIdleFollowsMaxSize;
    this.#acquireTimeoutMs = o.acquireTimeoutMs;
    this.#maxUses = o.maxUses;
    this.#keepWarm = o.minIdle !== 0 || o.min !== 0;
    this.#validating = o.validate !== undefined;
    this.#resetting = o.reset !== undefined;
    this.#trackIdleTime = o.idleTimeoutMs !== Infinity || (o.validate !== undefined && o.validateIdleAfterMs > 0);
    this.#trackLeaks = o.leakDetectionMs !== Infinity;
    this.#validateEveryBorrow = o.validateIdleAfterMs === 0;
    this.#maxWaiters = o.maxWaiters;
    this.#inner = new AsyncPool.#Inner(this);
    const inner = this.#inner;
    this.#waiting = new Waiters(o.acquireTimeoutMs, o.priorities, inner, this.#stats);
    this.#waiters = this.#waiting.queue;
    this.#serving = this.#waiting.serving;
    this.#borrowOwner = { records: this.#records, acquire: (options) => this.acquire(options), release: (r) => this.release(r), destroy: (r) => this.destroy(r), isBorrowed: (r) => this.isBorrowed(r) };
    this.#hooks = new Hooks(o);
    this.#closer = new Closer(this.#records, this.#hooks, this.#stats, o.destroyTimeoutMs);
    const parts = { waiters: this.#waiting, hooks: this.#hooks, closer: this.#closer, stats: this.#stats, limits: this.#limits };
    this.#creator = new Creator(o, inner, this.#records, this.#idle, parts);
    this.#health = new Health(o, inner, parts);
    this.#housekeeper = new Housekeeper(o, inner, this.#records, this.#idle, { ...parts, creator: this.#creator });
    this.#shutdown = new Shutdown(inner, this.#records, this.#idle, { ...parts, creator: this.#creator, housekeeper: this.#housekeeper });
    if (shapeAnchor === undefined) AsyncPool.#anchorShapes();
  }

  /**
   * Builds the module's own pool, takes it once through what users' pools do most (a hand-off to
   * a queued caller, an idle borrow, two returns), and keeps it. V8 frees a hidden class once no
   * object has it; after every pool had been garbage-collected, the next pool's objects got new
   * hidden classes, the code compiled for the old ones was thrown away, and its hot path stayed
   * slower. On the neutral harness, where every run builds a pool and drops it: scenario 2 went
   * from 1.8 to 0.95 µs per op once this pool kept the classes of a new pool's parts, and
   * scenario 1 from 330 to 245 ns once its round kept those of a resource's record and of a
   * histogram that has recorded a wait.
   *
   * It also keeps a waiter (with its extra record), never queued. V8 fixes how many fields an
   * object of a class holds inline after a few objects have been made, counting only the objects
   * alive then. When no waiter was alive at that moment (the pools that made the first ones were
   * gone), every later waiter kept its fields in a separate array: 24 B more per waiting acquire
   * (scenario 3 of the neutral harness after scenario 1: 371 B, against 347 B, when every waiter
   * was an object; a plain acquire now waits as slots of the queue, the others still as objects).
   *
   * None of it reaches the user. The round is synchronous and goes through private methods only:
   * no factory call (its resource is an empty object of its own, taken in as if just created), no
   * timer, no microtask of its own, nothing a tracing channel or a patched public method sees. The
   * kept waiter has no promise behind it, so it holds no async context of the caller's.
   */
  static #anchorShapes(): void {
    shapeAnchor = []; // the pool below must not build another
    const pool = new AsyncPool<object>({ factory: () => Promise.resolve({}), maxSize: 1, acquireTimeoutMs: Infinity, recycleMs: Infinity });
    const record = new ResourceRecord<object>({}, now(), Infinity);
    record.state = 'returning'; // on its way in, as the creator takes a fresh resource in
    pool.#adopt(record); // counted: the pool is at maxSize, so the caller below queues without a creation
    void pool.#acquire(undefined); // queued
    pool.#place(record); // handed over to the queued caller
    pool.#release(record.resource); // idle
    void pool.#acquire(undefined); // borrowed from idle, at once
    pool.#release(record.resource); // idle again
    const waiter = unboundWaiter<object>(now());
    waiter.extra = new WaiterExtra<object>(waiter, pool.#inner, Infinity, undefined);
    shapeAnchor = [pool, waiter];
  }

  // ───────────────────────────── counts ─────────────────────────────

  /** Live resources: idle + borrowed + being created. Never above `maxSize`. */
  get size(): number { return this.#idle.length + this.#borrowed + this.#creator.creating; }
  /** Idle resources ready to hand out. */
  get idle(): number { return this.#idle.length; }
  /**
   * Resources out of the idle store: held by callers, being validated for one, or being reset
   * (and, while `clear()`, `dispose()` or ended lifetimes close idle ones one after the other,
   * those not closed yet).
   */
  get borrowed(): number { return this.#borrowed; }
  /** Factory calls in flight. */
  get creating(): number { return this.#creator.creating; }
  /** Callers whose `acquire()` has not settled yet. */
  get pending(): number { return this.#waiting.pending; }
  /** The `maxSize` option, or what `resize()` last set. */
  get maxSize(): number { return this.#maxSize; }
  /** True from the moment `dispose()` is called. */
  get disposed(): boolean { return this.#refusing; }
  /** An immutable snapshot of gauges, counters and the wait-time distribution. */
  stats(): PoolStats {
    return this.#stats.snapshot({
      name: this.#o.name,
      size: this.size,
      idle: this.idle,
      borrowed: this.#borrowed,
      pending: this.#waiting.pending,
      creating: this.#creator.creating,
      maxSize: this.#maxSize,
      minIdle: this.#limits.minIdle,
      maxIdle: this.#maxIdle,
    });
  }

  // ───────────────────────────── events ─────────────────────────────

  /** Adds a listener. Events are typed: see {@link PoolEvents}. */
  on<K extends keyof PoolEvents<T>>(event: K, listener: PoolListener<T, K>): this {
    this.#hooks.on(event, listener);
    return this;
  }

  /**
   * Adds a listener for the next `event` only. Also what Node's `events.once(pool, 'create')`
   * uses; that helper rejects with the `error` event's payload if an `error` event comes first.
   */
  once<K extends keyof PoolEvents<T>>(event: K, listener: PoolListener<T, K>): this {
    this.#hooks.once(event, listener);
    return this;
  }

  /** Removes a listener added with {@link AsyncPool.on} or {@link AsyncPool.once}. */
  off<K extends keyof PoolEvents<T>>(event: K, listener: PoolListener<T, K>): this {
    this.#hooks.off(event, listener);
    return this;
  }

  /** The same as {@link AsyncPool.off}; Node's `events.once()` helper calls it by this name. */
  removeListener<K extends keyof PoolEvents<T>>(event: K, listener: PoolListener<T, K>): this {
    this.#hooks.off(event, listener);
    return this;
  }

  // ───────────────────────────── acquire ─────────────────────────────

  /**
   * Resolves with a resource: an idle one (by `strategy`) if there is one, else a new one if the
   * pool is under `maxSize`, else the next one released. Callers are served strictly in arrival
   * order: a newcomer never overtakes a waiter.
   *
   * Rejects with `AcquireTimeoutError` after `timeoutMs` (default `acquireTimeoutMs`), with an
   * `AbortError` (`cause`: the signal's reason) when `signal` aborts, with `PoolQueueFullError`,
   * `PoolUnavailableError`, `PoolDisposedError`, or the factory's error when the creation it
   * needed failed.
   */
  acquire(options?: AcquireOptions): Promise<T> {
    if (acquireChannel.hasSubscribers) {
      const context: TraceContext = { pool: this.#o.name };
      return acquireChannel.tracePromise(this.#acquire, context, this, options);
    }
    return this.#acquire(options);
  }

  // The acquire path is cut into methods small enough for V8 to inline into their callers (it
  // inlines only functions under 460 bytes of bytecode, and about 920 in all per compiled
  // function): the common case runs as one piece, the rare ones are calls.

  #acquire(options: AcquireOptions | undefined): Promise<T> {
    if (options !== undefined) return this.#acquireWith(options);
    return this.#admit(undefined, this.#acquireTimeoutMs, 0);
  }

  #acquireWith(options: AcquireOptions): Promise<T> {
    let signal: AbortSignal | undefined;
    let timeoutMs: number;
    let priority: number;
    try {
      ({ signal, timeoutMs, priority } = parseAcquireOptions(options, this.#acquireTimeoutMs, this.#o.priorities));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#admit(signal, timeoutMs, priority);
  }

  #admit(signal: AbortSignal | undefined, timeoutMs: number, priority: number): Promise<T> {
    if (this.#refusing) return Promise.reject(new PoolDisposedError('acquire()'));
    if (signal?.aborted) {
      this.#stats.aborted++;
      return Promise.reject(abortErrorOf(signal));
    }
    // Hot path: nobody queued, an idle resource, nothing to check. No clock read, no allocation
    // but the resolved promise.
    if (this.#waiters.length === 0 && !this.#validating && this.#idle.length !== 0) return this.#borrowIdle();
    return this.#enqueue(signal, timeoutMs, priority);
  }

  /** Hands out an idle resource at once (nobody queued, nothing to check). */
  #borrowIdle(): Promise<T> {
    const record = this.#lifo ? this.#idle.pop()! : this.#idle.shift()!;
    this.#borrowed++;
    this.#stats.acquiredImmediately++;
    this.#stats.waits.record(0);
    const resource = this.#checkout(record, undefined);
    if (this.#hooks.listeners.acquire !== undefined) this.#emitAcquire(resource, 0);
    if (this.#idle.length < this.#limits.minIdle) this.#creator.refill(); // keep minIdle ready: top up in the background
    return Promise.resolve(resource);
  }

  #enqueue(signal: AbortSignal | undefined, timeoutMs: number, priority: number): Promise<T> {
    // maxWaiters first: with the default (Infinity) that one comparison settles it, and the
    // waiter path does not compute `size` for nothing.
    if ((this.#waiters.length - this.#creator.creating >= this.#maxWaiters || this.#creator.failingFast) && this.#idle.length === 0) {
      const refused = this.#refuseQueueing();
      if (refused !== undefined) return refused;
    }
    const t = now();
    const promise = parkedPromise<T>();
    // Only a waiter with a signal, a timeout of its own, a priority or a stack to keep needs more.
    if (signal !== undefined || timeoutMs !== this.#acquireTimeoutMs || priority !== 0 || this.#trackLeaks) {
      this.#enqueueWithExtra(t, signal, timeoutMs, priority);
    } else if (this.#waiting.acceptsPlain) {
      // Waits as three slots of the queue, not as an object (see WaiterQueue): 56 B less per
      // waiting acquire, and nothing to allocate but the promise.
      this.#waiting.addPlain(takeResolver<T>(), t);
    } else {
      this.#waiting.add(new Waiter<T>(t), t);
    }
    // With nothing idle and no room to create, dispatch has nothing to do (and a pool failing
    // fast with nothing idle rejected above): on a busy pool, skipping it saves a call on every
    // queued acquire (with the two edits nearby, ~10 % of scenario 2 in bench/).
    if (this.#idle.length !== 0 || this.size < this.#maxSize) this.#dispatch();
    return promise;
  }

  /**
   * With nothing idle: the queue is full (`maxWaiters`, and no room to create), or the pool is
   * failing fast. Returns the rejection, or undefined when the caller may queue after all.
   */
  #refuseQueueing(): Promise<T> | undefined {
    if (this.#waiters.length - this.#creator.creating >= this.#maxWaiters && this.size >= this.#maxSize) {
      this.#stats.rejectedQueueFull++;
      return Promise.reject(new PoolQueueFullError(this.#o.maxWaiters, this.#counts()));
    }
    if (this.#creator.failingFast) {
      this.#stats.rejectedUnavailable++;
      return Promise.reject(new PoolUnavailableError(this.#creator.consecutiveFailures, this.#creator.lastError));
    }
    return undefined;
  }

  /** Queues a waiter with a signal, a timeout of its own, a priority or a stack to keep. */
  #enqueueWithExtra(t: number, signal: AbortSignal | undefined, timeoutMs: number, priority: number): void {
    const waiter = new Waiter<T>(t);
    const extra = waiter.extra = new WaiterExtra<T>(waiter, this.#inner, timeoutMs, signal);
    if (this.#trackLeaks) extra.acquireStack = new Error('acquired here');
    extra.priority = priority;
    this.#waiting.add(waiter, t);
  }

  /**
   * Acquires a resource, runs `fn` with it and releases it. When `fn` throws or rejects, the
   * error is rethrown and the resource is released, or destroyed with `onUseError: 'destroy'`
   * (without waiting for the releaser). If `fn` already released or destroyed the resource,
   * nothing more is done.
   */
  use<R>(fn: (resource: T) => R | Promise<R>, options?: AcquireOptions): Promise<R> {
    // Checked before acquiring: a caller should not wait for a resource only to fail with it.
    if (typeof fn !== 'function') return Promise.reject(new TypeError(`poolkeeper: use() argument "fn" must be a function; got ${show(fn)}`));
    return runBorrowed(this.#borrowOwner, options, fn, this.#o.onUseError === 'destroy');
  }

  /**
   * Acquires a resource wrapped in a {@link Lease}, which releases it when disposed:
   * `await using lease = await pool.borrow()`.
   */
  borrow(options?: AcquireOptions): Promise<Lease<T>> {
    return leaseOf(this.#borrowOwner, options);
  }

  // ───────────────────────────── release / destroy ─────────────────────────────

  /**
   * Gives a borrowed resource back. With a waiter queued, it goes straight to the oldest one.
   *
   * @throws NotBorrowedError if `resource` is not currently borrowed from this pool (released
   * twice, destroyed, or never acquired from it).
   */
  release(resource: T): void {
    this.#release(resource);
  }

  /** `release()` itself; the module's own pool calls it directly, past anything that wraps `release`. */
  #release(resource: T): void {
    const record = this.#records.get(resource);
    if (record === undefined || record.state !== 'borrowed') {
      this.#notBorrowed('release()', resource, record);
      return;
    }
    this.#stats.released++;
    // Out of the caller's hands, not reusable yet: a 'release' listener that releases or destroys
    // it gets NotBorrowedError, and whatever else it does is seen by the return path below.
    record.state = 'returning';
    if (this.#hooks.listeners.release !== undefined || record.uses >= this.#maxUses || record.retired !== undefined || this.#resetting) {
      this.#releaseWithHooks(record);
      return;
    }
    this.#return(record, this.#validateEveryBorrow);
  }

  /** The rest of a release with a `release` listener, a resource to retire, or a `reset` to run. */
  #releaseWithHooks(record: ResourceRecord<T>): void {
    if (this.#hooks.listeners.release !== undefined) {
      this.#hooks.emit('release', { resource: record.resource, heldMs: this.#heldMs(record) });
      if (record.state !== 'returning') return; // closed meanwhile (never by the listener's release/destroy)
    }
    if (record.uses >= this.#maxUses && record.retired === undefined) record.retired = 'maxUses';
    if (record.retired !== undefined && !this.#disposing) {
      // It will not be reused (maxUses, lifetime, clear(), retire()): close it now, without reset.
      this.#closeBorrowed(record, record.retired);
      this.#slotFreed();
      return;
    }
    if (this.#resetting && !this.#disposing) { // while disposing it is closed anyway
      this.#health.resetThenReturn(record);
      return;
    }
    this.#return(record, this.#validateEveryBorrow);
  }

  /**
   * Closes a borrowed resource that is broken, freeing its slot so a waiter can get a fresh one.
   * Resolves once the releaser has finished (its failure is reported through the `error` event).
   * Rejects with `NotBorrowedError` if `resource` is not currently borrowed from this pool.
   */
  destroy(resource: T): Promise<void> {
    const record = this.#records.get(resource);
    if (record === undefined || record.state !== 'borrowed') {
      try {
        this.#notBorrowed('destroy()', resource, record);
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.resolve();
    }
    const closed = this.#closeBorrowed(record, 'destroyed', this.#hooks.listeners.destroy === undefined ? undefined : this.#heldMs(record));
    this.#slotFreed();
    return closed;
  }

  #notBorrowed(operation: string, resource: T, record: ResourceRecord<T> | undefined): void {
    if (this.#shutdown.forgive(resource)) return; // dispose() already closed it
    throw new NotBorrowedError(operation, record === undefined ? 'foreign' : 'released');
  }

  /** True while `resource` is borrowed from this pool (acquired, not yet released or destroyed). */
  isBorrowed(resource: T): boolean {
    return this.#records.get(resource)?.state === 'borrowed';
  }

  /**
   * Takes one resource out of the pool (reason `'retired'`), never interrupting its holder: an idle
   * one is closed now; a borrowed one (or one being validated or reset) is closed when it comes
   * back, and is not handed out again. For a connection found broken while idle. When `error` is
   * given it is reported through the `error` event (operation `'retire'`).
   *
   * @returns `true` if the pool held `resource` (it is out, or will be when it comes back), `false`
   * if it does not (never from this pool, already closed, or `dispose()` was called, a drain
   * included).
   */
  retire(resource: T, error?: unknown): boolean {
    const record = this.#records.get(resource);
    return record !== undefined && !this.#refusing && this.#takeOut(record, 'retired', error);
  }

  /** Takes `record` out of service (see {@link AsyncPool.retire}); false if it is closed or the pool is shutting down. */
  #takeOut(record: ResourceRecord<T>, reason: 'retired' | 'revoked', error?: unknown): boolean {
    if (record.state === 'closed' || this.#disposing) return false;
    const closedNow = this.#closer.retire(record, this.#idle, reason);
    if (error !== undefined) this.#closer.reportError(error, 'retire', record.resource);
    if (closedNow) this.#slotFreed();
    return true;
  }

  // ───────────────────────────── resize ─────────────────────────────

  /**
   * Changes `maxSize` (and `maxIdle`/`minIdle`) of the running pool. Growing lets queued callers
   * create at once. Shrinking closes idle resources above the new caps now and borrowed ones as
   * they come back (destroy reason `'resized'`), never taking one from its holder; queued callers
   * keep their place. From the call on, `size` never grows while it is above the new `maxSize`,
   * and never exceeds it once it has come down to it. A `maxIdle` never set follows `maxSize`;
   * one that was set must stay ≤ `maxSize` (pass it along). Counted in `stats().resized`.
   *
   * @param maxSize - An integer ≥ 1, or `Infinity`.
   * @throws TypeError or RangeError naming the argument (then nothing changes), or
   * `PoolDisposedError` once `dispose()` was called.
   */
  resize(maxSize: number, options?: ResizeOptions): void {
    const { maxSize: max, maxIdle, minIdle, idleGiven } = resizeLimits(maxSize, options, this.#limits, this.#maxIdleFollows, this.#o.min);
    if (this.#refusing) throw new PoolDisposedError('resize()'); // from dispose() on, draining included

    if (idleGiven) this.#maxIdleFollows = false;
    this.#maxSize = this.#limits.maxSize = max;
    this.#maxIdle = this.#limits.maxIdle = maxIdle;
    this.#limits.minIdle = minIdle;
    this.#keepWarm = minIdle !== 0 || this.#o.min !== 0;
    this.#creator.resized(max);
    this.#oversized = true;
    this.#stats.resized++;
    // Idle resources above the caps close now, longest idle first. Each close emits `destroy`,
    // whose listener may resize again: the loop reads the caps afresh every turn.
    while (this.#idle.length !== 0 && (this.size > this.#maxSize || this.#idle.length > this.#maxIdle)) {
      this.#closer.close(this.#idle.shift()!, 'resized');
    }
    this.#slotFreed(); // growing: queued callers create now; minIdle refills
  }

  // ───────────────────────────── prefill / clear / dispose ─────────────────────────────

  /**
   * Creates resources until `count` are live (idle + borrowed + being created), at most
   * `createConcurrency` at once. Resolves when all are created; rejects with the first factory
   * error if any creation fails (those created stay in the pool).
   *
   * @param count - An integer from 0 to `maxIdle`. Defaults to `maxIdle` (`minIdle` when `maxIdle` is `Infinity`).
   */
  prefill(count?: number): Promise<void> {
    return this.#creator.prefill(count);
  }

  /**
   * Retires every resource that exists now: idle ones are closed at once, borrowed ones when they
   * come back, creations in flight when they arrive. Later acquires get fresh resources.
   * For "the database failed over: reconnect everything". Does nothing once `dispose()` was called.
   */
  clear(): void {
    if (this.#refusing) return; // from dispose() on, draining included
    this.#creator.newGeneration(); // resources out are retired too
    this.#closeIdle('cleared', undefined);
    this.#slotFreed();
  }

  /**
   * Shuts the pool down: new acquires reject with `PoolDisposedError`, so do current waiters (with
   * `drain: true`, they are served first); idle resources are closed now, borrowed ones as they
   * come back. Resolves once every resource has been closed and every releaser has finished (each
   * bounded by `destroyTimeoutMs`); after `timeoutMs`, closes the borrowed ones anyway.
   * Idempotent: later calls return the same promise.
   */
  dispose(options?: DisposeOptions): Promise<void> {
    return this.#shutdown.dispose(options);
  }

  /** `await using pool = new AsyncPool(…)` disposes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  // ───────────────────────────── the dispatch point ─────────────────────────────

  /**
   * Decides what happens next after any change of state: idle resources go to the oldest
   * waiters; creations start for waiters that no creation in flight will serve (within
   * `maxSize`); keep-warm refills top the idle store up to `minIdle` and live resources up to `min`.
   */
  #dispatch(): void {
    // User code runs inside (validate, the factory, listeners) and may call back into the pool,
    // which dispatches again: that call only asks this one to run once more, so every pass starts
    // from a complete state and nothing recurses.
    if (this.#dispatching) {
      this.#dispatchAgain = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#dispatchAgain = false;
        this.#dispatchOnce();
      } while (this.#dispatchAgain);
    } finally {
      this.#dispatching = false;
    }
  }

  /**
   * Idle resources kept back from queued waiters for the callers being validated, who arrived
   * earlier: if a check fails, that caller takes the next resource, so no later caller is served
   * before it. One per such caller, at most `maxIdle`. (So with an asynchronous validate, callers
   * are validated side by side only while more resources are idle than callers being validated.)
   */
  #reserved(): number {
    const serving = this.#serving.size;
    return serving === 0 ? 0 : Math.min(serving, this.#maxIdle);
  }

  #dispatchOnce(): void {
    // Idle resources go to the oldest waiters, except those kept back for callers being
    // validated (see #reserved). One kept back when it was fresh is handed out unvalidated.
    while (!this.#disposing && this.#waiters.length !== 0 && this.#idle.length > this.#reserved()) {
      const record = this.#lifo ? this.#idle.pop()! : this.#idle.shift()!;
      this.#borrowed++;
      this.#serveOldest(record, this.#validating && !record.fresh && this.#health.idleLongEnoughToValidate(record));
    }
    if (this.#disposing) return;
    // With onCreateError 'retry', after an "over capacity" refusal (isOverCapacity), or after a new
    // resource failed its check (validateOnCreate), creation for waiters waits out the backoff
    // (a timer ends it and dispatches again): never a busy loop on a dead or full backend.
    const creator = this.#creator;
    if (!creator.failingFast) {
      if (!creator.holdingCreation) {
        while (!this.#disposing && this.#waiters.length > creator.creating && this.size < this.#maxSize) void creator.create('acquire');
      } else if (this.#waiters.length > creator.creating && this.size < this.#maxSize) {
        creator.holdForCallers(); // they wait for the backoff: it keeps the process alive for them
      }
    }
    // Failing fast, the next probe starts here once the backoff is over and a slot is free: a
    // caller put back in the queue meanwhile (its resource failed validation) is then served or
    // rejected by the probe's outcome, never left waiting on a probe nobody starts.
    if (this.#keepWarm || creator.failingFast) creator.refill();
  }

  /** A slot was freed (a resource closed): waiters may need a creation, a dispose may be done. */
  #slotFreed(): void {
    this.#dispatch();
    this.#shutdown.checkDrained();
  }

  /** Registers a fresh resource, counted in `#borrowed` until placed. */
  #adopt(record: ResourceRecord<T>): void {
    this.#records.set(record.resource, record);
    this.#borrowed++;
  }

  /** A fresh resource arrived (counted in `#borrowed`): place it, validated only with `validateOnCreate`. */
  #place(record: ResourceRecord<T>): void {
    // Validated on creation only if asked; never kept back unvalidated then.
    this.#return(record, this.#o.validateOnCreate, !this.#o.validateOnCreate);
    this.#dispatch();
    this.#shutdown.checkDrained();
  }

  /**
   * Closes the idle resources `which` picks (all of them when undefined), one after the other.
   * They all leave the idle store first, so that user code a close runs (listeners, releasers)
   * cannot take one of them, and are counted in `#borrowed` until their turn, so that `size` still
   * counts them; each is `closing` meanwhile, so that a `retire()` leaves it to this loop.
   */
  #closeIdle(reason: 'cleared' | 'disposed' | 'recycled', which: ((record: ResourceRecord<T>) => boolean) | undefined): void {
    let batch: ResourceRecord<T>[];
    if (which === undefined) {
      batch = this.#idle.drain();
    } else {
      batch = [];
      this.#idle.retain((record) => (which(record) ? (batch.push(record), false) : true));
    }
    for (const record of batch) record.state = 'closing';
    this.#borrowed += batch.length;
    for (const record of batch) void this.#closeBorrowed(record, reason);
  }

  /** Uncounts `record` from `#borrowed` and closes it; `heldMs` goes on the `destroy` event. */
  #closeBorrowed(record: ResourceRecord<T>, reason: DestroyReason, heldMs?: number): Promise<void> {
    this.#borrowed--;
    return this.#closer.close(record, reason, heldMs);
  }

  /** How long the current borrow of `record` has lasted, if its start was taken. */
  #heldMs(record: ResourceRecord<T>): number | undefined {
    return record.stampedUse === record.uses ? now() - record.borrowedAt : undefined;
  }

  /**
   * Hands `record` (counted in `#borrowed`) to the oldest waiter, validating it first when asked.
   * One waiting as slots of the queue is served from them, unless its resource must be validated:
   * then, as any waiter held by the pool while it waits for an answer, it becomes an object.
   */
  #serveOldest(record: ResourceRecord<T>, validate: boolean): void {
    if (!validate) {
      const resolve = this.#waiters.shiftPlain();
      if (resolve !== undefined) {
        this.#handOverPlain(record, resolve);
        return;
      }
    }
    const waiter = this.#waiters.shift()!;
    if (waiter.aborted) {
      this.#servePastAborted(record, waiter, validate);
      return;
    }
    waiter.state = 'serving';
    this.#serve(record, waiter, validate);
  }

  /**
   * The oldest waiter's signal has aborted, but the pool's abort listener has not run yet: a
   * signal's listeners run in the order they were added, and one added before `acquire()` (a
   * request's cleanup) ran first and gave a resource back. It must not go to the caller just
   * aborted: that caller, and any like it behind, leave now with their `AbortError` (the pool's
   * listener then finds them gone), and `record` goes to the next waiter, or idle. What their
   * leaving sets off (see `#waiterLeft`) waits until `record` is placed.
   */
  #servePastAborted(record: ResourceRecord<T>, aborted: Waiter<T>, validate: boolean): void {
    let waiter: Waiter<T> | undefined = aborted;
    do {
      waiter.state = 'serving'; // out of the queue already
      this.#waiting.abortQuietly(waiter);
      waiter = this.#waiters.shift();
    } while (waiter?.aborted === true);
    if (waiter === undefined) {
      this.#keep(record, false);
    } else {
      waiter.state = 'serving';
      this.#serve(record, waiter, validate);
    }
    this.#waiterLeft();
  }

  /** Hands `record` (counted in `#borrowed`) to `waiter`, validating it first when asked. */
  #serve(record: ResourceRecord<T>, waiter: Waiter<T>, validate: boolean): void {
    if (validate) this.#health.validateFor(record, waiter);
    else this.#handOver(record, waiter);
  }

  #handOver(record: ResourceRecord<T>, waiter: Waiter<T>): void {
    this.#waiting.settle(waiter);
    this.#deliver(record, waiter.resolver, waiter.enqueuedAt, waiter.extra?.acquireStack);
  }

  /**
   * Serves the oldest waiter, taken out of the queue with `shiftPlain()`: it waited as slots, so
   * it is served from them, with no object made for it.
   */
  #handOverPlain(record: ResourceRecord<T>, resolve: Resolver<T>): void {
    this.#waiting.settlePlain();
    this.#deliver(record, resolve, this.#waiters.shiftedAt, undefined);
  }

  /** Gives `record` to a waiter that has left the queue (and is uncounted from it). */
  #deliver(record: ResourceRecord<T>, resolve: Resolver<T>, enqueuedAt: number, stack: Error | undefined): void {
    if (this.#creator.retryHeld && this.#waiters.length === 0) this.#creator.noWaiters();
    const waited = now() - enqueuedAt;
    this.#stats.acquiredAfterWait++;
    this.#stats.waits.record(waited);
    const resource = this.#checkout(record, stack);
    // Resolved before the 'acquire' listeners run: a caller they serve in turn comes after it.
    fulfil(resolve, resource);
    if (this.#hooks.listeners.acquire !== undefined) this.#emitAcquire(resource, waited);
  }

  #emitAcquire(resource: T, waitedMs: number): void {
    this.#hooks.emit('acquire', { resource, waitedMs });
  }

  /** Marks `record` (already counted in `#borrowed`) as held by a caller. */
  #checkout(record: ResourceRecord<T>, stack: Error | undefined): T {
    record.state = 'borrowed';
    record.uses++;
    // The clock is read only when something will use the reading: an unobserved pool reads none.
    // A `release` or `destroy` listener will (heldMs); asked of the listener table itself, so no
    // way of adding or removing one (a fired once() listener included) leaves this stale.
    if (this.#trackLeaks || this.#hooks.wantsHeldTime) this.#stampBorrow(record, stack);
    return record.resource;
  }

  /** Dates the borrow of `record` (held time, leak detection). */
  #stampBorrow(record: ResourceRecord<T>, stack: Error | undefined): void {
    const t = now();
    record.borrowedAt = t;
    record.stampedUse = record.uses;
    if (this.#trackLeaks) {
      record.leakReported = false;
      record.acquireStack = stack ?? new Error('acquired here');
      this.#housekeeper.schedule(t + this.#o.leakDetectionMs, t);
    }
  }

  /**
   * A resource came back from a caller (after `reset`, if any) or from validation for a caller
   * that left: retire it, hand it to the oldest waiter, keep it idle, or close the overflow.
   */
  #return(record: ResourceRecord<T>, validateForWaiter: boolean, fresh = false): void {
    if ((this.#disposing || record.retired !== undefined || this.#oversized) && this.#closedOnReturn(record)) return;
    // Straight to the oldest waiter, unless it must be kept for callers being validated, who
    // arrived earlier and may need it. No queue walk when nobody waits.
    if (this.#waiters.length !== 0 && (this.#serving.size === 0 || this.#idle.length >= this.#reserved())) {
      this.#serveOldest(record, validateForWaiter && this.#validating);
      return;
    }
    this.#keep(record, fresh);
  }

  /** Closes a returning resource the pool shuts down, retires or has no room for since a resize(); false when it may go round again. */
  #closedOnReturn(record: ResourceRecord<T>): boolean {
    if (this.#disposing) {
      this.#closeBorrowed(record, 'disposed');
      this.#shutdown.checkDrained();
      return true;
    }
    if (record.retired !== undefined) {
      this.#closeBorrowed(record, record.retired);
      this.#slotFreed();
      return true;
    }
    if (this.#oversized) {
      if (this.size > this.#maxSize) {
        // resize() lowered the cap below what is out: this one closes instead of going round again.
        this.#closeBorrowed(record, 'resized');
        this.#slotFreed();
        return true;
      }
      this.#oversized = false; // down to the cap: it cannot grow past it again without another resize()
    }
    return false;
  }

  /** A returned resource nobody waits for: idle, or closed when the idle store is full. */
  #keep(record: ResourceRecord<T>, fresh: boolean): void {
    this.#borrowed--;
    if (this.#idle.length >= this.#maxIdle) {
      this.#closer.close(record, 'overflow');
      if (this.#keepWarm) this.#creator.refill();
      return;
    }
    // Kept back for callers being validated: a fresh one stays exempt from validation (it was made
    // for the queue), so a validate that keeps failing cannot starve the queue.
    this.#makeIdle(record, fresh && this.#waiters.length !== 0);
    if (this.#waiters.length !== 0) this.#dispatch();
  }

  #makeIdle(record: ResourceRecord<T>, fresh = false): void {
    record.state = 'idle';
    record.fresh = fresh;
    if (this.#trackIdleTime) {
      const t = now();
      record.idleSince = t;
      this.#housekeeper.schedule(t + this.#o.idleTimeoutMs, t);
    }
    this.#idle.push(record);
  }

  // ───────────────────────────── waiters ─────────────────────────────

  /** A caller left unserved (see `waiters.ts`): creation it counted on may stop; a resource kept back for it may go on. */
  #waiterLeft(): void {
    this.#creator.waiterLeft(this.#waiters.length);
    if (this.#idle.length !== 0 && this.#waiters.length !== 0) this.#dispatch();
  }

  #counts(): PoolCounts {
    return {
      size: this.size,
      idle: this.#idle.length,
      borrowed: this.#borrowed,
      creating: this.#creator.creating,
      pending: this.#waiting.pending,
      maxSize: this.#maxSize,
    };
  }
}
