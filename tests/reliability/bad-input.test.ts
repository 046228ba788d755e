/**
 * Bad input: every invalid option and call gets the documented typed error, with a message that
 * names the option or argument (and the value, where one is shown), and the pool stays fully
 * usable afterwards. Constructor rows check that nothing half-built is left behind: a pool built
 * right after, with valid options, works.
 */
import {
  AsyncPool,
  NotBorrowedError,
  ObjectPool,
  PoolDisposedError,
  type AsyncPoolOptions,
  type ObjectPoolOptions,
} from '../../src/index.js';
import { tracked, type Res } from '../helpers.js';

type ErrorClass = typeof TypeError | typeof RangeError | typeof NotBorrowedError | typeof PoolDisposedError;

const factory = async (): Promise<Res> => ({ id: 0, closed: false });
const makeObject = (): { n: number } => ({ n: 0 });

/** Options with a deliberately wrong shape: the point is to get past the type checker. */
const bad = (options: Record<string, unknown>): AsyncPoolOptions<Res> => ({ factory, ...options }) as unknown as AsyncPoolOptions<Res>;
const badObjects = (options: Record<string, unknown>): ObjectPoolOptions<{ n: number }> =>
  ({ factory: makeObject, ...options }) as unknown as ObjectPoolOptions<{ n: number }>;
const any = <V>(value: unknown): V => value as V;

interface World {
  readonly pool: AsyncPool<Res>;
  readonly other: AsyncPool<Res>;
  readonly objects: ObjectPool<{ n: number }>;
}

/** One bad input: `call` makes it (sync or async); the outcome must be `error` naming `names`. */
interface Row {
  readonly what: string;
  readonly call: (world: World) => unknown;
  readonly error: ErrorClass;
  /** Substrings the message must contain: the option or argument, and the value. */
  readonly names: readonly string[];
  /** The call disposes the pool: check it stays consistently disposed instead of usable. */
  readonly disposes?: boolean;
}

const ctor = (what: string, options: unknown, error: ErrorClass, names: readonly string[]): Row => ({
  what: `new AsyncPool(${what})`,
  call: () => new AsyncPool(options as AsyncPoolOptions<Res>),
  error,
  names,
});

const objCtor = (what: string, options: unknown, error: ErrorClass, names: readonly string[]): Row => ({
  what: `new ObjectPool(${what})`,
  call: () => new ObjectPool(options as ObjectPoolOptions<{ n: number }>),
  error,
  names,
});

const rows: Row[] = [
  // ── AsyncPool options: shape ──
  ctor('undefined', undefined, TypeError, ['options', 'got undefined']),
  ctor('null', null, TypeError, ['options', 'got null']),
  ctor('a string', 'postgres://', TypeError, ['options', 'got "postgres://"']),
  ctor('{} (no factory)', {}, TypeError, ['"factory"', 'got undefined']),
  ctor('factory: a string', { factory: 'connect' }, TypeError, ['"factory"', 'got "connect"']),
  ctor('releaser: a number', bad({ releaser: 42 }), TypeError, ['"releaser"', 'got 42']),
  ctor('validate: a string', bad({ validate: 'yes' }), TypeError, ['"validate"', 'got "yes"']),
  ctor('reset: a number', bad({ reset: 1 }), TypeError, ['"reset"', 'got 1']),
  ctor('name: a number', bad({ name: 42 }), TypeError, ['"name"', 'got 42']),
  // ── unknown keys: typo protection, also against other pools' option names ──
  ctor('maxsize (typo)', bad({ maxsize: 10 }), TypeError, ['"maxsize"']),
  ctor('acquireTimeout (typo)', bad({ acquireTimeout: 1_000 }), TypeError, ['"acquireTimeout"']),
  ctor('idleTimeoutMillis (tarn/generic-pool name)', bad({ idleTimeoutMillis: 1_000 }), TypeError, ['"idleTimeoutMillis"']),
  ctor('max (generic-pool name)', bad({ max: 10 }), TypeError, ['"max"']),
  ctor('createRetry.minDelay (typo)', bad({ createRetry: { minDelay: 5 } }), TypeError, ['"createRetry.minDelay"']),
  // ── counts ──
  ctor('maxSize: 0', bad({ maxSize: 0 }), RangeError, ['"maxSize"', 'got 0']),
  ctor('maxSize: -1', bad({ maxSize: -1 }), RangeError, ['"maxSize"', 'got -1']),
  ctor('maxSize: 1.5', bad({ maxSize: 1.5 }), RangeError, ['"maxSize"', 'got 1.5']),
  ctor('maxSize: NaN', bad({ maxSize: NaN }), RangeError, ['"maxSize"', 'got NaN']),
  ctor('maxSize: -Infinity', bad({ maxSize: -Infinity }), RangeError, ['"maxSize"', 'got -Infinity']),
  ctor('maxSize: "10"', bad({ maxSize: '10' }), TypeError, ['"maxSize"', 'got "10"']),
  ctor('maxSize: 10n', bad({ maxSize: 10n }), TypeError, ['"maxSize"', 'got 10 (bigint)']),
  ctor('maxSize: null', bad({ maxSize: null }), TypeError, ['"maxSize"', 'got null']),
  ctor('maxIdle > maxSize', bad({ maxSize: 10, maxIdle: 11 }), RangeError, ['"maxIdle"', 'maxSize (10)', 'got 11']),
  ctor('maxIdle: -1', bad({ maxIdle: -1 }), RangeError, ['"maxIdle"', 'got -1']),
  ctor('minIdle > maxSize', bad({ maxSize: 10, minIdle: 11 }), RangeError, ['"minIdle"', 'maxSize (10)', 'got 11']),
  ctor('minIdle > maxIdle', bad({ maxSize: 10, maxIdle: 3, minIdle: 4 }), RangeError, ['"minIdle"', 'maxIdle (3)', 'got 4']),
  ctor('minIdle: Infinity', bad({ maxSize: Infinity, minIdle: Infinity }), RangeError, ['"minIdle"', 'got Infinity']),
  ctor('maxWaiters: -1', bad({ maxWaiters: -1 }), RangeError, ['"maxWaiters"', 'got -1']),
  ctor('maxWaiters: 2.5', bad({ maxWaiters: 2.5 }), RangeError, ['"maxWaiters"', 'got 2.5']),
  ctor('createConcurrency: 0', bad({ createConcurrency: 0 }), RangeError, ['"createConcurrency"', 'got 0']),
  ctor('failFastAfter: 0', bad({ failFastAfter: 0 }), RangeError, ['"failFastAfter"', 'got 0']),
  ctor('failFastAfter: 1.5', bad({ failFastAfter: 1.5 }), RangeError, ['"failFastAfter"', 'got 1.5']),
  // ── enums and fractions ──
  ctor('strategy: "random"', bad({ strategy: 'random' }), TypeError, ['"strategy"', 'got "random"']),
  ctor('strategy: "LIFO"', bad({ strategy: 'LIFO' }), TypeError, ['"strategy"', 'got "LIFO"']),
  ctor('recycleJitter: 1.5', bad({ recycleJitter: 1.5 }), RangeError, ['"recycleJitter"', 'got 1.5']),
  ctor('recycleJitter: NaN', bad({ recycleJitter: NaN }), RangeError, ['"recycleJitter"', 'got NaN']),
  ctor('recycleJitter: "0.1"', bad({ recycleJitter: '0.1' }), TypeError, ['"recycleJitter"', 'got "0.1"']),
  ctor('createRatePerSec: 0', bad({ createRatePerSec: 0 }), RangeError, ['"createRatePerSec"', 'got 0']),
  ctor('createRatePerSec: NaN', bad({ createRatePerSec: NaN }), RangeError, ['"createRatePerSec"', 'got NaN']),
  // ── durations ──
  ctor('recycleMs: 0', bad({ recycleMs: 0 }), RangeError, ['"recycleMs"', 'got 0']),
  ctor('acquireTimeoutMs: -5', bad({ acquireTimeoutMs: -5 }), RangeError, ['"acquireTimeoutMs"', 'got -5']),
  ctor('acquireTimeoutMs: NaN', bad({ acquireTimeoutMs: NaN }), RangeError, ['"acquireTimeoutMs"', 'got NaN']),
  ctor('acquireTimeoutMs: "100"', bad({ acquireTimeoutMs: '100' }), TypeError, ['"acquireTimeoutMs"', 'got "100"']),
  ctor('createTimeoutMs: 0', bad({ createTimeoutMs: 0 }), RangeError, ['"createTimeoutMs"', 'got 0']),
  ctor('validateTimeoutMs: 0', bad({ validateTimeoutMs: 0 }), RangeError, ['"validateTimeoutMs"', 'got 0']),
  ctor('validateIdleAfterMs: -1', bad({ validateIdleAfterMs: -1 }), RangeError, ['"validateIdleAfterMs"', 'got -1']),
  ctor('resetTimeoutMs: NaN', bad({ resetTimeoutMs: NaN }), RangeError, ['"resetTimeoutMs"', 'got NaN']),
  ctor('idleTimeoutMs: 0', bad({ idleTimeoutMs: 0 }), RangeError, ['"idleTimeoutMs"', 'got 0']),
  ctor('destroyTimeoutMs: -1', bad({ destroyTimeoutMs: -1 }), RangeError, ['"destroyTimeoutMs"', 'got -1']),
  ctor('leakDetectionMs: 0', bad({ leakDetectionMs: 0 }), RangeError, ['"leakDetectionMs"', 'got 0']),
  ctor('createRetry: null', bad({ createRetry: null }), TypeError, ['"createRetry"', 'got null']),
  ctor('createRetry: 100', bad({ createRetry: 100 }), TypeError, ['"createRetry"', 'got 100']),
  ctor('createRetry.minDelayMs: 0', bad({ createRetry: { minDelayMs: 0 } }), RangeError, ['"createRetry.minDelayMs"', 'got 0']),
  ctor('createRetry.minDelayMs: Infinity', bad({ createRetry: { minDelayMs: Infinity } }), RangeError, ['"createRetry.minDelayMs"', 'got Infinity']),
  ctor('createRetry.maxDelayMs < minDelayMs', bad({ createRetry: { minDelayMs: 100, maxDelayMs: 10 } }), RangeError, ['"createRetry.maxDelayMs"', 'minDelayMs (100)', 'got 10']),

  // ── acquire() / use() / borrow() arguments ──
  { what: 'acquire("fast")', call: ({ pool }) => pool.acquire(any('fast')), error: TypeError, names: ['acquire()', 'options', 'got "fast"'] },
  { what: 'acquire(null)', call: ({ pool }) => pool.acquire(any(null)), error: TypeError, names: ['acquire()', 'options', 'got null'] },
  { what: 'acquire({ timeoutMs: -1 })', call: ({ pool }) => pool.acquire({ timeoutMs: -1 }), error: RangeError, names: ['"timeoutMs"', 'got -1'] },
  { what: 'acquire({ timeoutMs: 0 })', call: ({ pool }) => pool.acquire({ timeoutMs: 0 }), error: RangeError, names: ['"timeoutMs"', 'got 0'] },
  { what: 'acquire({ timeoutMs: NaN })', call: ({ pool }) => pool.acquire({ timeoutMs: NaN }), error: RangeError, names: ['"timeoutMs"', 'got NaN'] },
  { what: 'acquire({ timeoutMs: "5" })', call: ({ pool }) => pool.acquire({ timeoutMs: any('5') }), error: TypeError, names: ['"timeoutMs"', 'got "5"'] },
  { what: 'acquire({ timeout: 5 }) (typo)', call: ({ pool }) => pool.acquire(any({ timeout: 5 })), error: TypeError, names: ['"timeout"'] },
  { what: 'acquire({ signal: {} })', call: ({ pool }) => pool.acquire({ signal: any({}) }), error: TypeError, names: ['"signal"', 'AbortSignal', 'got an object'] },
  { what: 'acquire({ signal: "abort" })', call: ({ pool }) => pool.acquire({ signal: any('abort') }), error: TypeError, names: ['"signal"', 'got "abort"'] },
  {
    what: 'acquire({ signal: a look-alike with addEventListener })',
    call: ({ pool }) => pool.acquire({ signal: any({ aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} }) }),
    error: TypeError,
    names: ['"signal"', 'AbortSignal'],
  },
  {
    what: 'acquire({ signal: an AbortController instead of its signal })',
    call: ({ pool }) => pool.acquire({ signal: any(new AbortController()) }),
    error: TypeError,
    names: ['"signal"', 'AbortSignal'],
  },
  { what: 'use("not a function")', call: ({ pool }) => pool.use(any('not a function')), error: TypeError, names: ['use()', '"fn"', 'got "not a function"'] },
  { what: 'use(fn, { timeoutMs: -1 })', call: ({ pool }) => pool.use(() => 1, { timeoutMs: -1 }), error: RangeError, names: ['"timeoutMs"', 'got -1'] },
  { what: 'borrow({ signal: 1 })', call: ({ pool }) => pool.borrow({ signal: any(1) }), error: TypeError, names: ['"signal"', 'got 1'] },

  // ── release() / destroy() of what is not borrowed ──
  { what: 'release(undefined)', call: ({ pool }) => pool.release(any(undefined)), error: NotBorrowedError, names: ['release()'] },
  { what: 'release(null)', call: ({ pool }) => pool.release(any(null)), error: NotBorrowedError, names: ['release()'] },
  { what: 'release(a foreign object)', call: ({ pool }) => pool.release({ id: 999, closed: false }), error: NotBorrowedError, names: ['release()'] },
  {
    what: 'release() of a resource borrowed from another pool',
    call: async ({ pool, other }) => {
      const resource = await other.acquire();
      try {
        pool.release(resource);
      } finally {
        other.release(resource);
      }
    },
    error: NotBorrowedError,
    names: ['release()'],
  },
  {
    what: 'release() twice',
    call: async ({ pool }) => {
      const resource = await pool.acquire();
      pool.release(resource);
      pool.release(resource);
    },
    error: NotBorrowedError,
    names: ['release()'],
  },
  {
    what: 'release() after destroy()',
    call: async ({ pool }) => {
      const resource = await pool.acquire();
      await pool.destroy(resource);
      pool.release(resource);
    },
    error: NotBorrowedError,
    names: ['release()'],
  },
  { what: 'destroy(undefined)', call: ({ pool }) => pool.destroy(any(undefined)), error: NotBorrowedError, names: ['destroy()'] },
  {
    what: 'destroy() twice',
    call: async ({ pool }) => {
      const resource = await pool.acquire();
      await pool.destroy(resource);
      await pool.destroy(resource);
    },
    error: NotBorrowedError,
    names: ['destroy()'],
  },
  {
    what: 'lease.release() twice',
    call: async ({ pool }) => {
      const lease = await pool.borrow();
      lease.release();
      lease.release();
    },
    error: NotBorrowedError,
    names: ['release()'],
  },

  // ── prefill(count) ──
  { what: 'prefill(-1)', call: ({ pool }) => pool.prefill(-1), error: RangeError, names: ['"count"', 'got -1'] },
  { what: 'prefill(1.5)', call: ({ pool }) => pool.prefill(1.5), error: RangeError, names: ['"count"', 'got 1.5'] },
  { what: 'prefill(NaN)', call: ({ pool }) => pool.prefill(NaN), error: RangeError, names: ['"count"', 'got NaN'] },
  { what: 'prefill(Infinity)', call: ({ pool }) => pool.prefill(Infinity), error: RangeError, names: ['"count"', 'got Infinity'] },
  { what: 'prefill("2")', call: ({ pool }) => pool.prefill(any('2')), error: TypeError, names: ['"count"', 'got "2"'] },
  { what: 'prefill(maxIdle + 1)', call: ({ pool }) => pool.prefill(3), error: RangeError, names: ['"count"', 'maxIdle (2)', 'got 3'] },

  // ── dispose(options) ──
  { what: 'dispose("now")', call: ({ pool }) => pool.dispose(any('now')), error: TypeError, names: ['dispose()', 'got "now"'] },
  { what: 'dispose({ timeoutMs: 0 })', call: ({ pool }) => pool.dispose({ timeoutMs: 0 }), error: RangeError, names: ['"timeoutMs"', 'got 0'] },
  { what: 'dispose({ timeoutMs: -1 })', call: ({ pool }) => pool.dispose({ timeoutMs: -1 }), error: RangeError, names: ['"timeoutMs"', 'got -1'] },
  { what: 'dispose({ timeout: 1000 }) (typo)', call: ({ pool }) => pool.dispose(any({ timeout: 1_000 })), error: TypeError, names: ['dispose()', '"timeout"'] },

  // ── events ──
  { what: 'on("eror") (typo)', call: ({ pool }) => pool.on(any<'error'>('eror'), () => {}), error: TypeError, names: ['"eror"'] },
  { what: 'on("error", a string)', call: ({ pool }) => pool.on('error', any('log')), error: TypeError, names: ['listener'] },

  // ── calls after dispose() ──
  // [the call, the operation its message names (use() and borrow() acquire first)]
  ...(
    [
      ['acquire()', 'acquire()', (pool: AsyncPool<Res>) => pool.acquire()],
      ['prefill()', 'prefill()', (pool: AsyncPool<Res>) => pool.prefill()],
      ['use()', 'acquire()', (pool: AsyncPool<Res>) => pool.use(() => 1)],
      ['borrow()', 'acquire()', (pool: AsyncPool<Res>) => pool.borrow()],
    ] as const
  ).map(([what, operation, call]): Row => ({
    what: `${what} after dispose()`,
    call: async ({ pool }) => {
      await pool.dispose();
      return call(pool);
    },
    error: PoolDisposedError,
    names: [operation, 'disposed'],
    disposes: true,
  })),
  {
    what: 'release(a foreign object) after dispose()',
    call: async ({ pool }) => {
      await pool.dispose();
      pool.release({ id: 999, closed: false });
    },
    error: NotBorrowedError,
    names: ['release()'],
    disposes: true,
  },

  // ── ObjectPool ──
  objCtor('undefined', undefined, TypeError, ['options', 'got undefined']),
  objCtor('{} (no factory)', {}, TypeError, ['"factory"', 'got undefined']),
  objCtor('maxIdle: -1', badObjects({ maxIdle: -1 }), RangeError, ['"maxIdle"', 'got -1']),
  objCtor('maxIdle: 1.5', badObjects({ maxIdle: 1.5 }), RangeError, ['"maxIdle"', 'got 1.5']),
  objCtor('maxIdle: "5"', badObjects({ maxIdle: '5' }), TypeError, ['"maxIdle"', 'got "5"']),
  objCtor('reset: a string', badObjects({ reset: 'clear' }), TypeError, ['"reset"', 'got "clear"']),
  objCtor('maxSize (an AsyncPool option)', badObjects({ maxSize: 10 }), TypeError, ['"maxSize"']),
  { what: 'ObjectPool release(undefined)', call: ({ objects }) => objects.release(any(undefined)), error: NotBorrowedError, names: ['release()'] },
  { what: 'ObjectPool release(a foreign object)', call: ({ objects }) => objects.release({ n: 1 }), error: NotBorrowedError, names: ['release()'] },
  {
    what: 'ObjectPool release() twice',
    call: ({ objects }) => {
      const object = objects.acquire();
      objects.release(object);
      objects.release(object);
    },
    error: NotBorrowedError,
    names: ['release()'],
  },
  { what: 'ObjectPool use("not a function")', call: ({ objects }) => objects.use(any('not a function')), error: TypeError, names: ['use()', '"fn"', 'got "not a function"'] },
];

/** Runs `call` and returns what it threw or rejected with (or fails if it succeeded). */
async function failureOf(call: () => unknown): Promise<unknown> {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    return error;
  }
  try {
    await result;
  } catch (error) {
    return error;
  }
  throw new Error('the call succeeded');
}

let world: World;
let t: ReturnType<typeof tracked>;
beforeEach(() => {
  t = tracked();
  world = {
    pool: new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 2 }),
    other: new AsyncPool({ factory: t.factory, releaser: t.releaser, maxSize: 1 }),
    objects: new ObjectPool({ factory: makeObject, maxIdle: 2 }),
  };
});
afterEach(async () => {
  await Promise.all([world.pool.dispose(), world.other.dispose()]);
  // Whatever the row did, every resource created was closed exactly once.
  expect(new Set(t.released).size).toBe(t.released.length);
  expect(t.released.length).toBe(t.created.length);
});

test('the table has at least 40 rows', () => {
  expect(rows.length).toBeGreaterThanOrEqual(40);
});

test.each(rows.map((row) => [row.what, row]))('%s', async (_, row) => {
  const error = await failureOf(() => row.call(world));
  expect(error).toBeInstanceOf(row.error);
  if (error instanceof NotBorrowedError) expect(error.code).toBe('ERR_NOT_BORROWED');
  if (error instanceof PoolDisposedError) expect(error.code).toBe('ERR_POOL_DISPOSED');
  const message = (error as Error).message;
  for (const name of row.names) expect({ message, names: message.includes(name) }).toEqual({ message, names: true });

  const { pool, objects } = world;
  if (row.disposes === true) {
    // Consistently disposed: the next acquire is refused the same way, and nothing is left open.
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolDisposedError);
    expect(pool.size).toBe(0);
    return;
  }
  // Still fully usable: a round trip through every entry point, and the counts add up.
  const first = await pool.acquire();
  const second = await pool.acquire({ timeoutMs: 1_000 });
  expect(pool.borrowed).toBe(2);
  pool.release(first);
  await pool.destroy(second);
  expect(await pool.use((r) => r.id)).toBe(first.id);
  const lease = await pool.borrow();
  lease.release();
  await pool.prefill(2);
  expect({ size: pool.size, idle: pool.idle, borrowed: pool.borrowed, pending: pool.pending }).toEqual({ size: 2, idle: 2, borrowed: 0, pending: 0 });
  const object = objects.acquire();
  objects.release(object);
  expect(objects.use((o) => o)).toBe(object);
  expect(objects.borrowed).toBe(0);
  // A constructor row leaves nothing half-built: valid options still build a working pool.
  const fresh = new AsyncPool({ factory: t.factory, releaser: t.releaser });
  fresh.release(await fresh.acquire());
  await fresh.dispose();
});

test('use() with a non-function fails before acquiring anything', async () => {
  const { pool } = world;
  const held = [await pool.acquire(), await pool.acquire()]; // at maxSize: an acquire would wait
  await expect(pool.use(any('not a function'))).rejects.toBeInstanceOf(TypeError);
  expect({ pending: pool.pending, acquired: pool.stats().acquired }).toEqual({ pending: 0, acquired: 2 });
  for (const resource of held) pool.release(resource);
});
