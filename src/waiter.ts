/**
 * A caller parked in `acquire()`: how to settle its promise, when it started waiting, and (only
 * when it needs them) its signal, its own timer, its priority and where it was called from.
 *
 * @internal
 */
import { MAX_DELAY_MS } from './timer.js';
import { noop, now } from './util.js';

/**
 * `waiting`: in the queue. `serving`: a resource was picked for it and is being validated.
 * `settled`: its promise is resolved or rejected; any queue still holding it skips it.
 */
export type WaiterState = 'waiting' | 'serving' | 'settled';

/** What a waiter calls back into when its signal aborts or its own timer fires. */
export interface WaiterOwner<T> {
  onWaiterAbort(waiter: Waiter<T>): void;
  onWaiterTimeout(waiter: Waiter<T>): void;
}

/** Arrival order across every pool; a clock reading can tie. */
let arrivals = 0;

/** The `arrival` the next waiter will get: every waiter created so far has a smaller one. */
export function arrivalCount(): number {
  return arrivals;
}

/** What settles a parked caller's promise: the promise's own `resolve`, and only that. */
export type Resolver<T> = (value: T) => void;

// The promise's executor is one module-level function that leaves the resolvers here, where
// whoever parks the caller picks them up at once (nothing runs in between): no closure and no
// context are allocated per queued acquire, as an arrow function capturing the waiter would be.
let nextResolve: Resolver<never> | undefined;
function capture(resolve: Resolver<never>): void {
  nextResolve = resolve;
}

/** The resolver of the promise {@link parkedPromise} just made. */
export function takeResolver<T>(): Resolver<T> {
  const resolve = nextResolve as Resolver<T> | undefined;
  if (resolve === undefined) throw new Error('poolkeeper: internal error: a waiter without parkedPromise()');
  nextResolve = undefined;
  return resolve;
}

/** Reserves the next arrival number: every waiter created so far has a smaller one. */
export function nextArrival(): number {
  return arrivals++;
}

/**
 * Rejects the promise it resolves: V8 calls `then` one microtask later, which rejects that promise
 * with `reason`. A waiter keeps only its `resolve`: holding `reject` too cost 56 B more per
 * waiting acquire (a function object; scenario 3 of bench/ went from 411 to 347 B).
 */
class Rejection {
  constructor(readonly reason: unknown) {}
  then(_onFulfilled: unknown, onRejected: (reason: unknown) => void): void {
    late--;
    onRejected(this.reason);
  }
}

/** Fulfils the promise it resolves one microtask later, as {@link Rejection} rejects. */
class Fulfilment<T> {
  constructor(readonly value: T) {}
  then(onFulfilled: (value: T) => void): void {
    late--;
    onFulfilled(this.value);
  }
}

/**
 * Settlements on their way one microtask late ({@link Rejection}, {@link Fulfilment}) and not
 * delivered yet. A rejection reaches its caller one microtask late, so while any late settlement
 * is on its way, a waiter served is fulfilled one microtask late too: callers see their promises
 * settle in the order the pool settled them (an older waiter rejected, then a newer one served,
 * never the other way round). A count, not a flag cleared by the next microtask: a fulfilment
 * made late just before that microtask was delivered after it, and a caller served plainly in
 * between overtook it (seed 1835435583 of test:deep).
 */
let late = 0;

/** Late settlements not delivered yet; 0 whenever the pool is quiet (for tests). */
export function lateSettlements(): number {
  return late;
}

/** Fulfils a parked caller's promise with `value` (one microtask late while a late settlement is on its way). */
export function fulfil<T>(resolve: Resolver<T>, value: T): void {
  if (late === 0) {
    resolve(value);
    return;
  }
  late++;
  (resolve as Resolver<unknown>)(new Fulfilment(value));
}

/** Rejects a parked caller's promise with `error`, one microtask late (see {@link Rejection}). */
export function rejectWith(resolve: Resolver<never>, error: unknown): void {
  late++;
  (resolve as Resolver<unknown>)(new Rejection(error));
}

/**
 * A waiter with no promise behind it: its resolver does nothing. Only for keeping the class's
 * hidden class alive (see `AsyncPool.#anchorShapes`); a promise would hold the async context it
 * was made in for as long as the waiter lives.
 */
export function unboundWaiter<T>(enqueuedAt: number): Waiter<T> {
  return new Waiter<T>(enqueuedAt, noop);
}

/** The promise of the next caller to park: {@link takeResolver} (or a {@link Waiter}) takes its resolver right after. */
export function parkedPromise<T>(): Promise<T> {
  return new Promise<T>(capture);
}

/**
 * A caller parked in `acquire()` as an object: one that needs more than the common case (see
 * {@link WaiterExtra}), one whose resource is being validated, or any waiter the pool must hold by
 * identity. A plain `acquire()` waits as three slots of the queue instead (see `WaiterQueue`), and
 * becomes a `Waiter` only when the pool needs one. Five fields (its clock reading among them).
 */
export class Waiter<T> {
  /** Arrival order: a smaller number arrived earlier. */
  readonly arrival: number;
  state: WaiterState = 'waiting';
  /** Settles its promise: see {@link fulfil}, {@link rejectWith}. */
  readonly resolver: Resolver<T>;
  /** Signal, own timer, priority, acquire stack: undefined for a plain `acquire()`. */
  extra: WaiterExtra<T> | undefined = undefined;

  /**
   * Takes the resolver of the promise {@link parkedPromise} just made, and the next arrival;
   * a waiter the queue held as slots brings its own.
   */
  constructor(
    /** Clock reading when the caller started waiting: wait-time statistics and deadlines. */
    readonly enqueuedAt: number,
    resolver: Resolver<T> = takeResolver<T>(),
    arrival: number = nextArrival(),
  ) {
    this.resolver = resolver;
    this.arrival = arrival;
  }

  /** Fulfils its promise with `resource`. */
  resolve(resource: T): void {
    fulfil(this.resolver, resource);
  }

  /** Rejects its promise with `error` (one microtask late: see {@link Rejection}). */
  reject(error: unknown): void {
    rejectWith(this.resolver, error);
  }

  /**
   * Its signal has aborted. Read where the pool serves or rejects it: a listener added to the
   * signal before `acquire()` runs before the pool's own, and may even stop the event, so the
   * caller can still be in the pool's hands with its signal aborted.
   */
  get aborted(): boolean {
    return this.extra?.signal?.aborted === true;
  }

  /** Its priority level (0 is the highest). */
  get priority(): number {
    return this.extra === undefined ? 0 : this.extra.priority;
  }

  /**
   * Marks it settled and drops its timer and abort listener. Returns false when it already was,
   * so every settling path can simply ask `if (!waiter.finish()) return`.
   */
  finish(): boolean {
    if (this.state === 'settled') return false;
    this.state = 'settled';
    if (this.extra !== undefined) this.extra.finish();
    return true;
  }
}

function onTimer<T>(extra: WaiterExtra<T>): void {
  extra.timer = undefined;
  // A timeout above MAX_DELAY_MS is armed in steps (and timers have millisecond resolution:
  // less than 1 ms left counts as reached).
  const left = extra.waiter.enqueuedAt + extra.timeoutMs - now();
  if (left >= 1) extra.armTimer(left);
  else extra.owner.onWaiterTimeout(extra.waiter);
}

/**
 * What a waiter needs beyond the common case: a signal, a timeout of its own, a priority, or the
 * stack of its `acquire()` call (leak detection).
 */
export class WaiterExtra<T> {
  /** A timer of its own, only for a finite timeout other than the pool's shared one. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Its priority level (0 is the highest); only pools with `priorities` > 1 set one. */
  priority = 0;
  /** Where `acquire()` was called; captured only with leak detection. */
  acquireStack: Error | undefined = undefined;

  constructor(
    readonly waiter: Waiter<T>,
    readonly owner: WaiterOwner<T>,
    /** How long it may wait, in milliseconds; `Infinity` for no timeout. */
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
  ) {
    // Its own abort listener (`handleEvent`), so no closure is allocated for it.
    if (signal !== undefined) signal.addEventListener('abort', this, { once: true });
  }

  /**
   * Arms a timer of its own (per-call timeouts). It keeps the process alive while the caller
   * waits: every acquire with a finite timeout settles (the timer goes when the waiter settles).
   */
  armTimer(delayMs: number): void {
    this.timer = setTimeout(onTimer<T>, Math.min(Math.ceil(delayMs), MAX_DELAY_MS), this);
  }

  /** Abort listener. */
  handleEvent(): void {
    this.owner.onWaiterAbort(this.waiter);
  }

  finish(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer); // ref'd, so Node drops its list at once (see dropTimer)
      this.timer = undefined;
    }
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this);
  }
}
