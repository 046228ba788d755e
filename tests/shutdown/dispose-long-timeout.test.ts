/**
 * dispose({ timeoutMs }) beyond 2^31-1 ms (about 24.8 days): setTimeout would fire such a delay
 * at once, force-closing borrowed resources immediately. It must wait instead.
 */
import { AsyncPool } from '../../src/index.js';
import { tracked } from '../helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test.each([[false], [true]])('dispose({ timeoutMs: 2^32, drain: %s }) waits for a borrowed resource', async (drain) => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 2 });
  const r = await pool.acquire();
  let done = false;
  const disposed = pool.dispose({ timeoutMs: 2 ** 32, drain }).then(() => void (done = true));
  await sleep(50);
  expect(done).toBe(false);
  expect(r.closed).toBe(false);
  pool.release(r);
  await disposed;
  expect(r.closed).toBe(true);
});

test('dispose({ timeoutMs: 2^31-1 }) is a real timer, and still waits', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 1 });
  const r = await pool.acquire();
  let done = false;
  const disposed = pool.dispose({ timeoutMs: 2 ** 31 - 1 }).then(() => void (done = true));
  await sleep(50);
  expect(done).toBe(false);
  pool.release(r);
  await disposed;
});
