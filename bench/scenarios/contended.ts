/**
 * Scenario 2: 1 000 tasks share 10 resources, each holding its resource over one `await` (of a
 * resolved promise, as in the neutral harness bench-peers). 990 tasks always wait, so every
 * acquire queues and every release hands its resource straight to the oldest waiter: the waiter
 * path.
 */
import type { Contender, PoolUnderTest } from '../contenders.js';
import { concurrently, now, perPool, thingFactory, WARM_UP_OPS, type RunConfig, type Scenario, type Thing } from '../harness.js';
import { count } from '../report.js';

const MAX = 10;
const TASKS = 1_000;
/** Ops per pool per round, in {@link SLICES} interleaved slices. */
const opsFor = (config: RunConfig): number => (config.quick ? 100_000 : 200_000);
const SLICES = 10;

const RESOLVED = Promise.resolve();

async function contendedTask(pool: PoolUnderTest<Thing>, work: { left: number }, hold: Promise<void>): Promise<void> {
  while (work.left > 0) {
    work.left--;
    const resource = await pool.acquire();
    await hold;
    pool.release(resource);
  }
}
const taskFor = perPool(contendedTask);

async function run(contender: Contender, ops: number): Promise<{ ns: number }> {
  const task = taskFor(contender.name);
  const pool = contender.make({ max: MAX, create: thingFactory() });
  // All ten resources exist before the clock starts.
  const warm = await Promise.all(Array.from({ length: MAX }, () => pool.acquire()));
  for (const resource of warm) pool.release(resource);
  const work = { left: ops };
  const started = now();
  await concurrently(TASKS, () => task(pool, work, RESOLVED));
  const ns = ((now() - started) * 1e6) / ops;
  await pool.close();
  return { ns };
}

export const contended: Scenario = {
  id: '2',
  title: (config) => `max ${MAX}, ${count(TASKS)} tasks, ${count(opsFor(config))} acquire → await → release per round`,
  summary:
    '1 000 tasks share 10 resources, each holding its resource over one `await`: every acquire queues and every release hands its resource straight to the oldest waiter (the waiter path).',
  slices: SLICES,
  metrics: [{ key: 'ns', label: 'ns per acquire → await → release', unit: 'ns', chart: '2. contended' }],
  warmUp: (contender) => run(contender, WARM_UP_OPS),
  measure: (contender, config) => run(contender, opsFor(config) / SLICES),
};
