/**
 * The shared harness: every scenario is measured for every pool in each round, in balanced
 * orders, in one process; a pool's numbers are compared with the floor's measured moments
 * before or after (so a noisy neighbour slows both), and the medians over rounds are reported.
 */
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { contenders, FLOOR, type Contender } from './contenders.js';

export interface RunConfig {
  readonly quick: boolean;
  readonly rounds: number;
  /** Pools to measure (the floor always is); all when undefined. */
  readonly pools: readonly string[] | undefined;
}

export type Unit = 'ns' | 'B' | 'ops/s' | 'count' | 'ms' | '×';

export interface MetricSpec {
  readonly key: string;
  readonly label: string;
  readonly unit: Unit;
  /** Plotted in the ns/op chart under this label. `ops/s` metrics are plotted as 1e9 / value. */
  readonly chart?: string;
}

export interface Scenario {
  readonly id: string;
  readonly title: (config: RunConfig) => string;
  /** What it does and what it shows, for docs/benchmarks.md. */
  readonly summary: string;
  /** What `measure` returns, by key; a function when labels depend on the run's size. */
  readonly metrics: readonly MetricSpec[] | ((config: RunConfig) => readonly MetricSpec[]);
  /** Pools the scenario does not apply to. */
  readonly skip?: readonly string[];
  /**
   * Each round is cut into this many slices, every pool running one slice in turn, and a round's
   * value is the median over its slices. On a shared machine, load comes and goes within a
   * round: fine interleaving spreads it over all pools alike, and the median drops a slice that
   * another process stalled. `measure` runs one slice.
   * @defaultValue 1
   */
  readonly slices?: number;
  /** Overrides the run's number of rounds, for a measurement that does not vary. */
  readonly rounds?: number;
  setup?(): Promise<void>;
  /** Runs before the first round, results discarded, so the JIT settles first; defaults to `measure`. */
  warmUp?(contender: Contender, config: RunConfig): Promise<unknown>;
  teardown?(): Promise<void>;
  /** One measurement (one slice) of one pool; a key missing from the result is shown as "—". */
  measure(contender: Contender, config: RunConfig): Promise<Record<string, number>>;
}

/** samples[metric][pool] = one value per round, in round order. */
export type Samples = Record<string, Record<string, number[]>>;

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly title: string;
  readonly metrics: readonly MetricSpec[];
  /** Each pool's value per round (the median slice). */
  readonly samples: Samples;
  /**
   * Each pool's value divided by the floor's, per round: the median over the round's slices of
   * the ratio within a slice, where the two were measured moments apart.
   */
  readonly ratios: Samples;
}

type GcFunction = (options?: { type: 'minor' }) => void;
const v8Gc = (globalThis as { gc?: GcFunction }).gc;

function gcFunction(): GcFunction {
  if (v8Gc === undefined) throw new Error('run with node --expose-gc (npm run bench does)');
  return v8Gc;
}

/**
 * A minor collection (scavenge) between measurements, so one pool's short-lived garbage is not
 * collected on the next pool's clock. Not a full `gc()`: optimized code that refers to objects
 * a full collection frees (the previous pool, its factory) is thrown away, and what ran next
 * would be timed in the interpreter, up to 10× slower.
 */
export function collectGarbage(): void {
  gcFunction()({ type: 'minor' });
}

/** Moves what is alive to the old generation: V8 promotes what survived one scavenge before. */
export function promoteSurvivors(): void {
  collectGarbage();
  collectGarbage();
}

/**
 * The full collection (`gc()`), for heap measurements: it leaves nothing collectable behind.
 * Code must be warmed up again before it is timed (see {@link collectGarbage}).
 */
export function fullGc(): void {
  gcFunction()();
}

/**
 * Memory in use: the V8 heap, plus the backing stores of typed arrays, which live outside it (the
 * pool's waiter queue keeps clock readings and arrival numbers in `Float64Array`s). The neutral
 * harness counts `heapUsed` alone, so for poolkeeper it reports about 20 B less per waiter.
 */
export function memoryInUse(): number {
  const memory = process.memoryUsage();
  return memory.heapUsed + memory.arrayBuffers;
}

export const now = (): number => performance.now();

/**
 * V8's garbage-collection pauses, as Node reports them (`gc` performance entries). A burst of
 * 100k waiting acquires keeps 100k promises alive: the scavenges that copy them to the old
 * generation take more time than the pool's own work, for any pool (the floor included), so a
 * growth in cost per acquire shows an O(n) queue only once they are taken out.
 */
export class GcPauses {
  readonly #entries: PerformanceEntry[] = [];
  readonly #observer = new PerformanceObserver((list) => {
    this.#entries.push(...list.getEntries());
  });

  constructor() {
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /**
   * Waits until the pauses that started before the clock reading `at` have all been posted, which
   * Node does a few turns of the event loop later: the caller must have collected garbage after
   * `at` (its entry comes after theirs). False if none came within 100 turns.
   */
  async postedUpTo(at: number): Promise<boolean> {
    for (let turn = 0; turn < 100; turn++) {
      if (this.#entries.some((entry) => entry.startTime >= at)) return true;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return false;
  }

  /** Milliseconds of pauses that started between the clock readings `from` and `to` (see {@link postedUpTo}). */
  within(from: number, to: number): number {
    let ms = 0;
    for (const entry of this.#entries) if (entry.startTime >= from && entry.startTime < to) ms += entry.duration;
    return ms;
  }

  /** Forgets the pauses seen so far. */
  clear(): void {
    this.#entries.length = 0;
  }
}

/**
 * Ops a hot loop runs before anything counts. V8 optimizes a function only after it has run
 * hot for a while: a pool measured over its first 10k ops would be measured in the interpreter
 * (10× slower for the floor).
 */
export const WARM_UP_OPS = 100_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median over rounds of `pool`'s ratio to the floor (see {@link ScenarioResult.ratios}). */
export function medianRatio(result: ScenarioResult, metric: string, pool: string): number {
  return median(result.ratios[metric]?.[pool] ?? []);
}

export function medianOf(samples: Samples, metric: string, pool: string): number {
  return median(samples[metric]?.[pool] ?? []);
}

/**
 * Gives each pool its own copy of a hot loop, compiled from the loop's source. V8 keeps type
 * feedback per function, so one loop shared by all pools would see four classes at
 * `pool.acquire()`, turn megamorphic and stop inlining: a tax of tens of ns that hits the fastest
 * pools hardest (the floor's whole cost is ~70 ns). A real program has one pool class at such a
 * call site. `fn` must use only its parameters and globals.
 */
export function perPool<F extends (...args: never[]) => unknown>(fn: F): (pool: string) => F {
  const copies = new Map<string, F>();
  return (pool) => {
    let copy = copies.get(pool);
    if (copy === undefined) {
      copy = new Function(`return (${fn.toString()});`)() as F;
      copies.set(pool, copy);
    }
    return copy;
  };
}

/**
 * Orders in which to measure `n` pools: the rows of a Williams design (a Latin square, doubled
 * when `n` is odd), in which every pool comes first equally often and follows every other pool
 * equally often. A pool can leave work behind for the next (garbage to collect, sockets closing
 * in the echo server); a plain rotation would have some pools follow the same neighbour more.
 */
export function balancedOrders(n: number): number[][] {
  const first: number[] = [];
  for (let i = 0; first.length < n; i++) {
    first.push(i % 2 === 0 ? i / 2 : n - (i + 1) / 2); // 0, n-1, 1, n-2, 2, …
  }
  const rows = Array.from({ length: n }, (_, shift) => first.map((pool) => (pool + shift) % n));
  return n % 2 === 0 ? rows : [...rows, ...rows.map((row) => [...row].reverse())];
}

/** Runs `scenario` for `rounds` rounds; each round measures every pool once per slice, in balanced orders. */
export async function runScenario(scenario: Scenario, config: RunConfig, log: (line: string) => void): Promise<ScenarioResult> {
  const pools = contenders.filter((c) => (config.pools?.includes(c.name) ?? true) && !scenario.skip?.includes(c.name));
  const metrics = typeof scenario.metrics === 'function' ? scenario.metrics(config) : scenario.metrics;
  const samples: Samples = {};
  const ratios: Samples = {};
  for (const metric of metrics) {
    samples[metric.key] = Object.fromEntries(pools.map((c) => [c.name, [] as number[]]));
    ratios[metric.key] = Object.fromEntries(pools.map((c) => [c.name, [] as number[]]));
  }
  // Pools unref() their timers: with waiters parked on those alone, Node would exit mid-run.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await scenario.setup?.();
  try {
    // Warm-up round, discarded: lets the JIT settle on each pool before anything counts.
    for (const contender of pools) await (scenario.warmUp ?? scenario.measure)(contender, config);
    const slices = scenario.slices ?? 1;
    const rounds = scenario.rounds ?? config.rounds;
    const orders = balancedOrders(pools.length);
    for (let round = 0; round < rounds; round++) {
      const started = now();
      const bySlice = new Map<string, Record<string, number>[]>(pools.map((c) => [c.name, []]));
      for (let slice = 0; slice < slices; slice++) {
        for (const index of orders[(round * slices + slice) % orders.length]!) {
          const contender = pools[index]!;
          collectGarbage();
          await sleep(1); // let timers and I/O callbacks of the previous pool run out
          bySlice.get(contender.name)!.push(await scenario.measure(contender, config));
        }
      }
      const floor = bySlice.get(FLOOR);
      for (const contender of pools) {
        const results = bySlice.get(contender.name)!;
        for (const metric of metrics) {
          const value = (slice: number, pool = results): number => pool[slice]?.[metric.key] ?? NaN;
          samples[metric.key]![contender.name]!.push(median(results.map((_, slice) => value(slice))));
          const sliceRatios = results.map((_, slice) => (floor === undefined ? NaN : value(slice) / value(slice, floor)));
          ratios[metric.key]![contender.name]!.push(median(sliceRatios));
        }
      }
      log(`  scenario ${scenario.id}, round ${round + 1}/${rounds}: ${((now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    clearInterval(keepAlive);
    await scenario.teardown?.();
  }
  return { scenario, title: scenario.title(config), metrics, samples, ratios };
}

/** Runs `tasks` concurrent copies of `task` and resolves when all are done. */
export function concurrently(tasks: number, task: () => Promise<void>): Promise<void> {
  const running: Promise<void>[] = [];
  for (let i = 0; i < tasks; i++) running.push(task());
  return Promise.all(running).then(() => undefined);
}

/** A plain resource: the scenarios measure the pool, not the resource. */
export interface Thing {
  readonly id: number;
}

export function thingFactory(): () => Thing {
  let id = 0;
  return () => ({ id: ++id });
}
