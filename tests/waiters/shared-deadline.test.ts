/**
 * The shared deadline (the pool's `acquireTimeoutMs`): one timer covers every waiter using it.
 * While all pending waiters use it, the queue itself is in deadline order; a waiter with a timeout
 * of its own, or none, brings a separate deadline queue in. Each phase must time out on time.
 */
import { AcquireTimeoutError, AsyncPool } from '../../src/index.js';
import { outcome, tracked } from '../helpers.js';
import { tick, useFakeClock } from '../support.js';

useFakeClock();

function settledAt<T>(promise: Promise<T>, log: Map<string, number>, name: string): ReturnType<typeof outcome<T>> {
  return outcome(promise).then((result) => {
    log.set(name, performance.now());
    return result;
  });
}

test('shared waiters queued behind one with no timeout still time out at their own deadline', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, maxSize: 1, acquireTimeoutMs: 100 });
  const held = await pool.acquire();
  const start = performance.now();
  const log = new Map<string, number>();
  const a = settledAt(pool.acquire(), log, 'a'); // shared, deadline +100
  await tick(10);
  const forever = settledAt(pool.acquire({ timeoutMs: Infinity }), log, 'forever');
  await tick(10);
  const b = settledAt(pool.acquire(), log, 'b'); // shared, deadline +120
  const own = settledAt(pool.acquire({ timeoutMs: 50 }), log, 'own'); // own timer, +70
  await tick(200);
  for (const result of [await a, await b, await own]) {
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBeInstanceOf(AcquireTimeoutError);
  }
  expect(log.get('a')! - start).toBe(100);
  expect(log.get('own')! - start).toBe(70);
  expect(log.get('b')! - start).toBe(120);
  expect(log.has('forever')).toBe(false);
  expect(pool.pending).toBe(1);
  pool.release(held);
  const got = await forever;
  expect(got.ok).toBe(true);
  if (got.ok) pool.release(got.value);
  await pool.dispose();
});

test('after the queue empties, shared deadlines are kept again without the separate queue', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, maxSize: 1, acquireTimeoutMs: 100 });
  const held = await pool.acquire();
  // A mixed phase: a waiter with its own timeout, then everyone leaves.
  const own = outcome(pool.acquire({ timeoutMs: 30 }));
  const shared = outcome(pool.acquire());
  await tick(100);
  expect((await own).ok).toBe(false);
  expect((await shared).ok).toBe(false);
  expect(pool.pending).toBe(0);
  // A plain phase: shared waiters only, served and timed out in arrival order.
  const start = performance.now();
  const log = new Map<string, number>();
  const first = settledAt(pool.acquire(), log, 'first');
  await tick(40);
  const second = settledAt(pool.acquire(), log, 'second');
  pool.release(held); // goes to `first`
  const r = await first;
  expect(r.ok).toBe(true);
  await tick(200);
  expect((await second).ok).toBe(false);
  expect(log.get('second')! - start).toBe(140);
  if (r.ok) pool.release(r.value);
  await pool.dispose();
});

test('a waiter being validated when its shared deadline passes times out then', async () => {
  const t = tracked();
  let answer: ((valid: boolean) => void) | undefined;
  const pool = new AsyncPool({
    factory: t.factory,
    maxSize: 1,
    acquireTimeoutMs: 100,
    validate: () => new Promise<boolean>((resolve) => (answer = resolve)),
    validateIdleAfterMs: 0,
  });
  pool.release(await pool.acquire());
  const held = await (async () => {
    const p = pool.acquire();
    answer!(true);
    return p;
  })();
  const start = performance.now();
  const log = new Map<string, number>();
  const served = settledAt(pool.acquire(), log, 'served'); // will be validated, never answered
  const behind = settledAt(pool.acquire(), log, 'behind');
  await tick(20);
  pool.release(held); // validation starts for `served`, and hangs
  await tick(200);
  expect((await served).ok).toBe(false);
  expect((await behind).ok).toBe(false);
  expect(log.get('served')! - start).toBe(100);
  expect(log.get('behind')! - start).toBe(100);
  const disposed = pool.dispose({ timeoutMs: 10 });
  answer!(true);
  await tick(10);
  await disposed;
});

// A waiter put back in the queue after a failed check can be older than one still being
// validated: the shared deadline must follow the older one, not the one being validated.
describe('a waiter put back after a failed check, while a younger one is being validated', () => {
  /** validate: 1st call answers false at t=60, 2nd answers true at t=1000, later ones true at once. */
  function setup() {
    let n = 0;
    let calls = 0;
    const answers: [number, boolean][] = [[60, false], [1000, true]];
    const pool = new AsyncPool<{ id: number }>({
      // 3 resources at once, then slow creations (so the requeued caller keeps waiting).
      factory: () => (n < 3 ? { id: ++n } : new Promise((r) => setTimeout(() => r({ id: ++n }), 10_000))),
      maxSize: 3,
      acquireTimeoutMs: 100,
      validate: () => {
        const [at, ok] = answers[calls++] ?? [0, true];
        return new Promise<boolean>((r) => setTimeout(() => r(ok), Math.max(at - performance.now(), 0)));
      },
    });
    return pool;
  }

  async function run(extra: (pool: AsyncPool<{ id: number }>) => void) {
    const pool = setup();
    await pool.prefill(3);
    const start = performance.now();
    const settled: Record<string, number> = {};
    let errA: unknown;
    pool.acquire().catch((e) => { errA = e; settled.A = performance.now() - start; }); // t=0, deadline 100; its first check fails at 60
    await tick(50);
    pool.acquire().catch(() => { settled.B = performance.now() - start; }); // t=50, deadline 150; checked until t=1000
    await tick(20); // t=70: A is back in the queue, B is being validated
    extra(pool);
    await tick(35); // t=105: A's deadline (100) has passed
    expect(settled.A).toBeDefined();
    expect(errA).toBeInstanceOf(AcquireTimeoutError);
    expect(settled.A).toBe(100); // not at B's deadline (150)
    const disposed = pool.dispose({ timeoutMs: 10 });
    await tick(10_000);
    await disposed;
  }

  test('times out at its own deadline', async () => {
    await run(() => {});
  });

  test('times out at its own deadline once a waiter with a timeout of its own brings the separate deadline queue in', async () => {
    await run((pool) => { pool.acquire({ timeoutMs: 5_000 }).catch(() => {}); });
  });
});
