/**
 * The soak run shared by `npm run soak` (10 million cycles) and the CI test
 * (tests/reliability/soak.test.ts, 200 000 cycles): many concurrent callers acquire and release
 * through two long-lived pools while a seeded fault injector makes factories throw, reject, stall
 * and hang, releasers throw and hang, validation and reset fail, and callers destroy, time out
 * and abort. It checks the pools' invariants along the way and reports the heap (after a forced
 * GC) before, halfway through and after the measured cycles.
 *
 * The library is passed in rather than imported, so that the same code can drive the built
 * package (`npm run soak`) and a fresh compilation of src/ (the CI test's child process).
 *
 * @module
 */
import type * as Poolkeeper from 'poolkeeper';

/** What the soak needs from the library. */
export type SoakLibrary = Pick<typeof Poolkeeper, 'AsyncPool' | 'PoolError'>;
type Pool = Poolkeeper.AsyncPool<SoakResource>;

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Acquire attempts in the measured phase. */
  readonly cycles: number;
  /**
   * Acquire attempts before the first heap measurement. Compiled code, inline caches and the
   * capacity of rings and tables keep growing for about the first 100 000 cycles (rare paths run
   * for the first time, a burst sets a new high-water mark); a shorter warm-up leaves that
   * one-off growth in the measured figure.
   */
  readonly warmupCycles: number;
  /** Concurrent callers, split evenly between the two pools. */
  readonly callers: number;
  /** Seed of the fault injector. */
  readonly seed: number;
  /** `global.gc`, from `node --expose-gc`. */
  readonly gc: () => void;
  /** Called about every `cycles / 20` cycles with the number done. */
  readonly onProgress?: (done: number, total: number) => void;
  /** A phase that makes no progress for this long fails (a hung waiter). @defaultValue 15 000 */
  readonly stallMs?: number;
}

/** Heap figures, in bytes, each the smallest `heapUsed` seen over a few forced collections. */
export interface HeapFigures {
  /** After the warm-up, pools alive and quiet. */
  readonly before: number;
  /**
   * After the first half of the measured cycles, pools alive and quiet. Not checked; it tells a
   * leak (both halves grow alike) from a one-off step (the first half grows, the second not).
   */
  readonly middle: number;
  /** After the measured cycles, pools alive and quiet. */
  readonly after: number;
  /** `after - before`. */
  readonly growth: number;
  /** After both pools were disposed. */
  readonly afterDispose: number;
}

/** What a soak run saw. `violations` must be empty for the run to pass. */
export interface SoakReport {
  readonly seed: number;
  readonly callers: number;
  readonly warmupCycles: number;
  readonly cycles: number;
  readonly elapsedMs: number;
  readonly heap: HeapFigures;
  /** Acquire outcomes over both phases, by error `code` (or `name`); `ok` for a resource. */
  readonly outcomes: Record<string, number>;
  /** Faults injected, by kind. */
  readonly faults: Record<string, number>;
  /** 'error' events, by operation. */
  readonly errorEvents: Record<string, number>;
  /** Resources the factories produced, and releaser calls (equal after dispose). */
  readonly produced: number;
  readonly releaserCalls: number;
  /** The pools' final statistics counters of interest. */
  readonly stats: Record<string, Record<string, number>>;
  /** Broken invariants (first 20 of each kind). Empty on success. */
  readonly violations: readonly string[];
}

/** The error an injected factory fault throws. */
export class InjectedFault extends Error {
  readonly code = 'E_INJECTED';
}

/** mulberry32: small, fast, seeded; good enough to pick faults reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SoakResource {
  readonly id: number;
  readonly pool: string;
  held: boolean;
  closed: boolean;
}

// Probabilities per event. Rare enough that most cycles take the ordinary path (the one that must
// not leak), frequent enough that 200 000 cycles see every fault hundreds of times.
const P = {
  factoryThrow: 0.01,
  factoryReject: 0.01,
  factorySlow: 0.02, // 1–4 ms
  factoryTooSlow: 0.002, // past createTimeoutMs: CreateTimeoutError, then the late resource is closed
  outage: 0.002, // this pool's next OUTAGE_LENGTH factory calls fail: drives fail-fast and its recovery
  releaserThrow: 0.01,
  releaserReject: 0.01,
  releaserHang: 0.003, // never settles: abandoned after destroyTimeoutMs
  validateFalse: 0.01,
  validateThrow: 0.002,
  resetThrow: 0.005,
  callerDestroys: 0.03,
  holdImmediate: 0.05,
  holdTimer: 0.004, // 1–3 ms
  shortTimeout: 0.02, // per-call timeoutMs of 1–3 ms
  abort: 0.01,
} as const;
const OUTAGE_LENGTH = 12;
// One shared reason: `abort()` without one builds a DOMException, whose internals table grows in
// steps (Node keeps it in a WeakMap) and would blur the heap figures.
const ABORT_REASON = new Error('caller gave up (injected)');
const CREATE_TIMEOUT_MS = 20;
const CREATE_RATE_PER_SEC = 5_000;
// How long the full pool's rate gate remembers a creation: `createRatePerSec` starts per second.
const RATE_WINDOW_MS = 1_000;
const HOOK_TIMEOUT_MS = 20;

function bump(table: Record<string, number>, key: string, by = 1): void {
  table[key] = (table[key] ?? 0) + by;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function immediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs the soak and returns its report; never throws for a failed invariant (see `violations`).
 */
export async function runSoak(lib: SoakLibrary, options: SoakOptions): Promise<SoakReport> {
  const random = prng(options.seed);
  const stallMs = options.stallMs ?? 15_000;
  const outcomes: Record<string, number> = {};
  const faults: Record<string, number> = {};
  const errorEvents: Record<string, number> = {};
  const violationCounts = new Map<string, number>();
  const violations: string[] = [];
  const violate = (kind: string, detail: string): void => {
    const seen = violationCounts.get(kind) ?? 0;
    violationCounts.set(kind, seen + 1);
    if (seen < 20) violations.push(`${kind}: ${detail}`);
  };

  let nextId = 0;
  let produced = 0;
  /** Factory calls of the full pool (each one passed its rate gate first). */
  let fullFactoryCalls = 0;
  let releaserCalls = 0;
  /** Fault timers still pending (slow factories, held resources): the harness waits for them before measuring. */
  let faultTimers = 0;
  const alive = new Map<string, number>([['lean', 0], ['full', 0]]);

  const delay = <V>(ms: number, value: V): Promise<V> => {
    faultTimers++;
    return new Promise((resolve) =>
      setTimeout(() => {
        faultTimers--;
        resolve(value);
      }, ms),
    );
  };

  const factoryFor = (pool: string): (() => SoakResource | Promise<SoakResource>) => {
    let outageLeft = 0;
    return () => {
      if (pool === 'full') fullFactoryCalls++;
      const make = (): SoakResource => {
        produced++;
        alive.set(pool, alive.get(pool)! + 1);
        return { id: ++nextId, pool, held: false, closed: false };
      };
      if (outageLeft > 0) {
        outageLeft--;
        bump(faults, 'factory fails in outage');
        return Promise.reject(new InjectedFault('backend down (injected outage)'));
      }
      const r = random();
      let p = P.factoryThrow;
      if (r < p) {
        bump(faults, 'factory throws');
        throw new InjectedFault('factory threw (injected)');
      }
      if (r < (p += P.factoryReject)) {
        bump(faults, 'factory rejects');
        return Promise.reject(new InjectedFault('factory rejected (injected)'));
      }
      if (r < (p += P.factorySlow)) {
        bump(faults, 'factory slow');
        return delay(1 + Math.floor(random() * 4), undefined).then(make);
      }
      if (r < (p += P.factoryTooSlow)) {
        bump(faults, 'factory too slow');
        return delay(CREATE_TIMEOUT_MS + 5, undefined).then(make);
      }
      if (r < (p += P.outage)) {
        bump(faults, 'outage');
        outageLeft = OUTAGE_LENGTH - 1;
        return Promise.reject(new InjectedFault('backend down (injected outage)'));
      }
      return Promise.resolve(make());
    };
  };

  const releaser = (resource: SoakResource): void | Promise<void> => {
    releaserCalls++;
    if (resource.closed) violate('closed twice', `resource ${resource.id} of pool ${resource.pool}`);
    if (resource.held) violate('closed while held', `resource ${resource.id} of pool ${resource.pool}`);
    resource.closed = true;
    alive.set(resource.pool, alive.get(resource.pool)! - 1);
    const r = random();
    let p = P.releaserThrow;
    if (r < p) {
      bump(faults, 'releaser throws');
      throw new InjectedFault('releaser threw (injected)');
    }
    if (r < (p += P.releaserReject)) {
      bump(faults, 'releaser rejects');
      return Promise.reject(new InjectedFault('releaser rejected (injected)'));
    }
    if (r < (p += P.releaserHang)) {
      bump(faults, 'releaser hangs');
      return new Promise<void>(() => {}); // abandoned after destroyTimeoutMs
    }
    return undefined;
  };

  const validate = (resource: SoakResource): boolean => {
    if (resource.closed) violate('validated a closed resource', `resource ${resource.id}`);
    const r = random();
    if (r < P.validateFalse) {
      bump(faults, 'validate false');
      return false;
    }
    if (r < P.validateFalse + P.validateThrow) {
      bump(faults, 'validate throws');
      throw new InjectedFault('validate threw (injected)');
    }
    return true;
  };

  const reset = (resource: SoakResource): void => {
    if (random() < P.resetThrow) {
      bump(faults, 'reset throws');
      throw new InjectedFault(`reset of ${resource.id} threw (injected)`);
    }
  };

  // Two pools alive for the whole run: "lean" keeps the hot path (no validate/reset) and the
  // queue-full and fail-fast rejections; "full" turns on every per-resource rule.
  const lean = new lib.AsyncPool<SoakResource>({
    name: 'lean',
    factory: factoryFor('lean'),
    releaser,
    maxSize: 16,
    maxWaiters: 470,
    acquireTimeoutMs: 100,
    createTimeoutMs: CREATE_TIMEOUT_MS,
    destroyTimeoutMs: HOOK_TIMEOUT_MS,
    failFastAfter: 8,
    createRetry: { minDelayMs: 1, maxDelayMs: 20 },
  });
  const full = new lib.AsyncPool<SoakResource>({
    name: 'full',
    factory: factoryFor('full'),
    releaser,
    validate,
    reset,
    maxSize: 24,
    maxIdle: 16,
    minIdle: 4,
    strategy: 'fifo',
    acquireTimeoutMs: 100,
    createTimeoutMs: CREATE_TIMEOUT_MS,
    destroyTimeoutMs: HOOK_TIMEOUT_MS,
    validateTimeoutMs: HOOK_TIMEOUT_MS,
    validateIdleAfterMs: 0,
    resetTimeoutMs: HOOK_TIMEOUT_MS,
    recycleMs: 200,
    recycleJitter: 0.5,
    idleTimeoutMs: 50,
    createConcurrency: 4,
    createRatePerSec: CREATE_RATE_PER_SEC,
    createRetry: { minDelayMs: 1, maxDelayMs: 20 },
  });
  const pools: Pool[] = [lean, full];
  const limits = new Map<Pool, { maxSize: number; maxIdle: number }>([
    [lean, { maxSize: 16, maxIdle: 16 }],
    [full, { maxSize: 24, maxIdle: 16 }],
  ]);
  const held = new Map<Pool, number>([[lean, 0], [full, 0]]);
  // Creation failures no caller was waiting for are counted by code too (create:<code>): whether a
  // create timeout reaches a caller or only this event depends on who still waits when it fires.
  const onError = (name: string) => ({ operation, error }: { operation: string; error: unknown }): void => {
    bump(errorEvents, `${name}:${operation}`);
    if (operation === 'create') bump(errorEvents, `create:${String((error as { code?: unknown } | undefined)?.code)}`);
  };
  lean.on('error', onError('lean'));
  full.on('error', onError('full'));

  const expectedError = (error: unknown): string | undefined => {
    if (error instanceof InjectedFault) return error.code;
    if (error instanceof lib.PoolError) return error.code;
    if (error instanceof Error && error.name === 'AbortError' && (error as { code?: unknown }).code === 'ABORT_ERR') {
      return 'ABORT_ERR';
    }
    return undefined;
  };

  const checkInvariants = (pool: Pool): void => {
    const { maxSize, maxIdle } = limits.get(pool)!;
    if (pool.size > maxSize) violate('size above maxSize', `${pool.size} > ${maxSize}`);
    if (pool.idle > maxIdle) violate('idle above maxIdle', `${pool.idle} > ${maxIdle}`);
    if (held.get(pool)! > pool.borrowed) violate('held above borrowed', `${held.get(pool)} > ${pool.borrowed}`);
    if (pool.pending > options.callers) violate('pending above callers', `${pool.pending}`);
  };

  let started = 0;
  let finished = 0;

  const cycle = async (pool: Pool): Promise<void> => {
    let acquireOptions: { timeoutMs?: number; signal?: AbortSignal } | undefined;
    let controller: AbortController | undefined;
    let abortWhen = 0;
    const r = random();
    if (r < P.shortTimeout) {
      bump(faults, 'caller short timeout');
      acquireOptions = { timeoutMs: 1 + Math.floor(random() * 3) };
    } else if (r < P.shortTimeout + P.abort) {
      bump(faults, 'caller aborts');
      controller = new AbortController();
      acquireOptions = { signal: controller.signal };
      abortWhen = Math.floor(random() * 3); // 0: before the call, 1: a microtask later, 2: an immediate later
      if (abortWhen === 0) controller.abort(ABORT_REASON);
    }
    const promise = pool.acquire(acquireOptions);
    if (controller !== undefined && abortWhen === 1) queueMicrotask(() => controller!.abort(ABORT_REASON));
    if (controller !== undefined && abortWhen === 2) setImmediate(() => controller!.abort(ABORT_REASON));
    let resource: SoakResource;
    try {
      resource = await promise;
    } catch (error) {
      const code = expectedError(error);
      if (code === undefined) violate('unexpected acquire error', String((error as Error)?.stack ?? error));
      bump(outcomes, code ?? 'unexpected');
      // Back off a tick, as a real client would: some rejections are synchronous (queue full,
      // fail-fast), and a caller retrying in a microtask loop would starve every timer.
      await immediate();
      return;
    }
    bump(outcomes, 'ok');
    if (resource.closed) violate('handed out a closed resource', `resource ${resource.id}`);
    if (resource.held) violate('handed out a held resource', `resource ${resource.id}`);
    resource.held = true;
    held.set(pool, held.get(pool)! + 1);
    const h = random();
    if (h < P.holdImmediate) await immediate();
    else if (h < P.holdImmediate + P.holdTimer) await delay(1 + Math.floor(random() * 3), undefined);
    resource.held = false;
    held.set(pool, held.get(pool)! - 1);
    if (random() < P.callerDestroys) {
      bump(faults, 'caller destroys');
      await pool.destroy(resource);
    } else {
      pool.release(resource);
    }
  };

  const phase = async (cycles: number): Promise<void> => {
    const end = started + cycles;
    const progressEvery = Math.max(1, Math.floor(cycles / 20));
    let lastProgress = -1;
    let lastFinished = finished;
    let stalled: ((error: Error) => void) | undefined;
    const stallCheck = setInterval(() => {
      if (finished === lastFinished) {
        const detail = pools.map((p) => JSON.stringify({ ...p.stats(), waitTime: undefined })).join('\n');
        stalled?.(new Error(`soak: no cycle finished for ${stallMs} ms; pools:\n${detail}`));
      }
      lastFinished = finished;
    }, stallMs);
    const caller = async (pool: Pool): Promise<void> => {
      while (started < end) {
        started++;
        try {
          await cycle(pool);
        } catch (error) {
          violate('cycle threw', String((error as Error)?.stack ?? error));
        }
        finished++;
        if ((finished & 1023) === 0) {
          checkInvariants(pool);
          const step = Math.floor(finished / progressEvery);
          if (step !== lastProgress && options.onProgress !== undefined) {
            lastProgress = step;
            options.onProgress(finished, options.warmupCycles + options.cycles);
          }
        }
      }
    };
    try {
      const callers: Promise<void>[] = [];
      for (let i = 0; i < options.callers; i++) callers.push(caller(pools[i % 2]!));
      await Promise.race([
        Promise.all(callers),
        new Promise<never>((_, reject) => {
          stalled = reject;
        }),
      ]);
    } finally {
      clearInterval(stallCheck);
    }
    await quiesce();
  };

  /** Waits until no fault timer, creation or waiter is in flight, so the heap holds only steady state. */
  const quiesce = async (): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (faultTimers > 0 || pools.some((p) => p.creating > 0 || p.pending > 0)) {
      if (Date.now() > deadline) {
        violate('not quiet', `faultTimers=${faultTimers} creating=${pools.map((p) => p.creating)} pending=${pools.map((p) => p.pending)}`);
        break;
      }
      await sleep(5);
    }
    await sleep(HOOK_TIMEOUT_MS * 3); // abandoned hooks time out, their closures become garbage
  };

  /**
   * Waits until the full pool's rate gate has forgotten the busy phase. The gate keeps the start
   * time of every creation of the last second (thousands under load: boxed numbers, in a ring
   * that grows to fit) and drops the old ones only when the next creation passes it. Measured
   * right after the cycles, the heap holds however many creations the last second saw, a
   * matter of the machine's speed: it swung the figures by up to 60 KiB from run to run. While
   * quiet, the pool's recycling (minIdle 4, recycleMs 200) keeps creating, so one creation after
   * a full window leaves the gate with the quiet second's few starts, the same every time.
   */
  const forgetRateWindow = async (): Promise<void> => {
    await sleep(RATE_WINDOW_MS + 10);
    const calls = fullFactoryCalls;
    const deadline = Date.now() + 5_000;
    while (fullFactoryCalls === calls && Date.now() < deadline) await sleep(5);
  };

  const settledHeap = async (): Promise<number> => {
    let least = Infinity;
    for (let i = 0; i < 8; i++) {
      await sleep(2); // a fresh macrotask: WeakRef targets kept for the current job are released
      options.gc();
      least = Math.min(least, process.memoryUsage().heapUsed);
    }
    return least;
  };

  const t0 = performance.now();
  await phase(options.warmupCycles);
  await forgetRateWindow();
  const before = await settledHeap();
  const firstHalf = Math.floor(options.cycles / 2);
  await phase(firstHalf);
  await forgetRateWindow();
  const middle = await settledHeap();
  await phase(options.cycles - firstHalf);
  for (const pool of pools) checkInvariants(pool);
  await forgetRateWindow();
  const after = await settledHeap();
  await Promise.all(pools.map((p) => p.dispose()));
  await quiesce();
  const afterDispose = await settledHeap();
  const elapsedMs = performance.now() - t0;

  for (const pool of pools) {
    if (pool.size !== 0) violate('size after dispose', `${pool.size}`);
  }
  for (const [pool, count] of alive) {
    if (count !== 0) violate('resources never closed', `${count} of pool ${pool}`);
  }
  if (releaserCalls !== produced) violate('releaser calls', `${releaserCalls} calls for ${produced} resources`);

  // The pools' own counters must agree with what the callers saw.
  const stats: Record<string, Record<string, number>> = {};
  const seen = { ok: 0, timedOut: 0, aborted: 0, queueFull: 0, unavailable: 0, createFailed: 0 };
  seen.ok = outcomes.ok ?? 0;
  seen.timedOut = outcomes.ERR_ACQUIRE_TIMEOUT ?? 0;
  seen.aborted = outcomes.ABORT_ERR ?? 0;
  seen.queueFull = outcomes.ERR_POOL_QUEUE_FULL ?? 0;
  seen.unavailable = outcomes.ERR_POOL_UNAVAILABLE ?? 0;
  seen.createFailed = (outcomes.E_INJECTED ?? 0) + (outcomes.ERR_CREATE_TIMEOUT ?? 0);
  const total = { acquired: 0, timedOut: 0, aborted: 0, rejectedQueueFull: 0, rejectedUnavailable: 0, rejectedCreateFailed: 0 };
  for (const pool of pools) {
    const s = pool.stats();
    stats[s.name] = {
      acquired: s.acquired,
      released: s.released,
      created: s.created,
      createFailed: s.createFailed,
      timedOut: s.timedOut,
      aborted: s.aborted,
      rejectedQueueFull: s.rejectedQueueFull,
      rejectedUnavailable: s.rejectedUnavailable,
      rejectedCreateFailed: s.rejectedCreateFailed,
      validationFailed: s.validationFailed,
      destroyFailed: s.destroyFailed,
      destroyedTotal: s.destroyed.total,
    };
    for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += s[key];
  }
  const pairs: [string, number, number][] = [
    ['acquired', total.acquired, seen.ok],
    ['timedOut', total.timedOut, seen.timedOut],
    ['aborted', total.aborted, seen.aborted],
    ['rejectedQueueFull', total.rejectedQueueFull, seen.queueFull],
    ['rejectedUnavailable', total.rejectedUnavailable, seen.unavailable],
    ['rejectedCreateFailed', total.rejectedCreateFailed, seen.createFailed],
  ];
  for (const [name, counted, observed] of pairs) {
    if (counted !== observed) violate('stats disagree', `${name}: pools counted ${counted}, callers saw ${observed}`);
  }
  const attempts = Object.values(outcomes).reduce((a, b) => a + b, 0);
  if (attempts !== options.warmupCycles + options.cycles) {
    violate('cycles lost', `${attempts} outcomes for ${options.warmupCycles + options.cycles} cycles`);
  }

  return {
    seed: options.seed,
    callers: options.callers,
    warmupCycles: options.warmupCycles,
    cycles: options.cycles,
    elapsedMs,
    heap: { before, middle, after, growth: after - before, afterDispose },
    outcomes,
    faults,
    errorEvents,
    produced,
    releaserCalls,
    stats,
    violations,
  };
}

/**
 * The heap growth allowed for `cycles`: 5 MB per 10 million cycles, proportionally, which is half
 * a byte per cycle. A leak of one small object (an array of one element, 56 B) in every hundred
 * cycles exceeds it.
 */
export function allowedGrowth(cycles: number): number {
  return (5 * 1024 * 1024 * cycles) / 10_000_000;
}

/** A human-readable summary of a report. */
export function formatReport(report: SoakReport): string {
  const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
  const lines = [
    `soak: ${report.cycles.toLocaleString('en')} cycles (+${report.warmupCycles.toLocaleString('en')} warm-up), ` +
      `${report.callers} callers, seed ${report.seed}, ${(report.elapsedMs / 1000).toFixed(1)} s`,
    `heap (after GC): before ${kb(report.heap.before)}, after ${kb(report.heap.after)}, ` +
      `growth ${kb(report.heap.growth)} (allowed ${kb(allowedGrowth(report.cycles))}; ` +
      `first half ${kb(report.heap.middle - report.heap.before)}, second half ${kb(report.heap.after - report.heap.middle)}), ` +
      `after dispose ${kb(report.heap.afterDispose)}`,
    `outcomes: ${JSON.stringify(report.outcomes)}`,
    `faults: ${JSON.stringify(report.faults)}`,
    `error events: ${JSON.stringify(report.errorEvents)}`,
    `resources: ${report.produced} produced, ${report.releaserCalls} releaser calls`,
    `stats: ${JSON.stringify(report.stats)}`,
    report.violations.length === 0 ? 'violations: none' : `violations:\n  ${report.violations.join('\n  ')}`,
  ];
  return lines.join('\n');
}
