import PQueue from 'p-queue';
import { AsyncPool } from '../src/index.js';
import { tracked } from './helpers.js';

test('p-queue is loaded for real (not mocked)', async () => {
  const q = new PQueue({ concurrency: 1 });
  expect(await q.add(async () => 42)).toBe(42);
});

test('acquire, release, dispose', async () => {
  const t = tracked();
  const pool = new AsyncPool({ factory: t.factory, releaser: t.releaser });
  const r = await pool.acquire();
  pool.release(r);
  await pool.dispose();
  expect(t.released).toEqual([r]);
});
