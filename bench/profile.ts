/**
 * Runs one pool's hot loop alone, long enough to profile:
 *
 *   npm run build:tools
 *   node --cpu-prof --cpu-prof-dir=.bench-tmp .build/bench/profile.js poolkeeper 2
 *   node --trace-deopt .build/bench/profile.js poolkeeper 1 | grep -i deopt
 *
 * Arguments: pool (floor, poolkeeper, generic-pool, tarn, lightning-pool), scenario (1:
 * sequential, 2: 1 000 tasks on 10 resources, each held over one `await`, 3: bursts of 100k
 * waiters on one resource, queued then drained), ops (default 2 000 000).
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
  const hold = Promise.resolve();
  await concurrently(1_000, async () => {
    while (work.left > 0) {
      work.left--;
      const resource = await pool.acquire();
      await hold;
      pool.release(resource);
    }
  });
}

const BURST = 100_000;

async function bursts(pool: PoolUnderTest<Thing>, ops: number): Promise<void> {
  for (let done = 0; done < ops; done += BURST) {
    const held = await pool.acquire();
    let left = BURST;
    await new Promise<void>((served) => {
      const onAcquired = (resource: Thing): void => {
        pool.release(resource);
        if (--left === 0) served();
      };
      for (let i = 0; i < BURST; i++) void pool.acquire().then(onAcquired);
      pool.release(held);
    });
  }
}

const runners: Record<string, (pool: PoolUnderTest<Thing>, ops: number) => Promise<void>> = { '1': sequential, '2': contended, '3': bursts };

const [name = 'poolkeeper', scenario = '1', opsArg = '2000000'] = process.argv.slice(2);
const contender = contenders.find((c) => c.name === name);
if (contender === undefined) throw new Error(`unknown pool ${name}; one of ${contenders.map((c) => c.name).join(', ')}`);
const ops = Number(opsArg);
const run = runners[scenario];
if (run === undefined) throw new Error(`unknown scenario ${scenario}; one of ${Object.keys(runners).join(', ')}`);
const pool = contender.make({ max: scenario === '2' ? 10 : 1, create: thingFactory() });
const started = now();
await run(pool, ops);
console.log(`${name}, scenario ${scenario}: ${(((now() - started) * 1e6) / ops).toFixed(0)} ns per op over ${ops} ops`);
await pool.close();
