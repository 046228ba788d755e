/** generic-pool's options are read as generic-pool reads them; the factory is checked the same way. */
import genericPool, { createPool, Pool, type Options } from 'poolkeeper/generic-pool';
import { itemFactory } from './support.js';

const pools: Pool<unknown>[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.asyncPool.dispose();
});

function make(options?: Options): Pool<unknown> {
  const pool = createPool(itemFactory().factory, { autostart: false, ...options }) as Pool<unknown>;
  pools.push(pool);
  return pool;
}

test('defaults: max 1, min 0', () => {
  const pool = make();
  expect([pool.max, pool.min, pool.spareResourceCapacity]).toEqual([1, 0, 1]);
});

test('malformed max and min fall back to the defaults instead of throwing', () => {
  const pool = make({ min: 'lots' as unknown as number, max: [] as unknown as number });
  expect([pool.max, pool.min]).toEqual([1, 0]);
});

test('numeric strings are parsed, as generic-pool does with configuration from the environment', () => {
  const pool = make({ max: '7' as unknown as number, min: '2' as unknown as number });
  expect([pool.max, pool.min]).toEqual([7, 2]);
});

test('min above max is lowered to max; max below 1 is raised to 1', () => {
  expect([make({ min: 9, max: 4 }).min, make({ max: 0 }).max, make({ max: -3, min: 2 }).min]).toEqual([4, 1, 1]);
});

test('maxWaitingClients that is not a number leaves the queue unbounded', async () => {
  const pool = make({ max: 1, maxWaitingClients: 'x' as unknown as number });
  const first = await pool.acquire();
  const waiting = [pool.acquire(), pool.acquire(), pool.acquire()];
  expect(pool.pending).toBe(3);
  await pool.release(first);
  for (const w of waiting) await pool.release(await w);
});

test('the factory must have create and destroy functions, and validate if given must be one', () => {
  const create = async () => 1;
  const destroy = async () => undefined;
  expect(() => createPool({ destroy } as never)).toThrow(new TypeError('factory.create must be a function'));
  expect(() => createPool({ create } as never)).toThrow(new TypeError('factory.destroy must be a function'));
  expect(() => createPool({ create, destroy, validate: 1 } as never)).toThrow(new TypeError('factory.validate must be a function'));
});

test("generic-pool's five-argument Pool constructor is accepted; the first three are ignored", async () => {
  class Ignored {}
  const pool = new Pool(Ignored, Ignored, Ignored, itemFactory().factory, { max: 3, autostart: false });
  pools.push(pool as Pool<unknown>);
  expect(pool.max).toBe(3);
  const item = await pool.acquire();
  expect(item.id).toBe(0);
  await pool.release(item);
});

test('numeric-string eviction times turn eviction on as numbers do: an idle resource is evicted', async () => {
  const pool = createPool(itemFactory().factory, {
    max: 2,
    evictionRunIntervalMillis: '20' as unknown as number,
    idleTimeoutMillis: '30' as unknown as number,
  }) as Pool<unknown>;
  pools.push(pool);
  await pool.release(await pool.acquire());
  expect(pool.size).toBe(1);
  // Real timers: evicted after about 30 ms; the 10 s limit only keeps a loaded machine from failing it.
  for (const limit = Date.now() + 10_000; pool.size !== 0 && Date.now() < limit; ) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(pool.size).toBe(0);
});

test("the default import is the module's exports, as generic-pool's CommonJS module gives", () => {
  expect(genericPool.createPool).toBe(createPool);
  expect(genericPool.Pool).toBe(Pool);
});
