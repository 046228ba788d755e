/**
 * A pool of pre-warmed worker threads (node:worker_threads) for CPU-heavy jobs.
 *
 *     npm run example -- workers
 *
 * Starting a worker costs a new V8 isolate (tens of milliseconds); a pool starts them once
 * (`prefill`), runs one job at a time on each, and keeps the main thread free. A job that runs
 * away is stopped with `pool.destroy(worker)`, which terminates the thread; the pool starts a
 * fresh one for the next job. `dispose()` terminates every worker, so the process exits by itself.
 *
 * The worker's code is inline (`new Worker(source, { eval: true })`) rather than in a file of its
 * own: the same example then runs unchanged when compiled to `.build/` and when imported by the
 * tests through ts-jest, which cannot start a `.ts` file as a worker. In an application, a
 * separate file is just as good: `new Worker(new URL('./job.js', import.meta.url))`.
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AsyncPool } from 'poolkeeper';

/** A job for a worker. */
export type Job =
  /** Count the primes below `below` (CPU-bound, deterministic). */
  | { readonly kind: 'countPrimes'; readonly below: number }
  /** Never returns: stands for a runaway job. */
  | { readonly kind: 'spin' }
  /** Throws inside the worker, uncaught: the thread dies. */
  | { readonly kind: 'crash' };

/** The worker's side, run in its own thread. Plain JavaScript (CommonJS): see the header. */
export const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');

function countPrimes(below) {
  if (below <= 2) return 0;
  const composite = new Uint8Array(below);
  let count = 0;
  for (let i = 2; i < below; i++) {
    if (composite[i]) continue;
    count++;
    for (let j = i * i; j < below; j += i) composite[j] = 1;
  }
  return count;
}

parentPort.on('message', ({ id, job }) => {
  switch (job.kind) {
    case 'countPrimes':
      parentPort.postMessage({ id, result: countPrimes(job.below) });
      break;
    case 'spin':
      for (;;) {}
    case 'crash':
      setImmediate(() => { throw new Error('the job crashed its worker'); });
      break;
  }
});
parentPort.postMessage({ ready: true });
`;

/** Thrown by {@link PooledWorker.run} when a job outlives its time limit. */
export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
  readonly code = 'ERR_JOB_TIMEOUT';
}

interface Reply {
  readonly id?: number;
  readonly result?: number;
  readonly ready?: boolean;
}

/** One worker thread running one job at a time. */
export class PooledWorker {
  readonly worker: Worker;
  #nextId = 0;
  #pending: { id: number; resolve(result: number): void; reject(error: Error): void } | undefined;
  /** Why the worker can take no more jobs: it died, exited, or is stuck in a job that timed out. */
  #unusable: Error | undefined;
  #exited = false;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (reply: Reply) => {
      const pending = this.#pending;
      if (pending === undefined || reply.id !== pending.id) return;
      this.#pending = undefined;
      pending.resolve(reply.result!);
    });
    // An uncaught exception in the worker ends its thread: fail the job in flight.
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => {
      this.#exited = true;
      this.#fail(new Error(`worker exited with code ${code}`));
    });
  }

  /** Starts a worker and resolves once it has loaded its code and is ready for jobs. */
  static start(): Promise<PooledWorker> {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      const onExit = (code: number): void => reject(new Error(`worker exited with code ${code} while starting`));
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', () => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(new PooledWorker(worker));
      });
    });
  }

  /** False once the thread has died or exited, or is stuck in a job that timed out. A local check, no message round trip. */
  get alive(): boolean {
    return this.#unusable === undefined;
  }

  /** True once the thread has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Runs one job. Rejects with {@link JobTimeoutError} after `timeoutMs`: the thread is still busy
   * with the job then, so the worker takes no more jobs (`alive` is false) and should be destroyed.
   */
  run(job: Job, timeoutMs = Infinity): Promise<number> {
    if (this.#unusable !== undefined) return Promise.reject(this.#unusable);
    if (this.#pending !== undefined) return Promise.reject(new Error('a job is already running on this worker'));
    const id = ++this.#nextId;
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        if (timer !== undefined) clearTimeout(timer);
      };
      this.#pending = {
        id,
        resolve: (result) => (settle(), resolve(result)),
        reject: (error) => (settle(), reject(error)),
      };
      if (timeoutMs !== Infinity) {
        timer = setTimeout(() => this.#fail(new JobTimeoutError(`the job did not finish within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
      }
      this.worker.postMessage({ id, job });
    });
  }

  /** Stops the thread (also in the middle of a job) and resolves once it has exited. */
  async terminate(): Promise<void> {
    await this.worker.terminate(); // resolves at once if the thread has already exited
  }

  #fail(error: Error): void {
    this.#unusable ??= error;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }
}

/**
 * A pool of `size` workers. `validate` (a local check) keeps a dead worker from being handed
 * out; `reset` closes a worker whose job crashed it, instead of keeping it idle.
 */
export function createWorkerPool(size: number): AsyncPool<PooledWorker> {
  return new AsyncPool<PooledWorker>({
    name: 'workers',
    factory: () => PooledWorker.start(),
    releaser: (worker) => worker.terminate(),
    validate: (worker) => worker.alive,
    reset: (worker) => {
      if (!worker.alive) throw new Error('the worker died or is stuck in a job that timed out');
    },
    maxSize: size,
    minIdle: size, // keep every worker warm: replacements start in the background
    createTimeoutMs: 10_000,
    recycleMs: Infinity, // a worker does not go stale
  });
}

/**
 * Runs `job` on a pooled worker. A job that times out leaves its worker busy with it: the worker
 * is destroyed (terminated) instead of being released, and the pool starts a fresh one.
 */
export async function runJob(pool: AsyncPool<PooledWorker>, job: Job, timeoutMs = Infinity): Promise<number> {
  const worker = await pool.acquire();
  let result: number;
  try {
    result = await worker.run(job, timeoutMs);
  } catch (error) {
    await pool.destroy(worker);
    throw error;
  }
  pool.release(worker);
  return result;
}

/** Primes below n, for checking the workers' answers. */
export const PRIMES_BELOW: Readonly<Record<number, number>> = {
  1_000_000: 78_498,
  2_000_000: 148_933,
  3_000_000: 216_816,
  4_000_000: 283_146,
};

/** What {@link main} did, for the reader and for tests. */
export interface WorkersSummary {
  readonly workers: number;
  readonly jobs: number;
  /** Jobs whose answer matched the known prime count. */
  readonly correct: number;
  /** True when the runaway job was stopped by its time limit. */
  readonly runawayStopped: boolean;
  /** Jobs run successfully after the runaway job's worker was terminated. */
  readonly jobsAfterRunaway: number;
  /** Workers started over the whole run (the pre-warmed ones plus the replacement). */
  readonly workersStarted: number;
  /** Workers whose thread had exited once `dispose()` resolved. */
  readonly workersExited: number;
}

export interface MainOptions {
  /** Where the example prints what it does. @defaultValue console.log */
  readonly log?: (line: string) => void;
}

/** Runs the example: 12 prime-counting jobs over a pool of (at most 4) workers, and one runaway job. */
export async function main({ log = console.log }: MainOptions = {}): Promise<WorkersSummary> {
  const size = Math.max(2, Math.min(os.availableParallelism(), 4));
  const pool = createWorkerPool(size);
  const started: PooledWorker[] = [];
  pool.on('create', ({ resource }) => started.push(resource));
  try {
    const t0 = performance.now();
    await pool.prefill();
    log(`Started ${pool.size} workers up front in ${Math.round(performance.now() - t0)} ms (prefill).`);

    const limits = Object.keys(PRIMES_BELOW).map(Number);
    const jobs = Array.from({ length: 12 }, (_, i) => limits[i % limits.length]!);
    const t1 = performance.now();
    const results = await Promise.all(jobs.map((below) => runJob(pool, { kind: 'countPrimes', below })));
    const correct = results.filter((count, i) => count === PRIMES_BELOW[jobs[i]!]).length;
    log(`${jobs.length} prime-counting jobs ran on ${size} workers in ${Math.round(performance.now() - t1)} ms; ` +
      `${correct} answers correct.`);

    // minIdle keeps every worker warm: the pool starts a replacement in the background.
    const replacement = new Promise<void>((resolve) => {
      const onCreate = (): void => {
        pool.off('create', onCreate);
        resolve();
      };
      pool.on('create', onCreate);
    });
    let runawayStopped = false;
    try {
      await runJob(pool, { kind: 'spin' }, 200);
    } catch (error) {
      runawayStopped = error instanceof JobTimeoutError;
    }
    await replacement;
    log(`A runaway job was stopped after 200 ms: its worker was terminated (pool.destroy) and a fresh one started.`);

    const after = await Promise.all(Array.from({ length: size * 2 }, () => runJob(pool, { kind: 'countPrimes', below: 1_000_000 })));
    const jobsAfterRunaway = after.filter((count) => count === PRIMES_BELOW[1_000_000]).length;
    log(`${jobsAfterRunaway} more jobs ran fine; workers started in all: ${started.length}.`);

    await pool.dispose();
    const exited = started.filter((worker) => worker.exited).length;
    log(`dispose() terminated the workers: ${exited} of ${started.length} threads have exited.`);
    return {
      workers: size,
      jobs: jobs.length,
      correct,
      runawayStopped,
      jobsAfterRunaway,
      workersStarted: started.length,
      workersExited: exited,
    };
  } finally {
    await pool.dispose();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
