/**
 * A signal runs its abort listeners in the order they were added. A listener added before
 * `acquire()` (a request's cleanup, say) runs while the pool's own has not yet: the caller's
 * signal reads `aborted`, but the caller is still queued. A resource that listener gives back
 * must not go to the caller just aborted.
 */
import { AbortError, AsyncPool } from '../../src/index.js';
import { deferred, flush, outcome, tracked } from '../helpers.js';

test('a resource released by an earlier abort listener does not go to the aborted caller', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
  const held = await pool.acquire();
  const controller = new AbortController();
  const reason = new Error('client went away');
  controller.signal.addEventListener('abort', () => pool.release(held)); // the request's cleanup
  const waiting = outcome(pool.acquire({ signal: controller.signal }));
  controller.abort(reason);
  const result = await waiting;
  expect(result.ok).toBe(false);
  expect(!result.ok && result.error).toBeInstanceOf(AbortError);
  expect(!result.ok && result.error.cause).toBe(reason);
  expect([pool.idle, pool.borrowed, pool.pending]).toEqual([1, 0, 0]);
  expect(pool.stats().aborted).toBe(1);
  expect(pool.stats().acquired).toBe(1);
  await pool.dispose();
});

test('the same with validation: the aborted caller is not validated for, nor served', async () => {
  const t = tracked();
  const validated: unknown[] = [];
  const pool = new AsyncPool({
    factory: t.factory,
    maxSize: 1,
    validate: (r) => (validated.push(r), true),
    validateIdleAfterMs: 0,
  });
  const held = await pool.acquire();
  validated.length = 0;
  const controller = new AbortController();
  controller.signal.addEventListener('abort', () => pool.release(held));
  const ran: unknown[] = [];
  const used = outcome(pool.use((r) => void ran.push(r), { signal: controller.signal }));
  controller.abort();
  const result = await used;
  expect(!result.ok && result.error).toBeInstanceOf(AbortError);
  expect(ran).toEqual([]);
  expect(validated).toEqual([]);
  expect([pool.idle, pool.pending, pool.stats().aborted]).toEqual([1, 0, 1]);
  await pool.dispose();
});

test('every caller on the aborted signal leaves; the resource goes to the next caller in line', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
  const held = await pool.acquire();
  const controller = new AbortController();
  controller.signal.addEventListener('abort', () => pool.release(held));
  const onSignal = [0, 1, 2].map(() => outcome(pool.acquire({ signal: controller.signal })));
  const own = outcome(pool.acquire({ timeoutMs: 60_000 })); // an object waiter
  const plain = outcome(pool.acquire()); // slots
  controller.abort();
  for (const result of await Promise.all(onSignal)) expect(!result.ok && result.error).toBeInstanceOf(AbortError);
  const served = await own;
  expect(served.ok && served.value).toBe(held);
  expect(pool.pending).toBe(1);
  pool.release(held);
  const next = await plain;
  expect(next.ok && next.value).toBe(held);
  expect(pool.stats().aborted).toBe(3);
  pool.release(held);
  await pool.dispose();
});

test('a plain caller behind the aborted one is served from its slots', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
  const held = await pool.acquire();
  const controller = new AbortController();
  controller.signal.addEventListener('abort', () => pool.release(held));
  const aborted = outcome(pool.acquire({ signal: controller.signal }));
  const plain = outcome(pool.acquire());
  controller.abort();
  expect(!(await aborted).ok).toBe(true);
  const served = await plain;
  expect(served.ok && served.value).toBe(held);
  expect([pool.borrowed, pool.pending, pool.stats().aborted]).toEqual([1, 0, 1]);
  pool.release(held);
  await pool.dispose();
});

test('a listener that stops the event before the pool hears of it: the caller is still never served', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
  const held = await pool.acquire();
  const controller = new AbortController();
  controller.signal.addEventListener('abort', (event) => event.stopImmediatePropagation());
  const aborted = outcome(pool.acquire({ signal: controller.signal }));
  controller.abort();
  expect(pool.pending).toBe(1); // the pool's listener did not run
  pool.release(held);
  const result = await aborted;
  expect(!result.ok && result.error).toBeInstanceOf(AbortError);
  expect([pool.idle, pool.pending, pool.stats().aborted]).toEqual([1, 0, 1]);
  await pool.dispose();
});

test('a caller an earlier listener re-queues behind the aborted one gets the resource, in order', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, maxSize: 1 });
  const held = await pool.acquire();
  const controller = new AbortController();
  const order: string[] = [];
  let later: Promise<unknown> | undefined;
  controller.signal.addEventListener('abort', () => {
    later = pool.acquire().then((r) => {
      order.push('later');
      pool.release(r);
    });
    pool.release(held);
  });
  const first = pool.acquire({ signal: controller.signal }).then(
    () => order.push('first served'),
    () => order.push('first aborted'),
  );
  controller.abort();
  await first;
  await later;
  expect(order).toEqual(['first aborted', 'later']);
  expect([pool.idle, pool.pending]).toEqual([1, 0]);
  await pool.dispose();
});

test('a listener that stops the event while the caller\'s resource is being validated: the caller is not served', async () => {
  const t = tracked();
  const verdict = deferred<boolean>();
  let first = true;
  const pool = new AsyncPool({
    factory: t.factory,
    maxSize: 1,
    validate: () => (first ? ((first = false), verdict.promise) : true),
    validateIdleAfterMs: 0,
  });
  await pool.prefill(1);
  const controller = new AbortController();
  controller.signal.addEventListener('abort', (event) => event.stopImmediatePropagation());
  const ran: unknown[] = [];
  const used = outcome(pool.use((r) => void ran.push(r), { signal: controller.signal }));
  await flush();
  controller.abort();
  verdict.resolve(true);
  const result = await used;
  expect(!result.ok && result.error).toBeInstanceOf(AbortError);
  expect(ran).toEqual([]);
  expect([pool.idle, pool.pending, pool.stats().aborted]).toEqual([1, 0, 1]);
  await pool.dispose();
});

test('a listener that stops the event, then the creation for that caller fails: AbortError, and the failure is reported', async () => {
  let fail!: (error: unknown) => void;
  const pool = new AsyncPool({ factory: () => new Promise<object>((_, reject) => (fail = reject)), maxSize: 1 });
  const reported: unknown[] = [];
  pool.on('error', ({ error }) => reported.push(error));
  const controller = new AbortController();
  controller.signal.addEventListener('abort', (event) => event.stopImmediatePropagation());
  const waiting = outcome(pool.acquire({ signal: controller.signal }));
  await flush();
  controller.abort();
  const failure = new Error('connect ECONNREFUSED');
  fail(failure);
  const result = await waiting;
  expect(!result.ok && result.error).toBeInstanceOf(AbortError);
  expect(reported).toEqual([failure]);
  expect([pool.pending, pool.stats().aborted, pool.stats().rejectedCreateFailed]).toEqual([0, 1, 0]);
  await pool.dispose();
});
