/** onUseError: what use() does with the resource when fn throws or rejects. */
import { AsyncPool, type DestroyReason } from 'poolkeeper';
import { deferred, flush, outcome, tracked, type Res } from '../helpers.js';

function pool(onUseError?: 'release' | 'destroy') {
  const t = tracked();
  const p = new AsyncPool<Res>({ factory: t.factory, releaser: t.releaser, maxSize: 1, ...(onUseError ? { onUseError } : {}) });
  const reasons: DestroyReason[] = [];
  p.on('destroy', (e) => reasons.push(e.reason));
  return { t, p, reasons };
}

test("by default ('release') a failing fn gives the resource back to the pool", async () => {
  const { p, t } = pool();
  const failure = new Error('query failed');
  expect(await outcome(p.use(async () => Promise.reject(failure)))).toEqual({ ok: false, error: failure });
  expect([p.idle, p.borrowed]).toEqual([1, 0]);
  expect(t.released).toEqual([]);
  await p.dispose();
});

test("'destroy': a rejecting fn closes the resource (reason destroyed) and the error reaches the caller", async () => {
  const { p, t, reasons } = pool('destroy');
  let used: Res | undefined;
  const failure = new Error('connection broken');
  const result = await outcome(p.use(async (r) => {
    used = r;
    throw failure;
  }));
  expect(result).toEqual({ ok: false, error: failure });
  expect([p.idle, p.borrowed, p.size]).toEqual([0, 0, 0]);
  await flush();
  expect(t.released).toEqual([used]);
  expect(reasons).toEqual(['destroyed']);
  await p.dispose();
});

test("'destroy': a synchronous throw, and undefined as the rejection reason, also destroy", async () => {
  const { p, t } = pool('destroy');
  const sync = await outcome(p.use(() => {
    throw new TypeError('bad');
  }));
  expect(sync.ok).toBe(false);
  const undef = await outcome(p.use(() => Promise.reject(undefined)));
  expect(undef).toEqual({ ok: false, error: undefined });
  await flush();
  expect(t.released).toHaveLength(2);
  await p.dispose();
});

test("'destroy': a successful fn releases as usual", async () => {
  const { p, t } = pool('destroy');
  expect(await p.use(async (r) => r.id)).toBe(1);
  expect(p.idle).toBe(1);
  expect(t.released).toEqual([]);
  await p.dispose();
});

test("'destroy': a waiter gets a fresh resource once the failed one is destroyed", async () => {
  const { p, t } = pool('destroy');
  const gate = deferred<void>();
  const failing = outcome(p.use(async () => {
    await gate.promise;
    throw new Error('broken');
  }));
  const next = p.acquire();
  gate.resolve();
  await failing;
  const fresh = await next;
  expect(fresh.id).toBe(2);
  expect(t.released.map((r) => r.id)).toEqual([1]);
  p.release(fresh);
  await p.dispose();
});

test("'destroy': if fn released the resource itself before failing, use() does not touch it again", async () => {
  const { p, t } = pool('destroy');
  const result = await outcome(p.use(async (r) => {
    p.release(r);
    throw new Error('after release');
  }));
  expect(result.ok).toBe(false);
  expect(p.idle).toBe(1);
  expect(t.released).toEqual([]);
  await p.dispose();
});

test("'destroy': if fn released the resource and another caller holds it now, use() leaves it to them", async () => {
  const { p, t } = pool('destroy');
  let other: Promise<Res> | undefined;
  const result = await outcome(p.use(async (r) => {
    other = p.acquire();
    p.release(r); // goes to the waiter at once
    throw new Error('late failure');
  }));
  expect(result.ok).toBe(false);
  const held = await other!;
  expect(p.isBorrowed(held)).toBe(true);
  expect(t.released).toEqual([]);
  p.release(held);
  await p.dispose();
});

test("'destroy': if fn destroyed the resource itself, use() does nothing more", async () => {
  const { p, t } = pool('destroy');
  const result = await outcome(p.use(async (r) => {
    await p.destroy(r);
    throw new Error('after destroy');
  }));
  expect(result.ok).toBe(false);
  expect(t.released).toHaveLength(1);
  await p.dispose();
});

test('onUseError must be "release" or "destroy"', () => {
  expect(() => new AsyncPool({ factory: () => ({}), onUseError: 'close' as 'destroy' })).toThrow(
    new TypeError('poolkeeper: option "onUseError" must be "release" or "destroy"; got "close"'),
  );
});
