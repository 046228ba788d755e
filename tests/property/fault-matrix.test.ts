/**
 * Fault matrix: every combination of factory outcome × releaser outcome × validate outcome ×
 * caller behaviour, for pools of one and two resources. Each combination runs the same short
 * scenario (contention, hand-offs with validation, timeouts, aborts, use() with a throwing body,
 * destroy, clear, late arrivals) and the harness checks every invariant after each step and at
 * the end (see harness.ts).
 */
import { Harness, withSandbox, type Command, type Outcome, type PoolConfig } from './harness.js';

const FACTORY: readonly Outcome[] = ['ok', 'throw', 'reject', 'hang', 'slowOk'];
const RELEASER: readonly Outcome[] = ['ok', 'throw', 'reject', 'hang', 'slowOk'];
const VALIDATE: readonly Outcome[] = ['ok', 'false', 'throw', 'reject', 'hang', 'slowOk'];
const CALLERS = ['waits', 'times out', 'aborts'] as const;
type Caller = (typeof CALLERS)[number];
const SIZES = [1, 2] as const;

function config(maxSize: number): PoolConfig {
  return {
    maxSize,
    maxIdle: maxSize,
    minIdle: 0,
    strategy: 'lifo',
    acquireTimeoutMs: 25, // callers that time out use the pool's shared deadline timer
    maxWaiters: Infinity,
    createConcurrency: undefined,
    createTimeoutMs: 50,
    validate: true,
    validateTimeoutMs: 20,
    validateIdleAfterMs: 0,
    reset: false,
    resetTimeoutMs: 50,
    destroyTimeoutMs: 20,
    idleTimeoutMs: Infinity,
    recycleMs: 3_600_000,
    failFastAfter: Infinity,
    leakDetectionMs: Infinity,
  };
}

/** The scenario every combination runs. */
function scenario(maxSize: number, caller: Caller): Command[] {
  const timeoutMs = caller === 'times out' ? undefined : Infinity;
  const acquire: Command = { t: 'acquire', timeoutMs, signal: caller === 'aborts' ? 'signal' : 'none' };
  const times = (n: number, cmd: Command): Command[] => Array.from({ length: n }, () => cmd);
  const abortAll: Command[] = caller === 'aborts' ? times(maxSize + 1, { t: 'abort', k: 0 }) : [];
  return [
    // More callers than resources: the last one queues.
    ...times(maxSize + 1, acquire),
    { t: 'advance', ms: 5 },
    ...abortAll,
    // Releases hand resources straight to waiters, validating them first.
    ...times(maxSize, { t: 'release', k: 0 }),
    { t: 'advance', ms: 10 },
    // A resource taken from idle is validated too.
    acquire,
    { t: 'advance', ms: 30 },
    ...abortAll,
    ...times(maxSize + 1, { t: 'release', k: 0 }),
    { t: 'use', timeoutMs, signal: false, body: 'throw' },
    acquire,
    { t: 'advance', ms: 10 },
    { t: 'destroy', k: 0 },
    { t: 'clear' },
    acquire,
    { t: 'advance', ms: 60 },
    // Calls that hung past their timeout now settle: late resources must still be closed.
    ...times(3, { t: 'settleHung', k: 0, result: 'ok' }),
    ...abortAll,
    ...times(maxSize + 1, { t: 'release', k: 0 }),
    { t: 'advance', ms: 20 },
  ];
}

const combinations: [number, Outcome, Outcome, Outcome, Caller][] = [];
for (const size of SIZES) {
  for (const factory of FACTORY) {
    for (const releaser of RELEASER) {
      for (const validate of VALIDATE) {
        for (const caller of CALLERS) combinations.push([size, factory, releaser, validate, caller]);
      }
    }
  }
}

test('the matrix covers every combination', () => {
  expect(combinations).toHaveLength(SIZES.length * FACTORY.length * RELEASER.length * VALIDATE.length * CALLERS.length);
  expect(new Set(combinations.map((c) => c.join())).size).toBe(combinations.length);
});

test.each(combinations)('maxSize %i: factory %s, releaser %s, validate %s, caller %s', async (size, factory, releaser, validate, caller) => {
  await withSandbox(size, async () => {
    const h = new Harness(config(size), { factory: [factory], releaser: [releaser], validate: [validate], reset: ['ok'] });
    for (const command of scenario(size, caller)) await h.exec(command);
    await h.finish();
  });
});
