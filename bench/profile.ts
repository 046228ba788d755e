/**
 * Runs one pool's hot loop alone, long enough to profile:
 *
 *   npm run build:tools
 *   node --cpu-prof --cpu-prof-dir=.bench-tmp .build/bench/profile.js poolkeeper 2
 *   node --trace-deopt .build/bench/profile.js poolkeeper 1 | grep -i deopt
 *
 * Arguments: pool (floor, poolkeeper, generic-pool, tarn), scenario (1: sequential, 2: 1 000
 * tasks on 10 resources), ops (default 2 000 000).
 */
import { contenders } from './contenders.js';
import { concurrently, now, thingFactory, type Thing } from './harness.js';
import type { PoolUnderTest } from './contenders.js';

async function sequential(pool: PoolUnderTest<Thing>, ops: number): Promise<void> {
  for (let i = 0; i < ops; i++) {
    const resource = await pool.acquire();
    pool.release(resource);
  }
}

async function contended(pool: PoolUnderTest<Thing>, ops: number): Promise<void> {
  const work = { left: ops };
  await concurrently(1_000, async () => {
    while (work.left > 0) {
      work.left--;
      const resource = await pool.acquire();
      pool.release(resource);
    }
  });
}

const [name = 'poolkeeper', scenario = '1', opsArg = '2000000'] = process.argv.slice(2);
const contender = contenders.find((c) => c.name === name);
if (contender === undefined) throw new Error(`unknown pool ${name}; one of ${contenders.map((c) => c.name).join(', ')}`);
const ops = Number(opsArg);
const pool = contender.make({ max: scenario === '1' ? 1 : 10, create: thingFactory() });
const started = now();
await (scenario === '1' ? sequential : contended)(pool, ops);
console.log(`${name}, scenario ${scenario}: ${(((now() - started) * 1e6) / ops).toFixed(0)} ns per op over ${ops} ops`);
await pool.close();
