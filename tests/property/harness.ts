/**
 * A model of an `AsyncPool<Res>` driven by the property tests and the fault matrix.
 *
 * The harness owns the pool, the fake clock and every user callback (factory, releaser, validate,
 * reset). Each callback call follows a scripted {@link Outcome}, so the harness knows, from the
 * test's side, which calls are in flight, which resource every factory call produced and when each
 * call settled. From that and the pool's events it derives what the pool must report, and after
 * every step (once promise callbacks have run and every timer due has fired) it checks:
 *
 * 1. `idle + borrowed + creating <= maxSize`, and the gauges and counters equal the model's. After
 *    `resize()` lowers maxSize below the current size, "at every moment" means: checked after each
 *    step, size is at most the larger of the new maxSize and the smallest size seen since the
 *    resize (it never grows while above the cap, and never exceeds the cap once down to it).
 * 2. No resource is handed to two holders at once, nor handed out once closed.
 * 3. Every `acquire()` settles, with a typed error if it rejects (see {@link Harness.finish}).
 * 4. Waiters are served in arrival order (among those still waiting); with `priorities`, in
 *    arrival order within a priority, and never while a waiter of a higher priority (one that was
 *    already waiting when the resource was picked) still waits.
 * 5. After `dispose()` resolves, every resource the factory returned went to the releaser exactly
 *    once and no timer of the pool remains.
 * 6. No unhandled rejection and no uncaught exception.
 * 7. The timer rule: while an `acquire()` with a finite timeout is pending, some timer of the pool
 *    keeps the process alive (is ref'd); with none pending, none does (a pending `dispose()` may
 *    hold the timers that bound it).
 *
 * User code calls back into the pool ({@link Reentry}): listeners, the factory, validate, reset and
 * the releaser may synchronously acquire, release, destroy, abort a caller, clear or dispose, or
 * try to release or destroy the very resource they were called about (which nobody holds then:
 * the pool must refuse with NotBorrowedError). The factory may also return a resource already in
 * the pool, or a thenable that fulfils twice.
 *
 * Violations found inside callbacks are recorded, never thrown there (a throw inside a pool
 * callback would be swallowed or re-thrown elsewhere), and reported by the next check.
 */
import { jest } from '@jest/globals';
import fc from 'fast-check';
import { prng } from '../../scripts/soak-core.js';
import {
  AbortError,
  AcquireTimeoutError,
  AsyncPool,
  CreateTimeoutError,
  DestroyTimeoutError,
  NotBorrowedError,
  PoolDisposedError,
  PoolQueueFullError,
  PoolUnavailableError,
  ValidateTimeoutError,
  type DestroyReason,
  type PoolOperation,
} from '../../src/index.js';

/** A user callback the pool calls. */
export type Kind = 'factory' | 'releaser' | 'validate' | 'reset';

/**
 * How one call of a user callback behaves. `false*` outcomes are for `validate` only (a plain
 * "invalid" answer); for it, `ok*` means `true`.
 */
export type Outcome =
  | 'ok' // returns at once
  | 'okAsync' // resolves at once
  | 'false'
  | 'falseAsync'
  | 'throw' // throws synchronously
  | 'reject' // rejects at once
  | 'hang' // pending until the test settles it
  | 'slowOk' // settles after SLOW_MS, before every timeout
  | 'slowFail'
  | 'slowFalse'
  | 'lateOk' // settles after LATE_MS, after every finite timeout
  | 'lateFail'
  | 'okTicks' // settles after TICKS promise callbacks, with no timer: races the pool's own promise chains
  | 'failTicks'
  | 'falseTicks'
  | 'dup' // factory only: returns a resource already in the pool (at once); 'ok' when there is none
  | 'twice'; // factory only: a thenable that fulfils twice, then rejects, then throws from then()

/** Outcomes of the factory, the releaser and reset. */
export const PLAIN_OUTCOMES: readonly Outcome[] = ['ok', 'okAsync', 'throw', 'reject', 'hang', 'slowOk', 'slowFail', 'lateOk', 'lateFail', 'okTicks', 'failTicks'];
/** Outcomes of validate. */
export const VALIDATE_OUTCOMES: readonly Outcome[] = [...PLAIN_OUTCOMES, 'false', 'falseAsync', 'slowFalse', 'falseTicks'];
/** Outcomes of the factory, misbehaving ones included. */
export const FACTORY_OUTCOMES: readonly Outcome[] = [...PLAIN_OUTCOMES, 'dup', 'twice'];

/** Where user code runs: an event listener, or a callback of the pool. */
export type Point = 'create' | 'acquire' | 'release' | 'destroy' | 'factory' | 'validate' | 'reset' | 'releaser';
/** What user code calls on the pool, synchronously, at a {@link Point}. */
export type Nested =
  | { readonly t: 'acquire'; readonly timeoutMs: number | undefined }
  | { readonly t: 'release'; readonly k: number }
  | { readonly t: 'destroy'; readonly k: number }
  | { readonly t: 'abort'; readonly k: number }
  | { readonly t: 'clear' }
  | { readonly t: 'dispose' }
  /** release() or destroy() of the resource the point is about, which nobody holds there. */
  | { readonly t: 'same'; readonly op: 'release' | 'destroy' };
/** User code at `at` runs `cmd`, the first `times` times it is reached. */
export interface Reentry {
  readonly at: Point;
  readonly cmd: Nested;
  readonly times: number;
}

/** Promise callbacks a `*Ticks` call takes to settle: more than a creation takes through the pool. */
const TICKS = 25;

/**
 * Delay of a slow call: shorter than every callback timeout the tests configure (≥ 20 ms), so it
 * never ties with one.
 */
export const SLOW_MS = 7;
/** Delay of a late call: longer than every finite callback timeout the tests configure (≤ 90 ms). */
export const LATE_MS = 113;

/** The pool options the model supports; all times in ms. */
export interface PoolConfig {
  readonly maxSize: number;
  readonly maxIdle: number;
  readonly minIdle: number;
  readonly strategy: 'lifo' | 'fifo';
  readonly acquireTimeoutMs: number;
  readonly maxWaiters: number;
  /** `undefined` for the default, `min(maxSize, 16)`. */
  readonly createConcurrency: number | undefined;
  readonly createTimeoutMs: number;
  readonly validate: boolean;
  readonly validateTimeoutMs: number;
  readonly validateIdleAfterMs: number;
  readonly reset: boolean;
  readonly resetTimeoutMs: number;
  readonly destroyTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly recycleMs: number;
  readonly failFastAfter: number;
  readonly leakDetectionMs: number;
  /** Priority levels; `undefined` leaves the option out (the default, 1). */
  readonly priorities?: number;
  /** `undefined` leaves the option out (the default, 'reject'). */
  readonly onCreateError?: 'reject' | 'retry';
  /** `undefined` leaves the option out (the default, 'release'). */
  readonly onUseError?: 'release' | 'destroy';
}

/** The outcome of each call of each callback: call `i` of a kind follows `script[i % length]`. */
export interface Scripts {
  readonly factory: readonly Outcome[];
  readonly releaser: readonly Outcome[];
  readonly validate: readonly Outcome[];
  readonly reset: readonly Outcome[];
  /** User code that calls back into the pool; none when absent. */
  readonly reentry?: readonly Reentry[];
}

/** What the body passed to `use()` does with the resource. */
export type UseBody = 'return' | 'throw' | 'slowReturn' | 'slowThrow' | 'release' | 'destroy';

/** One step of a run. `k` picks among the current candidates, modulo their number. */
export type Command =
  | { readonly t: 'acquire'; readonly timeoutMs: number | undefined; readonly signal: 'none' | 'signal' | 'aborted'; readonly priority?: number }
  | { readonly t: 'use'; readonly timeoutMs: number | undefined; readonly signal: boolean; readonly body: UseBody; readonly priority?: number }
  | { readonly t: 'release'; readonly k: number }
  | { readonly t: 'destroy'; readonly k: number }
  | { readonly t: 'abort'; readonly k: number }
  | { readonly t: 'prefill'; readonly count: number }
  | { readonly t: 'clear' }
  | { readonly t: 'dispose'; readonly timeoutMs: number | undefined }
  | { readonly t: 'advance'; readonly ms: number }
  | { readonly t: 'settleHung'; readonly k: number; readonly result: 'ok' | 'fail' | 'false' }
  | { readonly t: 'misuse'; readonly k: number; readonly op: 'release' | 'destroy' }
  /** `resize(maxSize, { maxIdle: max(0, maxSize − idleGap), minIdle: min(minIdle, maxIdle) })`. */
  | { readonly t: 'resize'; readonly maxSize: number; readonly idleGap: number; readonly minIdle: number };

/** The resources the factory makes. */
export class Res {
  constructor(readonly id: number) {}

  toString(): string {
    return `r${this.id}`;
  }
}

interface Call {
  readonly id: number;
  readonly kind: Kind;
  readonly outcome: Outcome;
  readonly start: number;
  /** The pool's timeout for this kind of call. */
  readonly timeoutMs: number;
  /** The resource passed in (releaser, validate, reset). */
  readonly arg: Res | undefined;
  /** Returned a promise (only those can time out). */
  async: boolean;
  settledAt: number | undefined;
  settledStep: number;
  /** Settled with a throw, a rejection or (validate) `false`. */
  failed: boolean;
  /** For hung calls: settles it. */
  settle: ((how: 'ok' | 'fail' | 'false') => void) | undefined;
  /** validate: other validations that may have been serving earlier waiters when it started. */
  allowance: number;
  /** How many clear() calls came before it. */
  readonly clears: number;
  /** Its place in the harness-wide order of calls and acquires. */
  readonly seq: number;
}

interface ResInfo {
  readonly res: Res;
  readonly call: Call;
  /** A 'create' event was seen: it entered the pool. */
  accepted: boolean;
  destroyed: DestroyReason | undefined;
  releaserCalls: number;
  /**
   * Times it entered the pool, at least 1 once accepted: a factory may return ('dup') a resource
   * the pool closed in the meantime, which then enters the pool anew and is closed again.
   */
  lives: number;
  /** The factory call of its latest entry into the pool (the dup's, for a second life). */
  entry: Call;
  /** Handed out ('acquire' event) and not given back since. */
  outstanding: boolean;
  holder: Acq | undefined;
  /** `dispose()` closed it while it was out: one release()/destroy() of it is a no-op. */
  forceClosed: boolean;
  destroyRequested: boolean;
  /** Validate calls in flight when it was last handed out that may be serving other waiters. */
  allowance: number;
  /** It existed when clear() was called: it must never be handed out again. */
  retired: boolean;
  /** When it entered the pool. */
  createdAt: number;
  /** When it was last picked for a waiter (`seq` of its validation), `Infinity` for "at the hand-out". */
  pickedSeq: number;
  /** When it was last handed out, and whether that borrow raised its 'leak' event. */
  borrowedAt: number;
  leakReported: boolean;
}

interface Acq {
  readonly id: number;
  readonly kind: 'acquire' | 'use';
  readonly start: number;
  readonly deadline: number;
  readonly controller: AbortController | undefined;
  abortedByTest: boolean;
  /** Aborted by user code the pool ran: maybe after its hand-out, which the abort came too late for. */
  abortedAtHandOut: boolean;
  state: 'pending' | 'held' | 'done' | 'rejected';
  settledStep: number;
  resource: Res | undefined;
  readonly body: UseBody | undefined;
  bodyInvoked: boolean;
  /** pool.idle and pool.size just before the call, and whether the call left it queued. */
  idleAtCall: number;
  sizeAtCall: number;
  /** The pool's maxSize when the call was made (resize() may change it later). */
  maxAtCall: number;
  queued: boolean;
  readonly bodyValue: object;
  /** What a throwing body throws (made only for use(): an Error captures a stack). */
  readonly bodyError: Error | undefined;
  /** Its priority (0 without priorities). */
  readonly priority: number;
  /** Its place in the harness-wide order of calls and acquires. */
  readonly seq: number;
}

interface FifoCheck {
  readonly what: string;
  readonly acq: Acq;
  readonly earlier: readonly Acq[];
  readonly allowance: number;
}

interface Tracked {
  readonly label: string;
  settled: boolean;
}

const realTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** More user-callback calls than this between two turns of the event loop means the pool loops. */
const STORM_CALLS = 5_000;

/** An invariant the pool broke. */
class Violation extends Error {
  override name = 'InvariantViolation';
}

/**
 * jest runs tests with a copy of `process` whose events never fire; the process's real
 * 'unhandledRejection'/'uncaughtException' events go to jest-circus's handlers on the host process,
 * which it keeps in its state. Listening there lets a run fail with its own seed.
 */
let host: NodeJS.Process | undefined;

function hostProcess(): NodeJS.Process {
  host ??= findHostProcess();
  return host;
}

function findHostProcess(): NodeJS.Process {
  const key = Object.getOwnPropertySymbols(globalThis).find((s) => s.description === 'JEST_STATE_SYMBOL');
  const state = key === undefined ? undefined : (globalThis as unknown as Record<symbol, { parentProcess?: NodeJS.Process } | undefined>)[key];
  const parent = state?.parentProcess ?? undefined;
  if (parent === undefined && process.env.JEST_WORKER_ID !== undefined) {
    // Never check silently for nothing: a jest upgrade that moves it must fail here.
    throw new Error('cannot find the host process to watch for unhandled rejections');
  }
  return parent ?? process;
}

/** Collects unhandled rejections and uncaught exceptions while installed. */
export class ErrorTrap {
  readonly caught: string[] = [];
  readonly #host = hostProcess();
  readonly #onRejection = (reason: unknown): void => {
    this.caught.push(`unhandled rejection: ${describe(reason)}`);
  };
  readonly #onException = (error: unknown): void => {
    this.caught.push(`uncaught exception: ${describe(error)}`);
  };

  install(): this {
    this.#host.on('unhandledRejection', this.#onRejection);
    this.#host.on('uncaughtException', this.#onException);
    return this;
  }

  uninstall(): void {
    this.#host.off('unhandledRejection', this.#onRejection);
    this.#host.off('uncaughtException', this.#onException);
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}${value.stack === undefined ? '' : `\n${value.stack.split('\n').slice(1, 6).join('\n')}`}`;
  return String(value);
}

type TimerHandle = ReturnType<typeof setTimeout>;

/**
 * Timers alive in the sandbox (armed, not yet fired or cleared), and those of them that are the
 * test's own; the rest are the pool's (and p-queue's, on its behalf). Fake timers implement
 * `hasRef()`, so invariant 7 can ask which of them would keep a real process alive.
 */
const liveTimers = new Set<TimerHandle>();
const ownTimers = new WeakSet<TimerHandle>();

/** Wraps the (fake) setTimeout/clearTimeout so that {@link liveTimers} knows what is armed. */
function trackTimers(): () => void {
  const g = globalThis as unknown as { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  const fakeSet = g.setTimeout;
  const fakeClear = g.clearTimeout;
  const wrappedSet = (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): TimerHandle => {
    const handle: TimerHandle = fakeSet((...a: unknown[]) => {
      liveTimers.delete(handle);
      fn(...a);
    }, ms, ...args);
    liveTimers.add(handle);
    return handle;
  };
  g.setTimeout = wrappedSet as unknown as typeof setTimeout;
  g.clearTimeout = ((handle: TimerHandle | undefined) => {
    if (handle !== undefined) liveTimers.delete(handle);
    fakeClear(handle);
  }) as typeof clearTimeout;
  return () => {
    g.setTimeout = fakeSet;
    g.clearTimeout = fakeClear;
    liveTimers.clear();
  };
}

/** A timer of the test's own, left out of invariant 7. */
function ownTimeout(fn: () => void, ms: number): void {
  ownTimers.add(setTimeout(fn, ms));
}

/** A small deterministic PRNG, so `Math.random` inside the pool replays with the seed. */
export const seededRandom = prng;

/**
 * Runs `body` with fake timers, a seeded `Math.random` and the error trap, then restores them.
 * Fails if an unhandled rejection or uncaught exception happened meanwhile.
 */
export async function withSandbox<R>(randomSeed: number, body: () => Promise<R>): Promise<R> {
  // Timers, Date and performance.now are fake; microtasks and setImmediate stay real (p-queue and
  // the flushes between timers rely on them).
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  const untrack = trackTimers();
  const random = jest.spyOn(Math, 'random').mockImplementation(seededRandom(randomSeed));
  const trap = new ErrorTrap().install();
  try {
    const result = await body();
    await realTick(); // let Node report rejections left unhandled by the last step
    await realTick();
    if (trap.caught.length !== 0) throw new Violation(`invariant 6: ${trap.caught.join('\n')}`);
    return result;
  } finally {
    trap.uninstall();
    random.mockRestore();
    untrack();
    jest.clearAllTimers();
    jest.useRealTimers();
  }
}

/** How many runs: POOLKEEPER_FC_RUNS, else `defaultRuns`. */
export function runCount(defaultRuns: number): number {
  const raw = process.env.POOLKEEPER_FC_RUNS;
  if (raw === undefined || raw === '') return defaultRuns;
  const runs = Number(raw);
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`POOLKEEPER_FC_RUNS must be a positive integer; got ${JSON.stringify(raw)}`);
  return runs;
}

/** A jest timeout generous enough for `runs` runs on a busy machine. */
export function timeoutFor(runs: number): number {
  return Math.max(180_000, runs * 50);
}

/**
 * Checks `property` with `runCount(defaultRuns)` runs. POOLKEEPER_FC_SEED (and POOLKEEPER_FC_PATH)
 * replay a failing case; the failure message says how.
 */
export async function assertProperty<Ts>(
  property: fc.IAsyncProperty<Ts>,
  replay: { readonly file: string; readonly test: string },
  defaultRuns: number,
): Promise<void> {
  const seed = process.env.POOLKEEPER_FC_SEED;
  const path = process.env.POOLKEEPER_FC_PATH;
  const params: fc.Parameters<Ts> = {
    numRuns: runCount(defaultRuns),
    ...(seed === undefined || seed === '' ? {} : { seed: Number(seed) }),
    ...(path === undefined || path === '' ? {} : { path }),
  };
  const details = await fc.check(property, params);
  if (!details.failed) return;
  const how = `POOLKEEPER_FC_SEED=${details.seed} POOLKEEPER_FC_PATH=${details.counterexamplePath ?? ''} ` +
    `NODE_OPTIONS=--experimental-vm-modules npx jest ${replay.file} -t '${replay.test}'`;
  const error = details.errorInstance;
  const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  throw new Error(`${fc.defaultReportMessage(details)}\n\n${cause}\n\nReplay this case with:\n  ${how}\n`);
}

/** The model and the pool under test. See the module comment. */
export class Harness {
  readonly pool: AsyncPool<Res>;
  readonly config: PoolConfig;
  readonly #scripts: Scripts;
  #exactCreating: boolean;
  /** maxSize, maxIdle and minIdle now: the config's, until resize() changes them. */
  readonly #limits: { maxSize: number; maxIdle: number; minIdle: number };
  /** resize() calls that took effect; whether one of them lowered maxSize or maxIdle. */
  #resizes = 0;
  #shrunk = false;
  /** What size may be at most (see invariant 1): maxSize, or more for a while after a shrink. */
  #sizeBound: number;

  #step = 0;
  readonly #calls: Call[] = [];
  readonly #callCount: Record<Kind, number> = { factory: 0, releaser: 0, validate: 0, reset: 0 };
  readonly #resources = new Map<Res, ResInfo>();
  readonly #acqs: Acq[] = [];
  /** Validate calls by resource, until the resource is handed out or closed. */
  readonly #validating = new Map<Res, Call>();
  /** Orders acquires and callback calls against each other. */
  #seq = 0;
  #validatingEndedThisStep = 0;
  readonly #fifoChecks: FifoCheck[] = [];
  readonly #thrown: Record<Kind, Set<unknown>> = { factory: new Set(), releaser: new Set(), validate: new Set(), reset: new Set() };
  readonly #violations: string[] = [];
  readonly #log: string[] = [];
  readonly #tracked: Tracked[] = [];
  #nextRes = 0;
  #nextAcq = 0;
  #myTimers = 0;
  /** Callback calls since the event loop last had a turn; see #user. */
  #callsThisTurn = 0;
  #stopHanging = false;
  /** clear() calls before dispose(). */
  #clears = 0;
  /** The resource the test is releasing right now, on behalf of its holder. */
  #releasing: Res | undefined = undefined;
  /** How many more times each {@link Reentry} fires. */
  readonly #reentryLeft: number[];
  /** Depth of user code calling back into the pool; nested calls go at most two deep. */
  #nesting = 0;
  /** The point whose user code is running, if any. */
  #atPoint: Point | undefined = undefined;
  /** The factory returned a resource already in the pool: the pool refuses it with a TypeError. */
  #dups = 0;
  /**
   * The 'dup' factory calls that returned each resource, oldest first, with the event-loop turn
   * each was made in, not yet matched to a new life of it: several creations may return the same
   * closed resource, each a life of its own. The pool registers a synchronous answer within
   * microtasks, so a call from an earlier turn that no 'create' matched was refused (the resource
   * was in the pool then) and never becomes a life.
   */
  readonly #dupCalls = new Map<Res, { call: Call; turn: number }[]>();
  /** Event-loop turns given so far ({@link Harness.#turn}). */
  #turns = 0;

  #disposedAt: number | undefined = undefined;
  #disposeTimeoutMs = Infinity;
  /** What a dispose() from user code returned while the first dispose() call was still running. */
  #nestedDispose: Promise<void> | undefined = undefined;
  #disposePromise: Promise<void> | undefined = undefined;
  #disposeResolved = false;

  // What the model saw, to compare with stats().
  readonly #seen = {
    created: 0,
    acquired: 0,
    released: 0,
    leaks: 0,
    timedOut: 0,
    aborted: 0,
    queueFull: 0,
    unavailable: 0,
    createFailedRejections: 0,
    destroyed: { recycled: 0, idle: 0, invalid: 0, overflow: 0, destroyed: 0, cleared: 0, disposed: 0, maxUses: 0, retired: 0, resized: 0, revoked: 0 } as Record<DestroyReason, number>,
    errors: { create: 0, destroy: 0, validate: 0, reset: 0, retire: 0, budget: 0 } as Record<PoolOperation, number>,
  };

  constructor(config: PoolConfig, scripts: Scripts) {
    this.config = config;
    this.#scripts = scripts;
    this.#exactCreating = config.createConcurrency === undefined || config.createConcurrency >= config.maxSize;
    this.#limits = { maxSize: config.maxSize, maxIdle: config.maxIdle, minIdle: config.minIdle };
    this.#sizeBound = config.maxSize;
    this.#reentryLeft = (scripts.reentry ?? []).map((r) => r.times);
    const c = config;
    this.pool = new AsyncPool<Res>({
      factory: () => this.#factory(),
      releaser: (r) => this.#user('releaser', r) as void | Promise<void>,
      validate: c.validate ? (r) => this.#user('validate', r) as boolean | Promise<boolean> : undefined,
      reset: c.reset ? (r) => this.#user('reset', r) as void | Promise<void> : undefined,
      maxSize: c.maxSize,
      maxIdle: c.maxIdle,
      minIdle: c.minIdle,
      strategy: c.strategy,
      acquireTimeoutMs: c.acquireTimeoutMs,
      maxWaiters: c.maxWaiters,
      createConcurrency: c.createConcurrency,
      createTimeoutMs: c.createTimeoutMs,
      createRetry: { minDelayMs: 10, maxDelayMs: 40 },
      failFastAfter: c.failFastAfter,
      validateTimeoutMs: c.validateTimeoutMs,
      validateIdleAfterMs: c.validateIdleAfterMs,
      resetTimeoutMs: c.resetTimeoutMs,
      destroyTimeoutMs: c.destroyTimeoutMs,
      idleTimeoutMs: c.idleTimeoutMs,
      recycleMs: c.recycleMs,
      recycleJitter: 0.5,
      leakDetectionMs: c.leakDetectionMs,
      ...(c.priorities === undefined ? {} : { priorities: c.priorities }),
      ...(c.onCreateError === undefined ? {} : { onCreateError: c.onCreateError }),
      ...(c.onUseError === undefined ? {} : { onUseError: c.onUseError }),
    });
    this.pool.on('create', ({ resource }) => this.#onCreate(resource));
    this.pool.on('destroy', ({ resource, reason }) => this.#onDestroy(resource, reason));
    this.pool.on('acquire', ({ resource, waitedMs }) => this.#onAcquireEvent(resource, waitedMs));
    this.pool.on('release', ({ resource }) => this.#onRelease(resource));
    this.pool.on('error', ({ error, operation, resource }) => this.#onError(error, operation, resource));
    this.pool.on('leak', ({ resource }) => this.#onLeak(resource));
  }

  // ───────────────────────────── running commands ─────────────────────────────

  /** Runs one command, lets everything it triggers happen, then checks every invariant. */
  async exec(cmd: Command): Promise<void> {
    this.#step++;
    this.#validatingEndedThisStep = 0;
    this.#note(`[${this.#step}] t=${now()} ${JSON.stringify(cmd, (_, v: unknown) => (v === Infinity ? 'Infinity' : v))}`);
    switch (cmd.t) {
      case 'acquire':
        this.#acquire(this.#callTimeout(cmd.timeoutMs), cmd.signal, this.#priority(cmd.priority));
        break;
      case 'use':
        this.#use(this.#callTimeout(cmd.timeoutMs), cmd.signal, cmd.body, this.#priority(cmd.priority));
        break;
      case 'release':
        this.#releaseHeld(cmd.k);
        break;
      case 'destroy':
        this.#destroyHeld(cmd.k);
        break;
      case 'abort':
        this.#abort(cmd.k);
        break;
      case 'prefill':
        this.#prefill(cmd.count);
        break;
      case 'clear':
        this.#clear();
        break;
      case 'dispose':
        this.#dispose(cmd.timeoutMs);
        break;
      case 'advance':
        await this.#advance(cmd.ms);
        break;
      case 'settleHung':
        this.#settleHung(cmd.k, cmd.result);
        break;
      case 'misuse':
        this.#misuse(cmd.k, cmd.op);
        break;
      case 'resize':
        this.#resize(cmd.maxSize, cmd.idleGap, cmd.minIdle);
        break;
    }
    await this.#advance(0);
    this.check();
  }

  /**
   * Ends a run: no call hangs any more and hung ones succeed, every holder gives its resource
   * back, time passes until every acquire has settled (invariant 3), then the pool is disposed and
   * invariant 5 is checked.
   */
  async finish(): Promise<void> {
    this.#step++;
    this.#note(`[end] t=${now()} stop hanging, give everything back`);
    this.#stopHanging = true;
    for (let round = 0; ; round++) {
      this.#settleAllHung();
      this.#releaseAllHeld();
      await this.#advance(0);
      this.check();
      if (this.#unsettled().length === 0 && !this.#hasHung()) break;
      if (round === 100) {
        this.#fail(`invariant 3: still unsettled after the calls stopped hanging and time passed: ${this.#unsettled().join(', ')}`);
      }
      await this.#advance(20);
      this.check();
    }
    this.#note(`[end] t=${now()} dispose`);
    const disposing = this.#dispose(undefined);
    for (let round = 0; !this.#disposeResolved; round++) {
      if (round === 100) this.#fail('invariant 5: dispose() did not resolve');
      this.#settleAllHung();
      this.#releaseAllHeld();
      await this.#advance(round === 0 ? 0 : 20);
      this.check();
    }
    if (this.pool.dispose() !== disposing) this.#fail('dispose() is not idempotent: a second call returned another promise');
    this.#checkDisposed();
    // What is still running after dispose() resolved: calls the pool abandoned (timed out) or
    // that arrive late; each may hold one pool timer, and slow calls one of ours.
    const t = now();
    const poolTimers = this.#calls.filter((c) => this.#inFlight(c, t) && c.timeoutMs !== Infinity).length;
    const timers = jest.getTimerCount();
    if (timers !== this.#myTimers + poolTimers) {
      this.#fail(`invariant 5: ${timers} timers remain after dispose() resolved; expected ${this.#myTimers} of the test's and ${poolTimers} bounding calls still in flight`);
    }
    for (let round = 0; this.#myTimers > 0 || this.#hasHung(); round++) {
      if (round === 100) this.#fail('the test\'s own timers never fired');
      this.#settleAllHung();
      await this.#advance(20);
      this.check();
    }
    await this.#advance(0);
    this.check();
    if (jest.getTimerCount() !== 0) this.#fail(`invariant 5: ${jest.getTimerCount()} timers remain once every call has settled`);
    for (const info of this.#resources.values()) {
      if (info.releaserCalls !== info.lives) this.#fail(`invariant 5: ${info.res} was passed to the releaser ${info.releaserCalls} times in ${info.lives} lives`);
    }
    for (const item of this.#tracked) if (!item.settled) this.#fail(`invariant 3: ${item.label} never settled`);
    this.check();
  }

  // ───────────────────────────── commands ─────────────────────────────

  #clear(): void {
    if (!this.pool.disposed) {
      this.#clears++;
      for (const info of this.#resources.values()) if (info.accepted && info.destroyed === undefined) info.retired = true;
    }
    this.pool.clear();
  }

  /**
   * User code at `point` calls back into the pool, as the scripts say. `res` is the resource the
   * point is about (nobody holds it there, except at 'acquire').
   */
  #reenter(point: Point, res: Res | undefined): void {
    const entries = this.#scripts.reentry;
    if (entries === undefined || this.#nesting >= 2) return;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.at !== point || this.#reentryLeft[i]! <= 0) continue;
      this.#reentryLeft[i]!--;
      this.#nesting++;
      const outer = this.#atPoint;
      this.#atPoint = point;
      this.#note(`  user code at ${point}${res === undefined ? '' : `(${res})`} calls ${JSON.stringify(entry.cmd)}`);
      try {
        this.#nested(entry.cmd, point, res);
      } finally {
        this.#nesting--;
        this.#atPoint = outer;
      }
    }
  }

  #nested(cmd: Nested, point: Point, res: Res | undefined): void {
    switch (cmd.t) {
      case 'acquire':
        this.#acquire(cmd.timeoutMs, 'signal', undefined);
        break;
      case 'release':
        this.#releaseHeld(cmd.k);
        break;
      case 'destroy':
        this.#destroyHeld(cmd.k);
        break;
      case 'abort':
        this.#abort(cmd.k);
        break;
      case 'clear':
        this.#clear();
        break;
      case 'dispose':
        this.#dispose(undefined);
        break;
      case 'same':
        // At 'acquire' the resource is the caller's; the factory has none yet; one that dispose()
        // closed while borrowed may be released once by its holder, as a no-op.
        if (res === undefined || point === 'acquire' || this.#resources.get(res)?.forceClosed === true) return;
        this.#refuse(cmd.op, res, `${cmd.op}(${res}) from user code at ${point}`);
        break;
    }
  }

  /** release()/destroy() of `target`, which nobody holds: NotBorrowedError, never a change of state. */
  #refuse(op: 'release' | 'destroy', target: Res, what: string): void {
    const check = (error: unknown): void => {
      if (!(error instanceof NotBorrowedError) || error.code !== 'ERR_NOT_BORROWED') {
        this.#violate(`${what} failed with ${describe(error)}, not NotBorrowedError`);
      }
    };
    if (op === 'release') {
      try {
        this.pool.release(target);
        this.#violate(`${what}: release of a resource not borrowed did not throw`);
      } catch (error) {
        check(error);
      }
    } else {
      const item = this.#track(`refused ${what}`);
      this.pool.destroy(target).then(
        () => {
          item.settled = true;
          this.#violate(`${what}: destroy of a resource not borrowed resolved`);
        },
        (error: unknown) => {
          item.settled = true;
          check(error);
        },
      );
    }
  }

  #newAcq(kind: 'acquire' | 'use', timeoutMs: number | undefined, controller: AbortController | undefined, body: UseBody | undefined, priority: number): Acq {
    const start = now();
    const id = ++this.#nextAcq;
    const acq: Acq = {
      id,
      kind,
      start,
      deadline: start + (timeoutMs ?? this.config.acquireTimeoutMs),
      controller,
      abortedByTest: false,
      abortedAtHandOut: false,
      state: 'pending',
      settledStep: 0,
      resource: undefined,
      body,
      bodyInvoked: false,
      idleAtCall: 0,
      sizeAtCall: 0,
      maxAtCall: 0,
      queued: false,
      bodyValue: { value: `use#${id}` },
      bodyError: kind === 'use' ? new Error(`body of use#${id} threw`) : undefined,
      priority,
      seq: ++this.#seq,
    };
    this.#acqs.push(acq);
    return acq;
  }

  /**
   * With onCreateError 'retry' a caller without a deadline waits as long as the factory fails,
   * by design; such a call uses the pool's (finite) timeout instead, so every call settles.
   */
  #callTimeout(timeoutMs: number | undefined): number | undefined {
    if (this.config.onCreateError !== 'retry') return timeoutMs;
    // A deadline at or past 2^31-1 ms is beyond what a run waits for: such a call gets 100 ms.
    const effective = timeoutMs === undefined || timeoutMs === Infinity ? this.config.acquireTimeoutMs : timeoutMs;
    if (effective >= 2 ** 31 - 1) return 100;
    return timeoutMs === Infinity ? undefined : timeoutMs;
  }

  /** A command's priority, within the configured levels; `undefined` when the call passes none. */
  #priority(priority: number | undefined): number | undefined {
    const levels = this.config.priorities;
    return levels === undefined || priority === undefined ? undefined : priority % levels;
  }

  #acquireOptions(timeoutMs: number | undefined, controller: AbortController | undefined, priority: number | undefined) {
    if (timeoutMs === undefined && controller === undefined && priority === undefined) return undefined;
    return { timeoutMs, signal: controller?.signal, ...(priority === undefined ? {} : { priority }) };
  }

  #acquire(timeoutMs: number | undefined, signal: 'none' | 'signal' | 'aborted', priority: number | undefined): void {
    const controller = signal === 'none' ? undefined : new AbortController();
    const acq = this.#newAcq('acquire', timeoutMs, controller, undefined, priority ?? 0);
    acq.idleAtCall = this.pool.idle;
    acq.sizeAtCall = this.pool.size;
    acq.maxAtCall = this.pool.maxSize;
    if (signal === 'aborted') {
      controller!.abort(new Error(`reason of acquire#${acq.id}`));
      acq.abortedByTest = true;
    }
    const options = this.#acquireOptions(timeoutMs, controller, priority);
    const item = this.#track(`acquire#${acq.id}`);
    const pending = this.pool.pending;
    const promise = this.pool.acquire(options);
    acq.queued = this.pool.pending > pending;
    promise.then(
      (resource) => {
        item.settled = true;
        this.#onAcquired(acq, resource);
      },
      (error: unknown) => {
        item.settled = true;
        this.#onAcquireFailed(acq, error);
      },
    );
  }

  #use(timeoutMs: number | undefined, signal: boolean, body: UseBody, priority: number | undefined): void {
    const controller = signal ? new AbortController() : undefined;
    const acq = this.#newAcq('use', timeoutMs, controller, body, priority ?? 0);
    acq.idleAtCall = this.pool.idle;
    acq.sizeAtCall = this.pool.size;
    acq.maxAtCall = this.pool.maxSize;
    const options = this.#acquireOptions(timeoutMs, controller, priority);
    const item = this.#track(`use#${acq.id}`);
    const pending = this.pool.pending;
    const promise = this.pool.use((resource) => this.#runBody(acq, resource), options);
    acq.queued = this.pool.pending > pending;
    promise.then(
      (value) => {
        item.settled = true;
        if (!acq.bodyInvoked || value !== acq.bodyValue) this.#violate(`use#${acq.id} resolved with something its body did not return`);
        acq.state = 'done';
      },
      (error: unknown) => {
        item.settled = true;
        if (acq.bodyInvoked) {
          if (error !== acq.bodyError) this.#violate(`use#${acq.id} rejected with ${describe(error)}, not its body's error`);
          acq.state = 'done';
        } else {
          this.#onAcquireFailed(acq, error);
        }
      },
    );
  }

  /** A use() body is about to fail: with onUseError 'destroy' the pool may close its resource. */
  #useFailing(resource: Res): void {
    const info = this.#resources.get(resource);
    if (this.config.onUseError === 'destroy' && info !== undefined && info.outstanding) info.destroyRequested = true;
  }

  #runBody(acq: Acq, resource: Res): unknown {
    acq.bodyInvoked = true;
    this.#onAcquired(acq, resource);
    switch (acq.body!) {
      case 'return':
        return acq.bodyValue;
      case 'throw':
        this.#useFailing(resource);
        throw acq.bodyError;
      case 'slowReturn':
        return new Promise((resolve) => this.#timer(SLOW_MS, () => resolve(acq.bodyValue)));
      case 'slowThrow':
        return new Promise((_, reject) => this.#timer(SLOW_MS, () => {
          this.#useFailing(resource);
          reject(acq.bodyError);
        }));
      case 'release':
        this.pool.release(resource);
        return acq.bodyValue;
      case 'destroy':
        this.#resources.get(resource)!.destroyRequested = true;
        return this.pool.destroy(resource).then(() => acq.bodyValue);
    }
  }

  #held(): Acq[] {
    return this.#acqs.filter((a) => a.state === 'held' && a.kind === 'acquire');
  }

  #releaseHeld(k: number): void {
    const held = this.#held();
    if (held.length === 0) return;
    this.#giveBack(held[k % held.length]!);
  }

  #giveBack(acq: Acq): void {
    const resource = acq.resource!;
    const info = this.#resources.get(resource)!;
    acq.state = 'done';
    this.#releasing = resource;
    try {
      this.pool.release(resource);
    } catch (error) {
      this.#violate(`release(${resource}) by its holder threw ${describe(error)}${info.forceClosed ? ' (dispose() had closed it: must be a no-op)' : ''}`);
    } finally {
      this.#releasing = undefined;
    }
    if (info.forceClosed) {
      info.forceClosed = false; // the one no-op is used
      info.holder = undefined;
    }
  }

  #releaseAllHeld(): void {
    // User code run by one release may release or destroy another held resource.
    for (const acq of this.#held()) if (acq.state === 'held') this.#giveBack(acq);
  }

  #destroyHeld(k: number): void {
    const held = this.#held();
    if (held.length === 0) return;
    const acq = held[k % held.length]!;
    const resource = acq.resource!;
    const info = this.#resources.get(resource)!;
    acq.state = 'done';
    const wasForceClosed = info.forceClosed;
    info.forceClosed = false;
    if (wasForceClosed) info.holder = undefined;
    if (!wasForceClosed) info.destroyRequested = true;
    const item = this.#track(`destroy(${resource})`);
    this.pool.destroy(resource).then(
      () => {
        item.settled = true;
        // The latest releaser call of this object: the factory may have returned it again after
        // an earlier close, whose releaser can still be running (that one is not this destroy's).
        let releaser: Call | undefined;
        for (const c of this.#calls) if (c.kind === 'releaser' && c.arg === resource) releaser = c;
        if (!wasForceClosed && (releaser === undefined || this.#inFlight(releaser, now()))) {
          this.#violate(`destroy(${resource}) resolved before its releaser finished`);
        }
      },
      (error: unknown) => {
        item.settled = true;
        this.#violate(`destroy(${resource}) by its holder rejected with ${describe(error)}`);
      },
    );
  }

  #abort(k: number): void {
    const candidates = this.#acqs.filter((a) => a.state === 'pending' && a.controller !== undefined && !a.abortedByTest);
    if (candidates.length === 0) return;
    const acq = candidates[k % candidates.length]!;
    acq.abortedByTest = true;
    // From user code the pool runs after a hand-out (a listener, the factory of a refill, a
    // releaser), the abort may come after this caller's promise was resolved, too late to count.
    // Not from validate: it runs before its own caller's hand-out, so an abort there must win,
    // unless another resource was already handed out whose caller has not seen it yet (its promise
    // is resolved, its callback still queued): that caller may be the one aborted, too late.
    acq.abortedAtHandOut = this.#atPoint !== undefined && (this.#atPoint !== 'validate' || this.#handedOutUnseen());
    acq.controller!.abort(new Error(`reason of ${acq.kind}#${acq.id}`));
  }

  /** True while a resource was handed out ('acquire' event) to a caller that has not received it yet. */
  #handedOutUnseen(): boolean {
    for (const info of this.#resources.values()) if (info.outstanding && info.holder === undefined) return true;
    return false;
  }

  #resize(maxSize: number, idleGap: number, minIdleWanted: number): void {
    const maxIdle = Math.max(0, maxSize - idleGap);
    const minIdle = Math.min(minIdleWanted, maxIdle);
    const sizeBefore = this.pool.size;
    const l = this.#limits;
    // Set before the call: the 'destroy' events of what it closes arrive during it.
    if (maxSize < l.maxSize || maxIdle < l.maxIdle) this.#shrunk = true;
    try {
      this.pool.resize(maxSize, { maxIdle, minIdle });
    } catch (error) {
      if (!(error instanceof PoolDisposedError) || this.#disposedAt === undefined) this.#violate(`resize(${maxSize}) threw ${describe(error)}`);
      return;
    }
    l.maxSize = maxSize;
    l.maxIdle = maxIdle;
    l.minIdle = minIdle;
    this.#resizes++;
    this.#sizeBound = Math.max(maxSize, Math.min(this.#sizeBound, sizeBefore));
    // After a shrink, creations queued behind createConcurrency may outnumber the factory calls
    // in flight until their turn comes (they are dropped then): counts are no longer exact.
    const cc = this.config.createConcurrency;
    this.#exactCreating = !this.#shrunk && (cc === undefined || cc >= maxSize);
    if (this.pool.maxSize !== maxSize) this.#violate(`pool.maxSize is ${this.pool.maxSize} after resize(${maxSize})`);
  }

  #prefill(count: number): void {
    const target = Math.min(count, this.#limits.maxIdle);
    const item = this.#track(`prefill(${target})`);
    this.pool.prefill(target).then(
      () => {
        item.settled = true;
      },
      (error: unknown) => {
        item.settled = true;
        const typed = error instanceof PoolDisposedError || this.#isFactoryError(error);
        if (!typed) this.#violate(`prefill() rejected with an untyped error: ${describe(error)}`);
        if (error instanceof PoolDisposedError && this.#disposedAt === undefined) this.#violate('prefill() rejected with PoolDisposedError before dispose()');
      },
    );
  }

  #dispose(timeoutMs: number | undefined): Promise<void> {
    // Started already: also from user code that the first call ran synchronously (a releaser of
    // an idle resource it closed), before that call returned its promise. The first call's
    // timeoutMs is the one in force; a later call changes nothing and returns the same promise.
    if (this.#disposedAt !== undefined) {
      const again = this.pool.dispose(timeoutMs === undefined ? undefined : { timeoutMs });
      if (this.#disposePromise === undefined) this.#nestedDispose = again;
      else if (again !== this.#disposePromise) this.#violate('dispose() is not idempotent: a second call returned another promise');
      return again;
    }
    // Set first: dispose() closes idle resources (and emits 'destroy') synchronously.
    this.#disposedAt = now();
    this.#disposeTimeoutMs = timeoutMs ?? Infinity;
    const promise = this.pool.dispose(timeoutMs === undefined ? undefined : { timeoutMs });
    if (this.#nestedDispose !== undefined && this.#nestedDispose !== promise) {
      this.#violate('dispose() is not idempotent: a call from user code it ran returned another promise');
    }
    this.#disposePromise = promise;
    const item = this.#track('dispose()');
    promise.then(
      () => {
        item.settled = true;
        this.#disposeResolved = true;
        this.#onDisposed();
      },
      (error: unknown) => {
        item.settled = true;
        this.#violate(`dispose() rejected: ${describe(error)}`);
      },
    );
    return promise;
  }

  #settleHung(k: number, result: 'ok' | 'fail' | 'false'): void {
    const hung = this.#calls.filter((c) => c.settle !== undefined && c.settledAt === undefined);
    if (hung.length === 0) return;
    const call = hung[k % hung.length]!;
    call.settle!(result === 'false' && call.kind !== 'validate' ? 'ok' : result);
  }

  #settleAllHung(): void {
    for (const call of this.#calls) if (call.settle !== undefined && call.settledAt === undefined) call.settle('ok');
  }

  #hasHung(): boolean {
    return this.#calls.some((c) => c.settle !== undefined && c.settledAt === undefined);
  }

  /** release()/destroy() of something not borrowed: NotBorrowedError, never a change of state. */
  #misuse(k: number, op: 'release' | 'destroy'): void {
    const candidates = [...this.#resources.values()].filter((i) => !i.outstanding && !i.forceClosed && i.holder === undefined);
    const info = candidates.length === 0 || k % (candidates.length + 1) === candidates.length ? undefined : candidates[k % (candidates.length + 1)];
    const target = info?.res ?? new Res(-1);
    this.#refuse(op, target, `${op}(${target}) of a resource not borrowed`);
  }

  // ───────────────────────────── user callbacks ─────────────────────────────

  #factory(): Res | Promise<Res> {
    if (this.#disposedAt !== undefined) this.#violate('factory() was called after dispose()');
    return this.#user('factory', undefined) as Res | Promise<Res>;
  }

  #timeoutOf(kind: Kind): number {
    const c = this.config;
    switch (kind) {
      case 'factory':
        return c.createTimeoutMs;
      case 'releaser':
        return c.destroyTimeoutMs;
      case 'validate':
        return c.validateTimeoutMs;
      case 'reset':
        return c.resetTimeoutMs;
    }
  }

  #user(kind: Kind, arg: Res | undefined): unknown {
    // A pool looping in promise callbacks (create, validate, close, …) starves the event loop:
    // no timer fires and the run would freeze. Stop answering, so the loop ends and the next
    // check reports it.
    if (++this.#callsThisTurn > STORM_CALLS) {
      if (this.#callsThisTurn === STORM_CALLS + 1) this.#violate(`${STORM_CALLS} callback calls without the event loop getting a turn: the pool loops`);
      return new Promise(() => {});
    }
    const script = this.#scripts[kind];
    let outcome = script[this.#callCount[kind]++ % script.length]!;
    if (outcome === 'hang' && this.#stopHanging) outcome = 'okAsync';
    // With onCreateError 'retry' a caller waits for the factory to recover, up to its own
    // timeout, which may be 2^31 ms or Infinity: once the run stops its faults, the factory does
    // recover, or the end phase could never see such a caller settle.
    if (this.#stopHanging && kind === 'factory' && this.config.onCreateError === 'retry') outcome = 'okAsync';
    const call: Call = {
      id: this.#calls.length + 1,
      kind,
      outcome,
      start: now(),
      timeoutMs: this.#timeoutOf(kind),
      arg,
      async: false,
      settledAt: undefined,
      settledStep: 0,
      failed: false,
      settle: undefined,
      allowance: 0,
      clears: this.#clears,
      seq: ++this.#seq,
    };
    this.#calls.push(call);
    this.#note(`  ${kind}#${call.id}(${arg ?? ''}) → ${outcome}`);
    if (arg !== undefined) this.#onCalledWith(call, arg);
    // User code runs before the callback answers.
    this.#reenter(kind, arg);

    const settle = (how: 'ok' | 'fail' | 'false'): { value?: unknown; error?: Error } => {
      call.settledAt = now();
      call.settledStep = this.#step;
      if (how === 'fail') {
        call.failed = true;
        const error = new Error(`${kind}#${call.id} failed`);
        this.#thrown[kind].add(error);
        return { error };
      }
      if (how === 'false') {
        call.failed = true;
        return { value: false };
      }
      if (kind === 'validate') return { value: true };
      if (kind !== 'factory') return { value: undefined };
      const res = new Res(++this.#nextRes);
      this.#resources.set(res, {
        res,
        call,
        accepted: false,
        destroyed: undefined,
        releaserCalls: 0,
        lives: 1,
        entry: call,
        outstanding: false,
        holder: undefined,
        forceClosed: false,
        destroyRequested: false,
        allowance: 0,
        retired: false,
        createdAt: 0,
        borrowedAt: 0,
        leakReported: false,
        pickedSeq: Infinity,
      });
      this.#note(`  ${kind}#${call.id} made ${res}`);
      return { value: res };
    };
    const later = (ms: number, how: 'ok' | 'fail' | 'false'): Promise<unknown> => {
      call.async = true;
      return new Promise((resolve, reject) =>
        this.#timer(ms, () => {
          const r = settle(how);
          if (r.error !== undefined) reject(r.error);
          else resolve(r.value);
        }),
      );
    };
    const afterTicks = async (how: 'ok' | 'fail' | 'false'): Promise<unknown> => {
      call.async = true;
      for (let i = 0; i < TICKS; i++) await null;
      const r = settle(how);
      if (r.error !== undefined) throw r.error;
      return r.value;
    };
    switch (outcome) {
      case 'dup': {
        const live = [...this.#resources.values()].filter((i) => i.accepted && i.destroyed === undefined);
        if (kind !== 'factory' || live.length === 0) return settle('ok').value;
        const again = live[live.length - 1]!.res;
        const calls = this.#dupCalls.get(again);
        const entry = { call, turn: this.#turns };
        if (calls === undefined) this.#dupCalls.set(again, [entry]);
        else calls.push(entry);
        call.settledAt = now();
        call.settledStep = this.#step;
        call.failed = true; // the pool must refuse it
        this.#dups++;
        this.#note(`  ${kind}#${call.id} returned ${again} again`);
        return again;
      }
      case 'twice': {
        if (kind !== 'factory') return settle('ok').value;
        call.async = true;
        const value = settle('ok').value;
        return {
          then(onFulfilled: (v: unknown) => void, onRejected?: (e: unknown) => void): void {
            onFulfilled(value);
            onFulfilled(value);
            onRejected?.(new Error('rejected after fulfilling'));
            throw new Error('then() threw after fulfilling');
          },
        };
      }
      case 'ok':
        return settle('ok').value;
      case 'false':
        return settle('false').value;
      case 'throw':
        throw settle('fail').error!;
      case 'okAsync':
        call.async = true;
        return Promise.resolve(settle('ok').value);
      case 'falseAsync':
        call.async = true;
        return Promise.resolve(settle('false').value);
      case 'reject':
        call.async = true;
        return Promise.reject(settle('fail').error!);
      case 'hang':
        call.async = true;
        return new Promise((resolve, reject) => {
          call.settle = (how) => {
            this.#note(`  ${kind}#${call.id} settled by the test: ${how}`);
            const r = settle(how);
            if (r.error !== undefined) reject(r.error);
            else resolve(r.value);
          };
        });
      case 'slowOk':
        return later(SLOW_MS, 'ok');
      case 'slowFail':
        return later(SLOW_MS, 'fail');
      case 'slowFalse':
        return later(SLOW_MS, 'false');
      case 'lateOk':
        return later(LATE_MS, 'ok');
      case 'lateFail':
        return later(LATE_MS, 'fail');
      case 'okTicks':
        return afterTicks('ok');
      case 'failTicks':
        return afterTicks('fail');
      case 'falseTicks':
        return afterTicks('false');
    }
  }

  /** Checks on the resource passed to the releaser, validate or reset. */
  #onCalledWith(call: Call, res: Res): void {
    const info = this.#resources.get(res);
    if (info === undefined) {
      this.#violate(`${call.kind} was called with ${String(res)}, which the factory never returned`);
      return;
    }
    if (call.kind === 'releaser') {
      info.releaserCalls++;
      if (info.releaserCalls > info.lives) this.#violate(`invariant 5: ${res} was passed to the releaser twice`);
      if (info.accepted && info.destroyed === undefined) this.#violate(`the releaser was called on ${res}, which is still in the pool`);
      if (!info.accepted && !this.#arrivedLate(info.call)) this.#violate(`the releaser was called on ${res}, which never entered the pool yet was not late`);
      return;
    }
    if (!info.accepted || info.destroyed !== undefined) this.#violate(`${call.kind} was called on ${res}, which is not in the pool`);
    if (info.outstanding) this.#violate(`${call.kind} was called on ${res} while a caller holds it`);
    if (call.kind === 'validate') {
      if (this.#disposedAt !== undefined) this.#violate(`validate(${res}) was called after dispose()`);
      const previous = this.#validating.get(res);
      if (previous !== undefined && this.#inFlight(previous, now())) this.#violate(`validate(${res}) was called while another validation of it is in flight`);
      this.#validating.delete(res);
      call.allowance = this.#validationsMaybeServing();
      this.#validating.set(res, call);
    }
  }

  // ───────────────────────────── pool events ─────────────────────────────

  #onCreate(res: Res): void {
    const info = this.#resources.get(res);
    this.#note(`  event create ${res}`);
    if (info === undefined) {
      this.#violate(`'create' for ${String(res)}, which the factory never returned`);
      return;
    }
    // Calls refused in an earlier turn are no candidates: without this, a dup refused while the
    // resource was still in the pool (before a clear(), say) was taken for the call of a later life.
    const dups = this.#dupCalls.get(res)?.filter((d) => d.turn === this.#turns);
    const dup = dups?.[0]?.call;
    if (info.accepted && info.destroyed !== undefined && dup !== undefined) {
      // The factory returned it again ('dup') and the pool closed it before that call's answer
      // was registered: to the pool it is a new resource, in a life of its own.
      info.lives++;
      info.entry = dup;
      info.destroyed = undefined;
      info.retired = false;
      info.destroyRequested = false;
      info.forceClosed = false;
      dups!.shift();
      if (dups!.length === 0) this.#dupCalls.delete(res);
      else this.#dupCalls.set(res, dups!);
    } else if (info.accepted) {
      this.#violate(`'create' twice for ${res}`);
    }
    if (this.#arrivedLate(info.entry)) this.#violate(`${res} arrived after its create timeout yet entered the pool`);
    info.accepted = true;
    info.createdAt = now();
    this.#seen.created++;
    this.#reenter('create', res);
  }

  #onDestroy(res: Res, reason: DestroyReason): void {
    const info = this.#resources.get(res);
    this.#note(`  event destroy ${res} (${reason})`);
    if (info === undefined || !info.accepted) {
      this.#violate(`'destroy' for ${String(res)}, which never entered the pool`);
      return;
    }
    if (info.destroyed !== undefined) this.#violate(`'destroy' twice for ${res}`);
    info.destroyed = reason;
    this.#seen.destroyed[reason]++;
    this.#endValidation(res);
    const c = this.config;
    const allowed: Record<DestroyReason, boolean> = {
      destroyed: info.destroyRequested,
      disposed: this.#disposedAt !== undefined,
      cleared: this.#clears > 0,
      maxUses: false, // the harness never sets maxUses
      retired: false, // nor calls retire()
      recycled: c.recycleMs !== Infinity,
      idle: c.idleTimeoutMs !== Infinity,
      invalid: c.validate || c.reset,
      // #shrunk is set before resize() runs: user code it runs (a 'destroy' listener releasing a
      // resource) may meet the new, lower maxIdle before resize() returns.
      overflow: c.maxIdle < c.maxSize || this.#resizes > 0 || this.#shrunk,
      resized: this.#shrunk,
      revoked: false,
    };
    if (!allowed[reason]) this.#violate(`${res} closed for reason '${reason}', which cannot apply`);
    if (info.outstanding) {
      info.outstanding = false;
      if (reason === 'disposed') {
        if (now() - this.#disposedAt! < this.#disposeTimeoutMs) this.#violate(`dispose() closed ${res}, still borrowed, before its timeoutMs`);
        info.forceClosed = true;
      } else if (reason !== 'destroyed') {
        this.#violate(`${res} was closed ('${reason}') while a caller holds it`);
      }
    }
    this.#reenter('destroy', res);
  }

  #onAcquireEvent(res: Res, waitedMs: number): void {
    const info = this.#resources.get(res);
    this.#note(`  event acquire ${res}`);
    if (info === undefined || !info.accepted) {
      this.#violate(`${String(res)} was handed out but never entered the pool`);
      return;
    }
    if (info.destroyed !== undefined) this.#violate(`invariant 2: ${res} was handed out after it was closed ('${info.destroyed}')`);
    if (info.outstanding) this.#violate(`invariant 2: ${res} was handed out while already held by a caller`);
    if (this.#disposedAt !== undefined) this.#violate(`${res} was handed out after dispose()`);
    if (info.retired || info.entry.clears < this.#clears) this.#violate(`${res} was handed out after clear() retired it`);
    // Its lifetime is at most recycleMs (jitter only shortens it); a millisecond of slack for timer order.
    if (now() - info.createdAt >= this.config.recycleMs + 1) this.#violate(`${res} was handed out ${now() - info.createdAt} ms after its creation, past recycleMs`);
    info.borrowedAt = now();
    info.leakReported = false;
    if (!(waitedMs >= 0)) this.#violate(`'acquire' event with waitedMs ${waitedMs}`);
    info.outstanding = true;
    info.holder = undefined;
    // The waiter was picked when its resource's validation started (if it had one): earlier waiters
    // still pending then had to be serving, and may since have failed their check and be waiting.
    const validation = this.#validating.get(res);
    // Picked for its waiter when its validation started, or now if it had none.
    // Without a validation the resource was picked at hand-out, just before this event: a caller
    // created later (user code in a listener) was not passed over.
    info.pickedSeq = validation?.seq ?? this.#seq;
    this.#endValidation(res);
    info.allowance = Math.max(validation?.allowance ?? 0, this.#validationsMaybeServing());
    this.#seen.acquired++;
    this.#reenter('acquire', res);
  }

  #onRelease(res: Res): void {
    const info = this.#resources.get(res);
    this.#note(`  event release ${res}`);
    if (info === undefined || !info.outstanding) {
      this.#violate(`'release' for ${String(res)}, which was not out`);
      return;
    }
    const holder = info.holder;
    if (holder !== undefined && holder.kind === 'acquire' && this.#releasing !== res) {
      this.#violate(`invariant 2: ${res} was released from under acquire#${holder.id}, which still holds it`);
    }
    info.outstanding = false;
    info.holder = undefined;
    this.#seen.released++;
    this.#reenter('release', res);
  }

  #onError(error: unknown, operation: PoolOperation, res: Res | undefined): void {
    this.#note(`  event error ${operation} ${res ?? ''}: ${error instanceof Error ? error.message : String(error)}`);
    this.#seen.errors[operation]++;
    let typed: boolean;
    switch (operation) {
      case 'create':
        typed = this.#isFactoryError(error) && res === undefined;
        break;
      case 'destroy':
        typed = (this.#thrown.releaser.has(error) || error instanceof DestroyTimeoutError) && res !== undefined;
        break;
      case 'validate':
        typed = (this.#thrown.validate.has(error) || error instanceof ValidateTimeoutError) && res !== undefined;
        break;
      case 'reset':
        typed = error instanceof Error && res !== undefined;
        break;
      case 'retire': // the harness never calls retire()
      case 'budget': // the model's pools have no budget
        typed = false;
        break;
    }
    if (!typed) this.#violate(`'error' event {operation: ${operation}} with an unexpected error or resource: ${describe(error)}`);
  }

  #onLeak(res: Res): void {
    this.#seen.leaks++;
    const info = this.#resources.get(res);
    if (info === undefined || !info.outstanding) {
      this.#violate(`'leak' for ${String(res)}, which is not borrowed`);
      return;
    }
    if (info.leakReported) this.#violate(`two 'leak' events for one borrow of ${res}`);
    if (now() - info.borrowedAt < this.config.leakDetectionMs - 1) this.#violate(`'leak' for ${res} after ${now() - info.borrowedAt} ms, before leakDetectionMs`);
    info.leakReported = true;
  }

  // ───────────────────────────── acquire outcomes ─────────────────────────────

  #onAcquired(acq: Acq, res: Res): void {
    const info = this.#resources.get(res);
    this.#note(`  ${acq.kind}#${acq.id} got ${String(res)}`);
    if (acq.state !== 'pending') this.#violate(`${acq.kind}#${acq.id} settled twice`);
    if (info === undefined) {
      this.#violate(`${acq.kind}#${acq.id} resolved with ${String(res)}, which the factory never returned`);
      return;
    }
    if (!info.outstanding) this.#violate(`invariant 2: ${acq.kind}#${acq.id} got ${res}, which is not handed out (closed or given back)`);
    if (info.holder !== undefined && info.holder !== acq) this.#violate(`invariant 2: ${res} given to ${acq.kind}#${acq.id} while ${info.holder.kind}#${info.holder.id} holds it`);
    if (acq.abortedByTest && !acq.abortedAtHandOut) this.#violate(`${acq.kind}#${acq.id} resolved after its signal aborted`);
    acq.state = 'held';
    acq.settledStep = this.#step;
    acq.resource = res;
    info.holder = acq;
    this.#fifoChecks.push({ what: `${acq.kind}#${acq.id} was served`, acq, earlier: this.#earlierPending(acq, info.pickedSeq), allowance: info.allowance });
  }

  #onAcquireFailed(acq: Acq, error: unknown): void {
    this.#note(`  ${acq.kind}#${acq.id} rejected: ${error instanceof Error ? `${error.name} ${error.message}` : String(error)}`);
    if (acq.state !== 'pending') this.#violate(`${acq.kind}#${acq.id} settled twice`);
    acq.state = 'rejected';
    acq.settledStep = this.#step;
    const t = now();
    const where = `${acq.kind}#${acq.id}`;
    if (error instanceof AcquireTimeoutError) {
      this.#seen.timedOut++;
      if (error.code !== 'ERR_ACQUIRE_TIMEOUT') this.#violate(`${where}: AcquireTimeoutError with code ${error.code}`);
      if (!(t > acq.deadline - 1)) this.#violate(`${where} timed out at t=${t}, before its deadline ${acq.deadline}`);
    } else if (error instanceof AbortError) {
      this.#seen.aborted++;
      if (!acq.abortedByTest || error.code !== 'ABORT_ERR' || error.name !== 'AbortError') this.#violate(`${where}: AbortError without an abort`);
      if (error.cause !== acq.controller?.signal.reason) this.#violate(`${where}: AbortError.cause is not the signal's reason`);
    } else if (error instanceof PoolDisposedError) {
      if (this.#disposedAt === undefined) this.#violate(`${where}: PoolDisposedError before dispose()`);
    } else if (error instanceof PoolQueueFullError) {
      this.#seen.queueFull++;
      if (this.config.maxWaiters === Infinity) this.#violate(`${where}: PoolQueueFullError with maxWaiters Infinity`);
      if (acq.queued) this.#violate(`${where}: PoolQueueFullError after it was queued`);
      if (acq.idleAtCall !== 0 || acq.sizeAtCall < acq.maxAtCall) this.#violate(`${where}: PoolQueueFullError while a resource was idle or the pool below maxSize`);
    } else if (error instanceof PoolUnavailableError) {
      this.#seen.unavailable++;
      if (this.config.failFastAfter === Infinity) this.#violate(`${where}: PoolUnavailableError with failFastAfter Infinity`);
      if (!this.#isFactoryError(error.cause)) this.#violate(`${where}: PoolUnavailableError whose cause is not a factory error`);
      // Refused at the call only when nothing was idle; queued waiters are all rejected on tripping.
      if (!acq.queued && acq.idleAtCall !== 0) this.#violate(`${where}: PoolUnavailableError at the call while a resource was idle`);
    } else if (this.#isFactoryError(error)) {
      this.#seen.createFailedRejections++;
      if (this.config.onCreateError === 'retry') this.#violate(`${where} got a factory error with onCreateError 'retry'`);
      // The oldest queued waiter gets the error: every earlier one still pending must be serving.
      if (acq.kind === 'acquire') {
        this.#fifoChecks.push({
          what: `${where} got a factory error`,
          acq,
          earlier: this.#earlierPending(acq, Infinity),
          allowance: this.#validationsMaybeServing() + this.#validatingEndedThisStep,
        });
      }
    } else {
      this.#violate(`invariant 3: ${where} rejected with an untyped error: ${describe(error)}`);
    }
  }

  #isFactoryError(error: unknown): boolean {
    return this.#thrown.factory.has(error) || error instanceof CreateTimeoutError || (this.#dups > 0 && error instanceof TypeError);
  }

  /**
   * Waiters still pending that should have gone first: those of the same or a higher priority that
   * arrived earlier, and those of a higher priority already waiting when the resource was picked.
   */
  #earlierPending(acq: Acq, pickedSeq: number): Acq[] {
    return this.#acqs.filter((a) => a.state === 'pending' && a !== acq &&
      ((a.id < acq.id && a.priority <= acq.priority) || (a.priority < acq.priority && a.seq < pickedSeq)));
  }

  /** Validations that may still be serving a waiter: not yet ended by a hand-out or a close, and not settled in an earlier step. */
  #validationsMaybeServing(): number {
    let n = 0;
    for (const call of this.#validating.values()) if (call.settledAt === undefined || call.settledStep === this.#step) n++;
    return n;
  }

  #endValidation(res: Res): void {
    if (this.#validating.delete(res)) this.#validatingEndedThisStep++;
  }

  // ───────────────────────────── time ─────────────────────────────

  /** A fake timer of the test's own (slow calls and bodies), counted for the timer check. */
  #timer(ms: number, fn: () => void): void {
    this.#myTimers++;
    ownTimeout(() => {
      this.#myTimers--;
      fn();
    }, ms);
  }

  /**
   * Moves the fake clock `ms` forward one timer at a time, letting every promise callback run
   * after each, then fires what is due at the target time. `ms = 0` just flushes.
   */
  async #advance(ms: number): Promise<void> {
    let reached = false;
    ownTimeout(() => {
      reached = true;
    }, ms);
    await this.#turn();
    for (let fired = 0; !reached; fired++) {
      if (fired > 10_000) this.#fail('timers keep firing: more than 10 000 in one step');
      jest.advanceTimersToNextTimer();
      await this.#turn();
    }
  }

  /** Lets every pending promise callback run: resolves once the event loop gets a turn. */
  async #turn(): Promise<void> {
    await realTick();
    this.#turns++;
    this.#callsThisTurn = 0;
  }

  // ───────────────────────────── checks ─────────────────────────────

  #inFlight(call: Call, t: number): boolean {
    if (call.kind === 'factory') {
      // #callFactory arms its timeout before calling the factory, so even a sync call had one.
      if (call.settledAt !== undefined) return false;
      return call.async && t - call.start < call.timeoutMs;
    }
    return call.async && call.settledAt === undefined && t - call.start < call.timeoutMs;
  }

  #arrivedLate(call: Call): boolean {
    return call.settledAt !== undefined && call.settledAt - call.start >= call.timeoutMs;
  }

  /** How the pool saw a call end: 'pending', 'ok', 'failed' (threw, rejected, false) or 'timeout'. */
  #poolView(call: Call, t: number): 'pending' | 'ok' | 'failed' | 'timeout' {
    if (!call.async) return call.failed ? 'failed' : 'ok';
    if (call.settledAt !== undefined && call.settledAt - call.start < call.timeoutMs) return call.failed ? 'failed' : 'ok';
    return t - call.start >= call.timeoutMs ? 'timeout' : 'pending';
  }

  #unsettled(): string[] {
    return this.#acqs.filter((a) => a.state === 'pending').map((a) => `${a.kind}#${a.id}`);
  }

  /** Checks every invariant that must hold between steps; throws on a violation. */
  check(): void {
    const t = now();
    const pool = this.pool;
    const c = this.config;
    let live = 0;
    let outstanding = 0;
    for (const info of this.#resources.values()) {
      if (info.accepted && info.destroyed === undefined) live++;
      if (info.outstanding) outstanding++;
    }
    let validating = 0;
    let resetting = 0;
    let creating = 0;
    let releaserFailed = 0;
    for (const call of this.#calls) {
      if (call.kind === 'releaser') {
        const view = this.#poolView(call, t);
        if (view === 'failed' || view === 'timeout') releaserFailed++;
      }
      if (!this.#inFlight(call, t)) continue;
      if (call.kind === 'factory') creating++;
      else if (call.kind === 'validate' && this.#resources.get(call.arg!)?.destroyed === undefined) validating++;
      else if (call.kind === 'reset' && this.#resources.get(call.arg!)?.destroyed === undefined) resetting++;
    }
    const borrowed = outstanding + validating + resetting;
    const idle = live - borrowed;
    const pending = this.#acqs.filter((a) => a.state === 'pending').length;

    const counts = `pool: idle ${pool.idle}, borrowed ${pool.borrowed}, creating ${pool.creating}, pending ${pool.pending}; ` +
      `model: idle ${idle}, borrowed ${borrowed} (${outstanding} held, ${validating} validating, ${resetting} resetting), creating ${creating}, pending ${pending}`;
    if (pool.borrowed !== borrowed || pool.idle !== idle || pool.pending !== pending) this.#violate(`invariant 1: counts differ. ${counts}`);
    if (this.#exactCreating || this.#disposedAt !== undefined) {
      if (pool.creating !== creating) this.#violate(`invariant 1: counts differ. ${counts}`);
    } else if (pool.creating < creating || (pool.creating > creating && creating < (c.createConcurrency ?? Math.min(this.#limits.maxSize, 16)))) {
      this.#violate(`invariant 1: creations queued while createConcurrency allows more. ${counts}`);
    }
    if (pool.size !== pool.idle + pool.borrowed + pool.creating) this.#violate(`size ${pool.size} is not idle + borrowed + creating`);
    const bound = Math.max(this.#limits.maxSize, this.#sizeBound);
    if (pool.size > bound) this.#violate(`invariant 1: size ${pool.size} > ${bound} (maxSize ${this.#limits.maxSize}). ${counts}`);
    if (live + creating > bound) this.#violate(`invariant 1: ${live} live resources and ${creating} creations exceed ${bound} (maxSize ${this.#limits.maxSize})`);
    this.#sizeBound = Math.max(this.#limits.maxSize, Math.min(this.#sizeBound, Math.max(pool.size, live + creating)));
    if (pool.maxSize !== this.#limits.maxSize) this.#violate(`pool.maxSize is ${pool.maxSize}, expected ${this.#limits.maxSize}`);
    if (pool.disposed !== (this.#disposedAt !== undefined)) this.#violate(`pool.disposed is ${pool.disposed}`);

    const s = pool.stats();
    const seen = this.#seen;
    const expect: [string, number, number][] = [
      ['stats.size', s.size, pool.size],
      ['stats.idle', s.idle, pool.idle],
      ['stats.borrowed', s.borrowed, pool.borrowed],
      ['stats.creating', s.creating, pool.creating],
      ['stats.pending', s.pending, pool.pending],
      ['stats.created', s.created, seen.created],
      ['stats.acquired', s.acquired, seen.acquired],
      ['stats.acquiredImmediately + acquiredAfterWait', s.acquiredImmediately + s.acquiredAfterWait, s.acquired],
      ['stats.released', s.released, seen.released],
      ['stats.timedOut', s.timedOut, seen.timedOut],
      ['stats.aborted', s.aborted, seen.aborted],
      ['stats.rejectedQueueFull', s.rejectedQueueFull, seen.queueFull],
      ['stats.rejectedUnavailable', s.rejectedUnavailable, seen.unavailable],
      ['stats.rejectedCreateFailed', s.rejectedCreateFailed, seen.createFailedRejections],
      ['stats.leaks', s.leaks, seen.leaks],
      ['stats.resized', s.resized, this.#resizes],
      ['stats.maxSize', s.maxSize, this.#limits.maxSize],
      ['stats.destroyFailed', s.destroyFailed, releaserFailed],
      ['error events {operation: destroy}', seen.errors.destroy, releaserFailed],
      ['stats.waitTime.count', s.waitTime.count, s.acquired],
    ];
    let destroyedTotal = 0;
    for (const reason of Object.keys(seen.destroyed) as DestroyReason[]) {
      expect.push([`stats.destroyed.${reason}`, s.destroyed[reason], seen.destroyed[reason]]);
      destroyedTotal += seen.destroyed[reason];
    }
    expect.push(['stats.destroyed.total', s.destroyed.total, destroyedTotal]);
    for (const [name, actual, expected] of expect) {
      if (actual !== expected) this.#violate(`invariant 1: ${name} is ${actual}, expected ${expected}`);
    }
    if (s.validationFailed > seen.destroyed.invalid) this.#violate(`stats.validationFailed ${s.validationFailed} > resources closed as invalid ${seen.destroyed.invalid}`);

    // A borrow held past leakDetectionMs has raised its 'leak' event (the pool stops looking once disposed).
    if (c.leakDetectionMs !== Infinity && this.#disposedAt === undefined) {
      for (const info of this.#resources.values()) {
        if (info.outstanding && !info.leakReported && t - info.borrowedAt >= c.leakDetectionMs) {
          this.#violate(`${info.res} has been borrowed for ${t - info.borrowedAt} ms without a 'leak' event`);
        }
      }
    }

    // Invariant 7: the timer rule.
    let held = 0;
    for (const handle of liveTimers) if (!ownTimers.has(handle) && handle.hasRef?.() !== false) held++;
    const timed = this.#acqs.filter((a) => a.state === 'pending' && a.deadline !== Infinity);
    if (timed.length !== 0 && held === 0) {
      this.#violate(`invariant 7: ${timed.map((a) => `${a.kind}#${a.id}`).join(', ')} wait with a finite timeout, yet no timer of the pool keeps the process alive`);
    }
    const disposing = this.#disposedAt !== undefined && !this.#disposeResolved;
    // With onCreateError 'retry', the backoff before a creation that callers wait for holds too.
    const retrying = this.config.onCreateError === 'retry' && this.#acqs.some((a) => a.state === 'pending');
    if (timed.length === 0 && held !== 0 && !disposing && !retrying) {
      this.#violate(`invariant 7: ${held} timer(s) of the pool keep the process alive, yet no acquire with a finite timeout is pending`);
    }

    // Invariant 3 in time: a waiter past its deadline has been rejected.
    for (const acq of this.#acqs) {
      if (acq.state === 'pending' && t >= acq.deadline) this.#violate(`${acq.kind}#${acq.id} is still pending at t=${t}, past its deadline ${acq.deadline}`);
    }

    // Invariant 4: when a waiter was served (or given a factory error), every waiter that arrived
    // earlier and was still pending must have been busy being served (validating its resource).
    // A use() reports how its acquire settled one promise hop late, so it is excused if it settled
    // now (user code running inside a hand-out can serve another caller within that hop).
    // With user code calling back into the pool, a caller served during another's acquire() (by
    // an 'acquire' listener, say) sees its promise settle first: the model only sees settlements,
    // so an earlier caller that settled in the same step is excused then too.
    const reentrant = (this.#scripts.reentry?.length ?? 0) !== 0;
    for (const f of this.#fifoChecks.splice(0)) {
      const waiting = f.earlier.filter((a) => !((a.kind === 'use' || reentrant) && a.state !== 'pending' && a.settledStep === this.#step));
      if (waiting.length > f.allowance) {
        this.#violate(`invariant 4: ${f.what} while ${waiting.map((a) => `${a.kind}#${a.id}`).join(', ')}` + (this.config.priorities === undefined ? " (arrived earlier)" : " (arrived earlier, or of a higher priority)") + ` waited; ` +
          `at most ${f.allowance} could have been busy validating`);
      }
    }

    if (this.#violations.length !== 0) this.#fail(this.#violations.join('\n'));
  }

  #onDisposed(): void {
    const t = now();
    const forced = t - this.#disposedAt! >= this.#disposeTimeoutMs - 1;
    if (forced) return; // creations in flight may still arrive and be closed
    for (const call of this.#calls) {
      if (call.kind === 'releaser' && this.#inFlight(call, t)) this.#violate(`dispose() resolved while releaser#${call.id}(${call.arg}) runs`);
      if (call.kind === 'factory' && this.#inFlight(call, t)) this.#violate(`dispose() resolved while factory#${call.id} runs`);
    }
    for (const info of this.#resources.values()) {
      if (info.accepted && info.destroyed === undefined) this.#violate(`dispose() resolved while ${info.res} is still in the pool`);
    }
  }

  #checkDisposed(): void {
    const pool = this.pool;
    if (pool.idle !== 0 || pool.borrowed !== 0 || pool.pending !== 0) {
      this.#fail(`after dispose(): idle ${pool.idle}, borrowed ${pool.borrowed}, pending ${pool.pending}`);
    }
  }

  // ───────────────────────────── reporting ─────────────────────────────

  #track(label: string): Tracked {
    const item = { label, settled: false };
    this.#tracked.push(item);
    return item;
  }

  #note(line: string): void {
    this.#log.push(line);
    if (this.#log.length > 400) this.#log.splice(0, 100);
  }

  #violate(message: string): void {
    this.#violations.push(message);
  }

  #fail(message: string): never {
    throw new Violation(`${message}\n\nconfig: ${fc.stringify(this.config)}\nscripts: ${fc.stringify(this.#scripts)}\n` +
      `last events:\n${this.#log.slice(-120).join('\n')}`);
  }
}

function now(): number {
  return performance.now();
}
