/**
 * clear(): idle resources closed at once, borrowed ones when they come back, creations in flight
 * when they arrive (all with reason 'cleared'); later acquires get fresh resources.
 */
import { AsyncPool, type DestroyReason } from '../../src/index.js';
import { deferred } from '../helpers.js';
import { gatedFactory, switchableFactory, tick, useFakeClock, type Conn } from '../support.js';

useFakeClock();

function poolWith(options: {
  maxSize?: number;
  validate?: (c: Conn) => boolean | Promise<boolean>;
  reset?: (c: Conn) => void | Promise<void>;
}) {
  const f = switchableFactory();
  const destroyed: [number, DestroyReason][] = [];
  const pool = new AsyncPool<Conn>({ factory: f.factory, releaser: f.releaser, recycleMs: Infinity, ...options });
  pool.on('destroy', (e) => destroyed.push([e.resource.id, e.reason]));
  return { f, pool, destroyed };
}

test('idle resources are closed at once; borrowed ones when released; new acquires get fresh ones', async () => {
  const { f, pool, destroyed } = poolWith({ maxSize: 4 });
  const [a, b, c] = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
  pool.release(a);
  pool.release(b);
  pool.clear();
  expect(destroyed).toEqual([[a.id, 'cleared'], [b.id, 'cleared']]);
  expect([pool.size, pool.idle, pool.borrowed]).toEqual([1, 0, 1]);
  const fresh = await pool.acquire();
  expect([a, b, c]).not.toContain(fresh);
  pool.release(c); // retired: closed, not kept
  expect(destroyed).toEqual([[a.id, 'cleared'], [b.id, 'cleared'], [c.id, 'cleared']]);
  await tick(0);
  expect(f.released).toEqual([a, b, c]);
  expect(pool.idle).toBe(0);
  pool.release(fresh);
  expect(pool.idle).toBe(1); // fresh ones are kept as usual
  expect(pool.stats().destroyed.cleared).toBe(3);
  await pool.dispose();
});

test('a retired resource released while someone waits is closed, and the waiter gets a fresh one', async () => {
  const { pool, destroyed } = poolWith({ maxSize: 1 });
  const old = await pool.acquire();
  const next = pool.acquire();
  pool.clear();
  pool.release(old);
  const got = await next;
  expect(got).not.toBe(old);
  expect(destroyed).toEqual([[old.id, 'cleared']]);
  pool.release(got);
  await pool.dispose();
});

test('a creation in flight at clear() is closed when it arrives, and its waiter gets a fresh one', async () => {
  const g = gatedFactory();
  const destroyed: [number, DestroyReason][] = [];
  const pool = new AsyncPool<Conn>({ factory: g.factory, releaser: g.releaser, recycleMs: Infinity });
  pool.on('destroy', (e) => destroyed.push([e.resource.id, e.reason]));
  const waiting = pool.acquire();
  await tick(0);
  pool.clear();
  const stale = g.calls[0]!.succeed();
  await tick(0);
  expect(destroyed).toEqual([[stale.id, 'cleared']]);
  expect(g.released).toEqual([stale]);
  expect(g.calls).toHaveLength(2);
  const fresh = g.calls[1]!.succeed();
  expect(await waiting).toBe(fresh);
  pool.release(fresh);
  await pool.dispose();
});

test('a resource being validated at clear() is not handed out', async () => {
  const gate = deferred<boolean>();
  const { pool, destroyed } = poolWith({ validate: (c) => (c.id === 1 ? gate.promise : true) });
  pool.release(await pool.acquire()); // id 1, idle
  const p = pool.acquire(); // validating id 1
  await tick(0);
  pool.clear();
  gate.resolve(true);
  const got = await p;
  expect(got.id).not.toBe(1);
  expect(destroyed).toEqual([[1, 'cleared']]);
  pool.release(got);
  await pool.dispose();
});

test('a resource being reset at clear() is closed when the reset finishes', async () => {
  const gate = deferred();
  const { pool, destroyed } = poolWith({ reset: () => gate.promise });
  const r = await pool.acquire();
  pool.release(r); // resetting
  pool.clear();
  expect(destroyed).toEqual([]);
  gate.resolve();
  await tick(0);
  expect(destroyed).toEqual([[r.id, 'cleared']]);
  expect(pool.idle).toBe(0);
  await pool.dispose();
});

test('destroy() of a retired resource still counts as destroyed, once', async () => {
  const { pool, destroyed } = poolWith({});
  const r = await pool.acquire();
  pool.clear();
  await pool.destroy(r);
  expect(destroyed).toEqual([[r.id, 'destroyed']]);
  await pool.dispose();
});

test('clear() after dispose() is a no-op', async () => {
  const { pool, destroyed } = poolWith({});
  pool.release(await pool.acquire());
  await pool.dispose();
  pool.clear();
  expect(destroyed.map(([, reason]) => reason)).toEqual(['disposed']);
});
