/**
 * Releaser calls run through a queue that dispose() awaits; destroyTimeoutMs (default 5 000)
 * abandons a hanging releaser and reports it as DestroyTimeoutError.
 */
import { AsyncPool, DestroyTimeoutError, type PoolEvents } from '../../src/index.js';
import { switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

function poolWith(releaser: (c: Conn) => void | Promise<void>, options: { destroyTimeoutMs?: number; listen?: boolean } = {}) {
  const f = switchableFactory();
  const errors: PoolEvents<Conn>['error'][] = [];
  const calls: number[] = [];
  const pool = new AsyncPool<Conn>({
    factory: f.factory,
    releaser: (c) => {
      calls.push(c.id);
      return releaser(c);
    },
    recycleMs: Infinity,
    ...(options.destroyTimeoutMs === undefined ? {} : { destroyTimeoutMs: options.destroyTimeoutMs }),
  });
  if (options.listen !== false) pool.on('error', (e) => errors.push(e));
  return { f, pool, errors, calls };
}

/** Settles `promise` into a flag the test can poll while it drives the clock. */
function watch(promise: Promise<unknown>): { done: boolean } {
  const state = { done: false };
  void promise.then(() => (state.done = true));
  return state;
}

async function fill(pool: AsyncPool<Conn>, n: number): Promise<Conn[]> {
  const out: Conn[] = [];
  for (let i = 0; i < n; i++) out.push(await pool.acquire());
  for (const r of out) pool.release(r);
  return out;
}

test('dispose() resolves only once every releaser has finished', async () => {
  const { pool, calls } = poolWith(() => new Promise<void>((resolve) => setTimeout(resolve, 1_000)));
  await fill(pool, 3);
  const disposed = watch(pool.dispose());
  await tick(0);
  expect([...calls].sort()).toEqual([1, 2, 3]); // all started at once
  await tick(999);
  expect(disposed.done).toBe(false);
  await tick(1);
  expect(disposed.done).toBe(true);
});

test('a hanging releaser is abandoned after destroyTimeoutMs (default 5 000) and reported', async () => {
  const { pool, errors, calls } = poolWith(() => new Promise<void>(() => {}));
  const [r] = await fill(pool, 1);
  const disposed = watch(pool.dispose());
  await tick(4_999);
  expect(disposed.done).toBe(false);
  expect(calls).toEqual([r!.id]);
  await tick(1);
  expect(disposed.done).toBe(true);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.operation).toBe('destroy');
  expect(errors[0]!.resource).toBe(r);
  expect(errors[0]!.error).toBeInstanceOf(DestroyTimeoutError);
  expect((errors[0]!.error as DestroyTimeoutError).code).toBe('ERR_DESTROY_TIMEOUT');
  expect((errors[0]!.error as DestroyTimeoutError).timeoutMs).toBe(5_000);
  expect(pool.stats().destroyFailed).toBe(1);
  expect(pool.stats().destroyed.disposed).toBe(1);
});

test('closes run side by side: one hanging releaser does not hold the others back', async () => {
  const closed: number[] = [];
  const { pool, errors } = poolWith(
    (c) => (c.id === 1 ? new Promise<void>(() => {}) : void closed.push(c.id)),
    { destroyTimeoutMs: 200 },
  );
  await fill(pool, 3);
  const disposed = watch(pool.dispose());
  await tick(0);
  expect(closed.sort()).toEqual([2, 3]);
  await tick(199);
  expect(disposed.done).toBe(false);
  await tick(1);
  expect(disposed.done).toBe(true);
  expect(errors.map((e) => [e.operation, e.resource?.id])).toEqual([['destroy', 1]]);
});

test('dispose() waits for a borrowed resource, then for its hanging releaser', async () => {
  const { pool, errors } = poolWith(() => new Promise<void>(() => {}), { destroyTimeoutMs: 300 });
  const r = await pool.acquire();
  const disposed = watch(pool.dispose());
  await tick(10_000);
  expect(disposed.done).toBe(false); // r is still out
  pool.release(r);
  await tick(299);
  expect(disposed.done).toBe(false);
  await tick(1);
  expect(disposed.done).toBe(true);
  expect(errors.map((e) => e.resource)).toEqual([r]);
});

test('destroy() of a resource whose releaser hangs resolves after destroyTimeoutMs', async () => {
  const { pool, errors } = poolWith(() => new Promise<void>(() => {}), { destroyTimeoutMs: 1_000 });
  const r = await pool.acquire();
  const destroyed = watch(pool.destroy(r));
  expect(pool.size).toBe(0); // the slot is free at once
  await tick(999);
  expect(destroyed.done).toBe(false);
  await tick(1);
  expect(destroyed.done).toBe(true);
  expect(errors.map((e) => e.operation)).toEqual(['destroy']);
  await pool.dispose();
});

const closeFailed = new Error('close failed');
test.each([
  ['throws', () => { throw closeFailed; }],
  ['rejects', () => Promise.reject(closeFailed)],
] as const)('a releaser that %s is reported as an error event; dispose() still resolves', async (_, releaser) => {
  const { pool, errors } = poolWith(releaser);
  const [r] = await fill(pool, 1);
  await pool.dispose();
  expect(errors).toEqual([{ error: closeFailed, operation: 'destroy', resource: r }]);
  expect(pool.stats().destroyFailed).toBe(1);
});

test('with no error listener, a failing or hanging releaser is dropped silently', async () => {
  const { pool } = poolWith((c) => (c.id === 1 ? new Promise<void>(() => {}) : Promise.reject(new Error('x'))), {
    destroyTimeoutMs: 100,
    listen: false,
  });
  await fill(pool, 2);
  const disposed = watch(pool.dispose());
  await tick(100);
  expect(disposed.done).toBe(true);
  expect(pool.stats().destroyFailed).toBe(2);
});
