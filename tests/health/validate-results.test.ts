/**
 * What validate may return: `true` passes; `false`, a throw, a rejection or a timeout fail. Any
 * other value (`'PONG'`, `1`, `undefined`) is a bug in the validator: the resource is closed as
 * invalid and a TypeError saying what was returned is reported through the `error` event.
 */
import { AsyncPool, type PoolEvents } from '../../src/index.js';
import { flush, tracked, type Res } from '../helpers.js';

function poolWith(validate: (r: Res) => unknown, extra: { validateOnCreate?: boolean; maxSize?: number } = {}) {
  const f = tracked();
  const errors: PoolEvents<Res>['error'][] = [];
  const reasons: string[] = [];
  const pool = new AsyncPool<Res>({
    factory: f.factory,
    releaser: f.releaser,
    validate: validate as (r: Res) => boolean,
    ...extra,
  });
  pool.on('error', (e) => errors.push(e));
  pool.on('destroy', (e) => reasons.push(e.reason));
  return { f, pool, errors, reasons };
}

test.each([
  ['a string', 'PONG', '"PONG"'],
  ['a number', 1, '1'],
  ['undefined', undefined, 'undefined'],
  ['null', null, 'null'],
  ['an object', {}, 'an object'],
])('a validator returning %s fails the resource with a TypeError event saying what it returned', async (_label, value, shown) => {
  const { pool, errors, reasons } = poolWith(() => value);
  const a = await pool.acquire();
  pool.release(a);
  const b = await pool.acquire();
  expect(b).not.toBe(a);
  expect(reasons).toEqual(['invalid']);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.operation).toBe('validate');
  expect(errors[0]!.resource).toBe(a);
  expect(errors[0]!.error).toBeInstanceOf(TypeError);
  expect(String((errors[0]!.error as Error).message)).toContain(`returned ${shown}`);
  pool.release(b);
  await pool.dispose();
});

test('a promise resolving to a non-boolean fails the same way', async () => {
  const { pool, errors } = poolWith(async () => 'PONG');
  const a = await pool.acquire();
  pool.release(a);
  const b = await pool.acquire();
  expect(b).not.toBe(a);
  expect((errors[0]!.error as Error).message).toContain('"PONG"');
  pool.release(b);
  await pool.dispose();
});

test('false is a silent failure: closed as invalid, no error event', async () => {
  const { pool, errors, reasons } = poolWith(() => false);
  const a = await pool.acquire();
  pool.release(a);
  pool.release(await pool.acquire());
  expect(reasons).toEqual(['invalid']);
  expect(errors).toEqual([]);
  expect(pool.stats().validationFailed).toBe(1);
  await pool.dispose();
});

test('a thenable whose then throws counts as a failed validation with that error', async () => {
  const boom = new Error('then blew up');
  const { pool, errors } = poolWith(() => ({ then: () => { throw boom; } }));
  const a = await pool.acquire();
  pool.release(a);
  const b = await pool.acquire();
  expect(b).not.toBe(a);
  expect(errors.map((e) => e.error)).toEqual([boom]);
  pool.release(b);
  await pool.dispose();
});

describe('validateOnCreate', () => {
  test('off by default: a fresh resource is handed out without validation', async () => {
    const seen: number[] = [];
    const { pool } = poolWith((r) => (seen.push(r.id), true));
    pool.release(await pool.acquire());
    expect(seen).toEqual([]);
    await pool.dispose();
  });

  test('on: a fresh resource is validated before it is handed out', async () => {
    const seen: number[] = [];
    const { pool } = poolWith((r) => (seen.push(r.id), true), { validateOnCreate: true });
    const a = await pool.acquire();
    expect(seen).toEqual([a.id]);
    pool.release(a);
    await pool.dispose();
  });

  test('on: a fresh resource that fails is closed and the caller gets the next one', async () => {
    const { f, pool, reasons } = poolWith((r) => r.id > 1, { validateOnCreate: true });
    const a = await pool.acquire();
    expect(a.id).toBe(2);
    expect(reasons).toEqual(['invalid']);
    expect(f.created).toHaveLength(2);
    pool.release(a);
    await pool.dispose();
  });

  test('on: a fresh resource nobody waits for (prefill) is validated when first handed out', async () => {
    const seen: number[] = [];
    const { pool } = poolWith((r) => (seen.push(r.id), true), { validateOnCreate: true });
    await pool.prefill(1);
    expect(seen).toEqual([]);
    const a = await pool.acquire();
    expect(seen).toEqual([a.id]);
    pool.release(a);
    await flush();
    await pool.dispose();
  });

  test('validateOnCreate without validate is rejected', () => {
    expect(() => new AsyncPool({ factory: () => ({}), validateOnCreate: true })).toThrow(/"validateOnCreate"/);
  });

  test('a non-boolean validateOnCreate is rejected', () => {
    expect(() => new AsyncPool({ factory: () => ({}), validate: () => true, validateOnCreate: 1 as unknown as boolean })).toThrow(TypeError);
  });
});
