/**
 * The timer rule, seen from a process of its own (fixtures/keep-alive-*.{mjs,cjs}): while an
 * `acquire()` with a finite timeout is pending, the pool keeps the process alive until it settles;
 * an idle pool, a disposed pool and a waiter without a timeout never do. A pending `dispose()`
 * holds it until its bounded waits (destroyTimeoutMs, createTimeoutMs, its own timeoutMs) end.
 * Each scenario runs in ESM (top-level await: a process that runs out of work with the await
 * pending exits with code 13) and in CommonJS (it exits with code 0, the lines after the await
 * never printed).
 *
 * Timings are hang detectors, never speed checks: a child still running after LIMIT_MS is killed.
 */
import { buildSrc, fixture, removeBuild, runNode, type ChildResult } from './child.js';

const builds: Record<'esm' | 'cjs', string | undefined> = { esm: undefined, cjs: undefined };
beforeAll(() => {
  builds.esm = buildSrc('esm');
  builds.cjs = buildSrc('cjs');
});
afterAll(() => {
  removeBuild(builds.esm);
  removeBuild(builds.cjs);
});

const LIMIT_MS = 20_000;

function run(format: 'esm' | 'cjs', scenario: string, limitMs = LIMIT_MS): Promise<ChildResult> {
  const script = fixture(format === 'esm' ? 'keep-alive-child.mjs' : 'keep-alive-child.cjs');
  return runNode([script, builds[format]!, scenario], limitMs);
}

function lines(child: ChildResult): unknown[] {
  return child.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
}

/** What a process that ran out of work with an await pending exits with. */
const STRANDED = { esm: 13, cjs: 0 } as const;

describe.each(['esm', 'cjs'] as const)('%s', (format) => {
  test('a script whose only pending work is an acquire with a timeout gets its AcquireTimeoutError', async () => {
    const child = await run(format, 'call-timeout');
    expect({ killed: child.killed, code: child.code }).toEqual({ killed: false, code: 0 });
    const [first, last] = lines(child) as [{ outcome: string; waitedMs: number }, unknown];
    expect(first.outcome).toBe('ERR_ACQUIRE_TIMEOUT');
    expect(first.waitedMs).toBeGreaterThanOrEqual(199);
    expect(last).toEqual({ end: true });
  }, 30_000);

  test('the same with the shared deadline (acquireTimeoutMs)', async () => {
    const child = await run(format, 'shared-timeout');
    expect({ killed: child.killed, code: child.code }).toEqual({ killed: false, code: 0 });
    expect(lines(child)).toEqual([{ outcome: 'ERR_ACQUIRE_TIMEOUT' }, { end: true }]);
  }, 30_000);

  test('a waiter with no timeout does not hold the process', async () => {
    const child = await run(format, 'no-timeout');
    expect({ killed: child.killed, code: child.code }).toEqual({ killed: false, code: STRANDED[format] });
    expect(lines(child)).toEqual([{ waiting: true }]);
  }, 30_000);

  test('an idle pool (every timer option on, a rate limit too) does not hold the process', async () => {
    const child = await run(format, 'idle');
    expect({ killed: child.killed, code: child.code }).toEqual({ killed: false, code: 0 });
    expect(lines(child)).toEqual([{ idle: 1 }, { end: true }]);
  }, 30_000);

  test('once the waiters with a timeout are gone, nothing holds the process', async () => {
    const child = await run(format, 'after-timeout');
    expect({ killed: child.killed, code: child.code }).toEqual({ killed: false, code: 0 });
    expect(lines(child)).toEqual([{ served: true }, { end: true }]);
  }, 30_000);

  test('a disposed pool, whose waiters had timeouts, does not hold the process', async () => {
    const child = await run(format, 'disposed');
    expect({ killed: child.killed, code: child.code }).toEqual({ killed: false, code: 0 });
    expect(lines(child)).toEqual([
      { waiters: ['ERR_POOL_DISPOSED', 'ERR_POOL_DISPOSED'] },
      { disposed: true },
      { end: true },
    ]);
  }, 30_000);

  test('a caller waiting for a budget permit that never comes gets its AcquireTimeoutError; the request is withdrawn', async () => {
    const child = await run(format, 'budget-wait');
    expect({ killed: child.killed, code: child.code }).toEqual({ killed: false, code: 0 });
    expect(lines(child)).toEqual([{ outcome: 'ERR_ACQUIRE_TIMEOUT', withdrawn: true }, { end: true }]);
  }, 30_000);

  test('an idle pool with a budget does not hold the process', async () => {
    const child = await run(format, 'budget-idle');
    expect({ killed: child.killed, code: child.code }).toEqual({ killed: false, code: 0 });
    expect(lines(child)).toEqual([{ idle: 1 }, { end: true }]);
  }, 30_000);

  test('poolkeeper/pg: a pending connect() with connectionTimeoutMillis settles with the timeout error', async () => {
    const child = await run(format, 'pg-connect-timeout');
    expect({ killed: child.killed, code: child.code, stderr: child.stderr }).toMatchObject({ killed: false, code: 0 });
    const [first, last] = lines(child) as [{ outcome: string }, unknown];
    expect(first.outcome).toMatch(/timeout/);
    expect(last).toEqual({ end: true });
  }, 30_000);

  test.each(['dispose-hung-releaser', 'dispose-timeout', 'dispose-hung-factory'])(
    'a pending dispose() settles when its only bounded wait ends (%s)',
    async (scenario) => {
      const child = await run(format, scenario);
      expect({ killed: child.killed, code: child.code, stderr: child.stderr }).toMatchObject({ killed: false, code: 0 });
      const out = lines(child);
      expect(out[out.length - 1]).toEqual({ end: true });
      expect(out[0]).toMatchObject({ disposed: true });
    },
    30_000,
  );
});

test('a timeout above 2^31-1 ms is a finite deadline: it holds the process rather than firing after 1 ms', async () => {
  const child = await run('esm', 'long-timeout', 3_000);
  // Killed by the limit: still waiting, as a 24.8-day timeout should be after 3 s.
  expect(child.killed).toBe(true);
  expect(lines(child)).toEqual([{ waiting: true }]);
}, 30_000);
