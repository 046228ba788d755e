/**
 * Scenario 3: one resource, then N acquires at once; the holder releases and each waiter in
 * turn takes the resource and releases it. The cost per op of the enqueue and of the drain, for a
 * small and a 10× larger burst, shows whether the waiter queue is O(1) (the enqueue's once V8's
 * GC pauses are taken out, see {@link GcPauses}); the heap grown while the large burst waits shows
 * what one waiting acquire costs in memory.
 */
import type { Contender, PoolUnderTest } from '../contenders.js';
import { collectGarbage, fullGc, GcPauses, memoryInUse, now, perPool, promoteSurvivors, thingFactory, type RunConfig, type Scenario, type Thing } from '../harness.js';

/**
 * 10k and 100k waiters; 2k and 20k with --quick, as a pool with an O(n) queue (tarn) takes
 * seconds per 100k burst.
 */
const sizesFor = (config: RunConfig): { small: number; large: number } =>
  config.quick ? { small: 2_000, large: 20_000 } : { small: 10_000, large: 100_000 };
const k = (n: number): string => `${n / 1000}k`;

/**
 * Queues `n` acquires, as `n` callers awaiting the pool would; each releases what it gets.
 * `served` is called after the last one.
 */
function queue(pool: PoolUnderTest<Thing>, n: number, served: () => void): void {
  let left = n;
  const onAcquired = (resource: Thing): void => {
    pool.release(resource);
    if (--left === 0) served();
  };
  for (let i = 0; i < n; i++) void pool.acquire().then(onAcquired);
}
const queueFor = perPool(queue);
const gcPauses = new GcPauses();

interface Timing {
  /** ns per acquire() (with its `then`) while the burst queues up. */
  readonly enqueue: number;
  /** The same, less the garbage-collection pauses that started meanwhile. */
  readonly enqueueNet: number;
  /** ns per hand-over (a release to the oldest waiter, which takes it and releases it) while it drains. */
  readonly drain: number;
}

/**
 * Times one burst of `n` waiters. The waiters are promoted to the old generation between
 * enqueue and drain (untimed), as they would be after waiting a while: otherwise the drain's
 * scavenges would copy every live waiter, a cost of the heap's size, not of the queue.
 */
async function timeBurst(contender: Contender, n: number): Promise<Timing> {
  gcPauses.clear();
  const pool = contender.make({ max: 1, create: thingFactory() });
  const held = await pool.acquire();
  let served!: () => void;
  const drained = new Promise<void>((resolve) => (served = resolve));
  collectGarbage();
  const t0 = now();
  queueFor(contender.name)(pool, n, served);
  const t1 = now();
  promoteSurvivors();
  const t2 = now();
  pool.release(held);
  await drained;
  const t3 = now();
  await pool.close();
  const enqueue = ((t1 - t0) * 1e6) / n;
  // promoteSurvivors() collected garbage after t1: once its pause is posted, all of the enqueue's are.
  const enqueueNet = (await gcPauses.postedUpTo(t1)) ? enqueue - (gcPauses.within(t0, t1) * 1e6) / n : NaN;
  return { enqueue, enqueueNet, drain: ((t3 - t2) * 1e6) / n };
}

/** Runs `measure` `times` times, or fewer once `budgetMs` has passed (at least once). */
async function repeat<R>(measure: () => Promise<R>, times: number, budgetMs: number): Promise<R[]> {
  const results: R[] = [];
  const started = now();
  while (results.length < times && (results.length === 0 || now() - started < budgetMs)) results.push(await measure());
  return results;
}

export const burstScenario: Scenario = {
  id: '3',
  title: (config) => `max 1, ${k(sizesFor(config).small)} then ${k(sizesFor(config).large)} waiters at once, drained`,
  summary:
    'One held resource, then N acquires at once, each awaited with a `then` (enqueue: the cost per acquire() while they queue up); the holder releases and each waiter in turn takes the resource and releases it (drain: the cost per hand-over). ' +
    'Both at N and 10 × N waiters show whether the waiter queue is O(1) (tarn shifts an array). ' +
    'The enqueue is also shown without the garbage-collection pauses that started during it: 10 × N waiting promises outgrow the young generation, and copying them out costs more per acquire than any pool\'s own work, the floor\'s included. ' +
    'The waiters are moved to the old generation (untimed) before the drain, as they would be after waiting a while.',
  metrics: (config) => {
    const { small, large } = sizesFor(config);
    return [
      { key: 'enqSmall', label: `ns per acquire() queueing ${k(small)} waiters`, unit: 'ns' },
      { key: 'enqLarge', label: `ns per acquire() queueing ${k(large)} waiters`, unit: 'ns', chart: `3. enqueue ${k(large)}` },
      { key: 'enqGrowth', label: `enqueue growth ${k(large)} ÷ ${k(small)} (per round)`, unit: '×' },
      { key: 'enqNetSmall', label: `ns per acquire() queueing ${k(small)} waiters, GC pauses excluded`, unit: 'ns' },
      { key: 'enqNetLarge', label: `ns per acquire() queueing ${k(large)} waiters, GC pauses excluded`, unit: 'ns' },
      { key: 'enqNetGrowth', label: `enqueue growth ${k(large)} ÷ ${k(small)}, GC pauses excluded (per round)`, unit: '×' },
      { key: 'nsSmall', label: `ns per hand-over draining ${k(small)} waiters`, unit: 'ns', chart: `3. drain ${k(small)}` },
      { key: 'nsLarge', label: `ns per hand-over draining ${k(large)} waiters`, unit: 'ns', chart: `3. drain ${k(large)}` },
      { key: 'growth', label: `drain growth ${k(large)} ÷ ${k(small)} (per round)`, unit: '×' },
    ];
  },
  async warmUp(contender, config) {
    for (let i = 0; i < 10; i++) await timeBurst(contender, sizesFor(config).small);
  },
  async measure(contender, config) {
    const { small, large } = sizesFor(config);
    // The fastest of several bursts: a burst lasts tens of ms, and on a shared machine another
    // process can stall any one of them. The work itself is the same each time.
    const smallBursts = await repeat(() => timeBurst(contender, small), large / small, Infinity);
    const largeBursts = await repeat(() => timeBurst(contender, large), 5, 1_000); // tarn: one
    const nsSmall = Math.min(...smallBursts.map((b) => b.drain));
    const nsLarge = Math.min(...largeBursts.map((b) => b.drain));
    const enqSmall = Math.min(...smallBursts.map((b) => b.enqueue));
    const enqLarge = Math.min(...largeBursts.map((b) => b.enqueue));
    const enqNetSmall = Math.min(...smallBursts.map((b) => b.enqueueNet));
    const enqNetLarge = Math.min(...largeBursts.map((b) => b.enqueueNet));
    return {
      enqSmall,
      enqLarge,
      enqGrowth: enqLarge / enqSmall,
      enqNetSmall,
      enqNetLarge,
      enqNetGrowth: enqNetLarge / enqNetSmall,
      nsSmall,
      nsLarge,
      growth: nsLarge / nsSmall,
    };
  },
};

/**
 * Memory grown per waiting acquire while `n` wait, in bytes: what the pool keeps per waiter plus
 * the promise acquire() returned and the caller's `then` on it (the reaction and its promise),
 * as a caller awaiting it would have and as the neutral harness (bench-peers) counts it, plus
 * typed-array backing stores, which that harness leaves out (see {@link memoryInUse}). A pass
 * of its own, untimed: the forced GCs it needs for exact numbers also drop optimized code.
 */
async function heapPerWaiter(contender: Contender, n: number): Promise<number> {
  const pool = contender.make({ max: 1, create: thingFactory() });
  const held = await pool.acquire();
  let left = n;
  let served!: () => void;
  const drained = new Promise<void>((resolve) => (served = resolve));
  const onAcquired = (resource: Thing): void => {
    pool.release(resource);
    if (--left === 0) served();
  };
  fullGc();
  fullGc();
  const before = memoryInUse();
  for (let i = 0; i < n; i++) void pool.acquire().then(onAcquired);
  fullGc();
  fullGc();
  const bytes = (memoryInUse() - before) / n;
  pool.release(held);
  await drained;
  await pool.close();
  return bytes;
}

/**
 * Scenario 3, memory: a scenario of its own, run after the timings, because the forced GCs that
 * exact heap numbers need also drop optimized code. The number does not vary between rounds.
 */
export const burstMemory: Scenario = {
  id: '3',
  title: (config) => `max 1, ${k(sizesFor(config).large)} waiters waiting`,
  summary:
    'The heap grown while 10 × N acquires wait (forced GCs before and after queueing them): what one waiting acquire costs in memory, the promise it returned and the caller\'s `then` on it included.',
  metrics: [{ key: 'bytes', label: 'memory per waiting acquire (heap + typed arrays)', unit: 'B' }],
  rounds: 1,
  warmUp: async () => undefined,
  measure: async (contender, config) => ({ bytes: await heapPerWaiter(contender, sizesFor(config).large) }),
};
