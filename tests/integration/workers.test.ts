/**
 * AsyncPool with real worker threads (node:worker_threads), through the pool that
 * examples/workers.ts builds.
 */
import { AsyncPool, type PoolEvents } from '../../src/index.js';
import { createWorkerPool, JobTimeoutError, PooledWorker, PRIMES_BELOW, runJob } from '../../examples/workers.js';
import { outcome } from '../helpers.js';

const pools: AsyncPool<PooledWorker>[] = [];

function makePool(size: number): AsyncPool<PooledWorker> {
  const pool = createWorkerPool(size);
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.dispose({ timeoutMs: 1_000 })));
});

function nextCreate(pool: AsyncPool<PooledWorker>): Promise<PooledWorker> {
  return new Promise((resolve) => {
    const onCreate = ({ resource }: PoolEvents<PooledWorker>['create']): void => {
      pool.off('create', onCreate);
      resolve(resource);
    };
    pool.on('create', onCreate);
  });
}

test('prefill starts the workers before any job; jobs never run on more than maxSize threads', async () => {
  const pool = makePool(2);
  await pool.prefill();
  expect(pool.stats()).toMatchObject({ created: 2, idle: 2 });

  let peak = 0;
  const threads = new Set<number>();
  const jobs = Array.from({ length: 6 }, () =>
    pool.use(async (worker) => {
      threads.add(worker.worker.threadId);
      peak = Math.max(peak, pool.borrowed);
      return worker.run({ kind: 'countPrimes', below: 1_000_000 });
    }),
  );
  expect(await Promise.all(jobs)).toEqual(Array(6).fill(PRIMES_BELOW[1_000_000]));
  expect(threads.size).toBe(2);
  expect(peak).toBe(2);
  expect(pool.stats().created).toBe(2);
});

test('a runaway job times out: its worker is terminated, and a fresh one starts in the background', async () => {
  const pool = makePool(1);
  await pool.prefill();
  const spinning = await pool.acquire();
  pool.release(spinning);
  const replacement = nextCreate(pool);

  const result = await outcome(runJob(pool, { kind: 'spin' }, 100));
  expect(result.ok || result.error).toBeInstanceOf(JobTimeoutError);
  expect(result.ok || result.error.code).toBe('ERR_JOB_TIMEOUT');
  expect(spinning.exited).toBe(true);
  expect(pool.stats().destroyed.destroyed).toBe(1);

  const fresh = await replacement;
  expect(fresh).not.toBe(spinning);
  expect(await runJob(pool, { kind: 'countPrimes', below: 1_000_000 })).toBe(PRIMES_BELOW[1_000_000]);
});

test('a worker whose job timed out is closed on release too: it is still busy with that job', async () => {
  const pool = makePool(1);
  const worker = await pool.acquire();
  const result = await outcome(worker.run({ kind: 'spin' }, 50));
  expect(result.ok || result.error.code).toBe('ERR_JOB_TIMEOUT');
  expect(worker.alive).toBe(false);
  pool.release(worker); // instead of destroy(): reset refuses it
  expect(pool.stats().destroyed.invalid).toBe(1);
  await pool.dispose();
  expect(worker.exited).toBe(true);
});

test('a job that crashes its worker rejects; released anyway, the dead worker is closed by reset, not kept', async () => {
  const pool = makePool(1);
  const errors: PoolEvents<PooledWorker>['error'][] = [];
  pool.on('error', (event) => errors.push(event));
  const worker = await pool.acquire();
  const crashed = await outcome(worker.run({ kind: 'crash' }));
  expect(crashed.ok).toBe(false);
  expect(worker.alive).toBe(false);

  const replacement = nextCreate(pool);
  pool.release(worker); // a careless caller: reset notices the dead worker
  expect(pool.stats().destroyed.invalid).toBe(1);
  expect(errors.map((event) => event.operation)).toEqual(['reset']);
  await replacement;
  expect(await runJob(pool, { kind: 'countPrimes', below: 2_000_000 })).toBe(PRIMES_BELOW[2_000_000]);
});

test('a worker that exited while idle is not handed out (validate)', async () => {
  const pool = makePool(1);
  await pool.prefill();
  const worker = await pool.acquire();
  pool.release(worker);
  await worker.worker.terminate(); // dies behind the pool's back
  expect(worker.alive).toBe(false);

  const next = await pool.acquire();
  expect(next).not.toBe(worker);
  expect(next.alive).toBe(true);
  expect(pool.stats().validationFailed).toBe(1);
  pool.release(next);
});

test('dispose() terminates idle workers, and a busy one once its timeout passes', async () => {
  const pool = makePool(2);
  await pool.prefill();
  const busy = await pool.acquire();
  const idle = await pool.acquire();
  pool.release(idle);
  const job = outcome(busy.run({ kind: 'spin' }));

  await pool.dispose({ timeoutMs: 100 });
  expect(idle.exited).toBe(true);
  expect(busy.exited).toBe(true);
  // The job in flight fails: its thread is gone.
  expect((await job).ok).toBe(false);
  expect(pool.stats().destroyed.disposed).toBe(2);
  // Releasing after dispose() closed it anyway is a no-op.
  expect(() => pool.release(busy)).not.toThrow();
});
