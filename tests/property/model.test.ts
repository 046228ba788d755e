/**
 * Model-based property test: random pool configurations, random callback outcomes (succeed,
 * throw, reject, hang until the test settles the call, slow, late, settle after a burst of promise
 * callbacks; a factory that returns a resource already in the pool or a thenable that fulfils
 * twice), user code that calls back into the pool from listeners and callbacks (acquire, release,
 * destroy, abort, clear, dispose, or release/destroy of the resource it was called about), durations
 * near and above 2^31 ms, and random command sequences (acquire with or without timeout/abort,
 * use() with a throwing body, with or without a priority, release, destroy, prefill, clear,
 * dispose, clock advances, misuse, resize up and down). The harness (harness.ts) checks every invariant after each
 * step and at the end of each sequence.
 *
 * `POOLKEEPER_FC_RUNS` sets the number of sequences (2 000 by default; `npm run test:deep` runs
 * 100 000). A failure prints the seed and path that replay it through `POOLKEEPER_FC_SEED` and
 * `POOLKEEPER_FC_PATH`.
 */
import fc from 'fast-check';
import {
  assertProperty,
  FACTORY_OUTCOMES,
  Harness,
  PLAIN_OUTCOMES,
  runCount,
  timeoutFor,
  VALIDATE_OUTCOMES,
  withSandbox,
  type Command,
  type Nested,
  type Outcome,
  type Point,
  type PoolConfig,
  type Reentry,
  type Scripts,
} from './harness.js';

const DEFAULT_RUNS = 2_000;

/** Durations at and past the largest delay setTimeout honours (2^31−1 ms): they must never fire early. */
const LONG = [2 ** 31 - 1, 2 ** 31, 2 ** 33] as const;

const configArb: fc.Arbitrary<PoolConfig> = fc
  .record({
    maxSize: fc.integer({ min: 1, max: 3 }),
    idleGap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 })),
    minIdle: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
    strategy: fc.constantFrom('lifo' as const, 'fifo' as const),
    acquireTimeoutMs: fc.constantFrom(Infinity, 30, 60, 100, ...LONG),
    maxWaiters: fc.oneof({ weight: 3, arbitrary: fc.constant(Infinity) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }) }),
    createConcurrency: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(1) }),
    createTimeoutMs: fc.constantFrom(50, 20, 90, Infinity, 2 ** 31),
    validate: fc.boolean(),
    validateTimeoutMs: fc.constantFrom(20, 50, Infinity, 2 ** 31),
    validateIdleAfterMs: fc.constantFrom(0, 0, 30),
    reset: fc.boolean(),
    resetTimeoutMs: fc.constantFrom(20, 50, Infinity, 2 ** 31),
    destroyTimeoutMs: fc.constantFrom(20, 50, Infinity, 2 ** 31),
    idleTimeoutMs: fc.constantFrom(Infinity, 40, 2 ** 31),
    recycleMs: fc.constantFrom(3_600_000, 60, 2 ** 31),
    failFastAfter: fc.constantFrom(Infinity, Infinity, 2),
    leakDetectionMs: fc.constantFrom(Infinity, 50, 2 ** 31),
    priorities: fc.constantFrom(undefined, undefined, 2, 3),
    onCreateError: fc.constantFrom(undefined, undefined, 'retry' as const),
    onUseError: fc.constantFrom(undefined, undefined, 'destroy' as const),
  })
  .map(({ idleGap, minIdle, priorities, onCreateError, onUseError, ...c }): PoolConfig => {
    const maxIdle = Math.max(0, c.maxSize - idleGap);
    return {
      ...c,
      maxIdle,
      minIdle: Math.min(minIdle, maxIdle),
      ...(priorities === undefined ? {} : { priorities }),
      // 'retry' with no deadline waits as long as the factory fails: only with a finite timeout.
      ...(onCreateError === undefined || c.acquireTimeoutMs === Infinity ? {} : { onCreateError }),
      ...(onUseError === undefined ? {} : { onUseError }),
    };
  });

/** Mostly successes, so that sequences get somewhere; shrinks towards 'ok'. */
function scriptArb(outcomes: readonly Outcome[]): fc.Arbitrary<Outcome[]> {
  const outcome = fc.oneof({ weight: 3, arbitrary: fc.constant<Outcome>('ok') }, { weight: 2, arbitrary: fc.constantFrom(...outcomes) });
  return fc.array(outcome, { minLength: 1, maxLength: 6 });
}

const callTimeout = fc.constantFrom(undefined, undefined, 25, 70, Infinity, ...LONG);
const k = fc.nat({ max: 7 });

const pointArb: fc.Arbitrary<Point> = fc.constantFrom('create', 'acquire', 'release', 'destroy', 'factory', 'validate', 'reset', 'releaser');
const nestedArb: fc.Arbitrary<Nested> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('acquire' as const), timeoutMs: callTimeout }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('release' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('destroy' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('abort' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('clear' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('dispose' as const) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('same' as const), op: fc.constantFrom('release' as const, 'destroy' as const) }) },
);
const reentryArb: fc.Arbitrary<Reentry> = fc.record({ at: pointArb, cmd: nestedArb, times: fc.integer({ min: 1, max: 3 }) });

const scriptsArb: fc.Arbitrary<Scripts> = fc.record({
  factory: scriptArb(FACTORY_OUTCOMES),
  releaser: scriptArb(PLAIN_OUTCOMES),
  validate: scriptArb(VALIDATE_OUTCOMES),
  reset: scriptArb(PLAIN_OUTCOMES),
  // Half the runs have user code that calls back into the pool.
  reentry: fc.oneof(fc.constant([]), fc.array(reentryArb, { minLength: 1, maxLength: 3 })),
});

/** A call's priority; taken modulo the pool's `priorities`, ignored without them. */
const priority = fc.constantFrom(undefined, undefined, 0, 1, 2);

// Weighted so that pools get busy (acquire, release, time) and dispose() comes late, if at all.
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ t: fc.constant('acquire' as const), timeoutMs: callTimeout, signal: fc.constantFrom('none' as const, 'none' as const, 'signal' as const, 'aborted' as const), priority }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('use' as const), timeoutMs: callTimeout, signal: fc.boolean(), body: fc.constantFrom('return' as const, 'throw' as const, 'slowReturn' as const, 'slowThrow' as const, 'release' as const, 'destroy' as const), priority }) },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('release' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('destroy' as const), k }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('abort' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('prefill' as const), count: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('clear' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('dispose' as const), timeoutMs: fc.constantFrom(undefined, 30, 80, 2 ** 31) }) },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constantFrom(7, 20, 50, 113, 400)) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('settleHung' as const), k, result: fc.constantFrom('ok' as const, 'fail' as const, 'false' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('misuse' as const), k, op: fc.constantFrom('release' as const, 'destroy' as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('resize' as const), maxSize: fc.integer({ min: 1, max: 4 }), idleGap: fc.constantFrom(0, 0, 1, 2), minIdle: fc.constantFrom(0, 0, 1, 2) }) },
);

const TEST_NAME = 'random command sequences keep every invariant';
const runs = runCount(DEFAULT_RUNS);

test(TEST_NAME, async () => {
  const property = fc.asyncProperty(
    configArb,
    scriptsArb,
    fc.array(commandArb, { maxLength: 30, size: 'medium' }),
    fc.integer(),
    async (config, scripts, commands, randomSeed) => {
      await withSandbox(randomSeed, async () => {
        const h = new Harness(config, scripts);
        for (const command of commands) await h.exec(command);
        await h.finish();
      });
    },
  );
  await assertProperty(property, { file: 'tests/property/model.test.ts', test: TEST_NAME }, DEFAULT_RUNS);
}, timeoutFor(runs));
