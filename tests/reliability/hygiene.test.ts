/**
 * Process hygiene: a pool leaves nothing behind. Each scenario runs in a fresh child process
 * (fixtures/hygiene-child.mjs) against a fresh compilation of src/: a pool with every
 * timer-using option on is worked through timeouts, aborts, failures, hanging hooks, leaks and
 * recycling, then disposed. The child reports
 * - `process.getActiveResourcesInfo()` right after dispose() resolved (must be no more than what
 *   the process had before the pool existed),
 * - every async resource (timers included, ref'd or not) created since the pool was built and
 *   still alive after dispose() (must be none: an unref'd timer does not hold the process open,
 *   but it still holds memory and fires into a disposed pool),
 * - how long the event loop took to empty after that.
 * "Exits by itself" is about a hang, not speed: the child is killed after a generous limit and
 * that counts as failure; the measured delay must stay under a second.
 */
import { buildSrc, fixture, lastJson, removeBuild, runNode } from './child.js';

interface HygieneResult {
  readonly scenario: string;
  readonly baseline: string[];
  readonly activeAfterDispose?: string[];
  readonly liveAfterDispose?: string[];
  readonly events: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly unexpected: string[];
  readonly stats?: {
    size: number;
    pending: number;
    created: number;
    validationFailed: number;
    destroyFailed: number;
    leaks: number;
    destroyed: Record<string, number>;
  };
  readonly exitCode: number;
  readonly exitDelayMs: number;
}

let build: string | undefined;
beforeAll(() => {
  build = buildSrc();
});
afterAll(() => removeBuild(build));

const LIMIT_MS = 15_000; // the whole child, workout included; a hang is killed here

const runs = new Map<string, Promise<HygieneResult>>();

/** Runs a scenario's child once; tests about the same scenario share the result. */
function run(scenario: string): Promise<HygieneResult> {
  let result = runs.get(scenario);
  if (result === undefined) {
    result = runNode([fixture('hygiene-child.mjs'), build!, scenario], LIMIT_MS).then((child) => {
      expect({ killed: child.killed, code: child.code, stderr: child.stderr }).toEqual({ killed: false, code: 0, stderr: '' });
      return lastJson<HygieneResult>(child);
    });
    runs.set(scenario, result);
  }
  return result;
}

/** What `after` holds beyond `before`, as a multiset difference. */
function extra(before: readonly string[], after: readonly string[]): string[] {
  const left = [...before];
  return after.filter((type) => {
    const i = left.indexOf(type);
    if (i === -1) return true;
    left.splice(i, 1);
    return false;
  });
}

describe.each(['busy', 'abandoned', 'idle'])('scenario %s', (scenario) => {
  test('after dispose(): nothing of the pool is alive and the process exits by itself within a second', async () => {
    const result = await run(scenario);
    expect(result.unexpected).toEqual([]);
    expect(extra(result.baseline, result.activeAfterDispose!)).toEqual([]);
    expect(result.liveAfterDispose).toEqual([]);
    expect(result.stats).toMatchObject({ size: 0, pending: 0 });
    expect(result.stats!.destroyed.total).toBe(result.stats!.created);
    expect(result.exitCode).toBe(0);
    expect(result.exitDelayMs).toBeLessThan(1_000);
  });
});

test('the busy workout really used every timer-driven path', async () => {
  const result = await run('busy');
  expect(result.unexpected).toEqual([]);
  const { errors, stats } = result;
  expect({
    acquireTimeouts: errors.ERR_ACQUIRE_TIMEOUT! > 0,
    aborts: errors.ABORT_ERR! > 0,
    failFast: errors.ERR_POOL_UNAVAILABLE! > 0,
    leaks: stats!.leaks > 0,
    recycled: stats!.destroyed.recycled! > 0,
    hungValidate: stats!.validationFailed > 0,
    hungReleaser: stats!.destroyFailed > 0,
    // the hung validate and the hung reset
    invalid: stats!.destroyed.invalid! >= 2,
  }).toEqual({
    acquireTimeouts: true,
    aborts: true,
    failFast: true,
    leaks: true,
    recycled: true,
    hungValidate: true,
    hungReleaser: true,
    invalid: true,
  });
});

test('a pool that is never disposed does not hold the process open either', async () => {
  const result = await run('undisposed');
  expect(result.unexpected).toEqual([]);
  expect(result.exitCode).toBe(0);
  expect(result.exitDelayMs).toBeLessThan(1_000);
});
