/**
 * Scenario 5: a cold pool whose factory takes 1 ms; 200 tasks each hold a resource for one
 * event-loop turn (as if doing I/O with it) before releasing it. Measures throughput, creation
 * included, and how many resources the pool created for it (at most `max`).
 */
import type { Contender, PoolUnderTest } from '../contenders.js';
import { concurrently, now, perPool, sleep, thingFactory, type RunConfig, type Scenario, type Thing } from '../harness.js';
import { count } from '../report.js';

const MAX = 20;
const TASKS = 200;
const FACTORY_MS = 1;
/** Ops per pool per round, in {@link SLICES} interleaved slices, each from a cold pool. */
const opsFor = (config: RunConfig): number => (config.quick ? 10_000 : 40_000);
const SLICES = 5;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function holdingTask(pool: PoolUnderTest<Thing>, work: { left: number }, turn: () => Promise<void>): Promise<void> {
  while (work.left > 0) {
    work.left--;
    const resource = await pool.acquire();
    await turn();
    pool.release(resource);
  }
}
const taskFor = perPool(holdingTask);

async function run(contender: Contender, ops: number): Promise<{ opsPerSec: number; created: number }> {
  const task = taskFor(contender.name);
  const things = thingFactory();
  const pool = contender.make({ max: MAX, create: () => sleep(FACTORY_MS).then(things) });
  const work = { left: ops };
  const started = now();
  await concurrently(TASKS, () => task(pool, work, turn));
  const opsPerSec = ops / ((now() - started) / 1000);
  const created = pool.created();
  await pool.close();
  return { opsPerSec, created };
}

export const slowFactory: Scenario = {
  id: '5',
  title: (config) => `slow factory (${FACTORY_MS} ms), max ${MAX}, ${TASKS} tasks, ${count(opsFor(config))} ops per round, from cold`,
  summary:
    'A cold pool whose factory takes 1 ms; 200 tasks each hold a resource for one event-loop turn (as if doing I/O with it). Throughput, creation included, and resources created (at most max).',
  slices: SLICES,
  metrics: [
    { key: 'opsPerSec', label: 'acquire → release per second', unit: 'ops/s', chart: '5. slow factory' },
    { key: 'created', label: 'resources created', unit: 'count' },
  ],
  warmUp: (contender) => run(contender, 40_000),
  measure: (contender, config) => run(contender, opsFor(config) / SLICES),
};
