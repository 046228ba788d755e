/** maxUses: a resource is closed (reason 'maxUses') when it comes back after that many borrows. */
import { AsyncPool, type DestroyReason } from '../../src/index.js';
import { flush, tracked, type Res } from '../helpers.js';

function poolWith(maxUses: number, extra: { maxSize?: number; reset?: (r: Res) => void } = {}) {
  const f = tracked();
  const destroyed: [number, DestroyReason][] = [];
  const pool = new AsyncPool<Res>({ factory: f.factory, releaser: f.releaser, maxUses, ...extra });
  pool.on('destroy', (e) => destroyed.push([e.resource.id, e.reason]));
  return { f, pool, destroyed };
}

test('a resource is reused maxUses times, then closed when it comes back', async () => {
  const { pool, destroyed } = poolWith(2);
  const a = await pool.acquire();
  pool.release(a);
  const b = await pool.acquire();
  expect(b).toBe(a);
  pool.release(b);
  expect(destroyed).toEqual([[1, 'maxUses']]); // synchronously, at release
  expect(pool.size).toBe(0);
  const c = await pool.acquire();
  expect(c.id).toBe(2);
  pool.release(c);
  expect(pool.stats().destroyed.maxUses).toBe(1);
  await pool.dispose();
});

test('maxUses 1: every borrow gets a fresh resource', async () => {
  const { f, pool } = poolWith(1);
  for (let i = 0; i < 3; i++) pool.release(await pool.acquire());
  expect(f.created).toHaveLength(3);
  await flush();
  expect(f.released).toHaveLength(3);
  await pool.dispose();
});

test('a waiter queued behind the last use gets a fresh resource, not the spent one', async () => {
  const { pool } = poolWith(1, { maxSize: 1 });
  const a = await pool.acquire();
  const next = pool.acquire();
  pool.release(a);
  const b = await next;
  expect(b).not.toBe(a);
  pool.release(b);
  await pool.dispose();
});

test('a spent resource is not reset first', async () => {
  const resets: number[] = [];
  const { pool } = poolWith(1, { reset: (r) => void resets.push(r.id) });
  pool.release(await pool.acquire());
  expect(resets).toEqual([]);
  await pool.dispose();
});

test('Infinity is the default: nothing is closed for its uses', async () => {
  const f = tracked();
  const pool = new AsyncPool<Res>({ factory: f.factory });
  for (let i = 0; i < 50; i++) pool.release(await pool.acquire());
  expect(f.created).toHaveLength(1);
  await pool.dispose();
});

test('a destroy listener that acquires during the close gets a fresh resource', async () => {
  const { pool } = poolWith(1, { maxSize: 1 });
  let inner: Promise<Res> | undefined;
  pool.on('destroy', () => {
    inner ??= pool.acquire();
  });
  const a = await pool.acquire();
  pool.release(a);
  const b = await inner!;
  expect(b).not.toBe(a);
  pool.release(b);
  await pool.dispose();
});

test.each([[0, RangeError], [1.5, RangeError], [-1, RangeError], ['3', TypeError]])('maxUses %p is rejected, naming the option', (value, Kind) => {
  expect(() => new AsyncPool({ factory: () => ({}), maxUses: value as number })).toThrow(Kind);
  expect(() => new AsyncPool({ factory: () => ({}), maxUses: value as number })).toThrow(/"maxUses"/);
});
