/**
 * Scenario 1: one task acquires and releases in a loop. Nothing ever waits, so this is the
 * pool's fast path: its cost per acquire → release, the `await` included.
 */
import type { Contender, PoolUnderTest } from '../contenders.js';
import { now, perPool, thingFactory, WARM_UP_OPS, type RunConfig, type Scenario, type Thing } from '../harness.js';
import { count } from '../report.js';

/** Ops per pool per round, in {@link SLICES} interleaved slices. */
const opsFor = (config: RunConfig): number => (config.quick ? 100_000 : 200_000);
const SLICES = 10;

async function sequentialLoop(pool: PoolUnderTest<Thing>, ops: number): Promise<void> {
  for (let i = 0; i < ops; i++) {
    const resource = await pool.acquire();
    pool.release(resource);
  }
}
const loopFor = perPool(sequentialLoop);

async function run(contender: Contender, ops: number): Promise<{ ns: number }> {
  const loop = loopFor(contender.name);
  const pool = contender.make({ max: 10, create: thingFactory() });
  pool.release(await pool.acquire()); // the resource exists before the clock starts
  const started = now();
  await loop(pool, ops);
  const ns = ((now() - started) * 1e6) / ops;
  await pool.close();
  return { ns };
}

export const sequential: Scenario = {
  id: '1',
  title: (config) => `one task, ${count(opsFor(config))} sequential acquire → release per round`,
  summary: 'One task acquires and releases in a loop on a warm pool: the fast path, nothing ever waits.',
  slices: SLICES,
  metrics: [{ key: 'ns', label: 'ns per acquire → release', unit: 'ns', chart: '1. sequential' }],
  warmUp: (contender) => run(contender, WARM_UP_OPS),
  measure: (contender, config) => run(contender, opsFor(config) / SLICES),
};
