/**
 * The CI-sized soak: the same core as `npm run soak` (scripts/soak-core.ts), 200 000 measured
 * cycles instead of 10 million, with the heap bound scaled in proportion: 5 MB per 10 million
 * cycles is half a byte per cycle, 100 KiB here. A leak of that much fails: one 56-byte object
 * kept in every hundred cycles, let alone one per cycle (an array of one element kept per cycle
 * grows the heap by about 13 MB here).
 *
 * The figure measures what the pools keep, not when the heap was looked at. It used to swing
 * between 90 and 150 KiB from run to run, although nothing grew with the number of cycles
 * (800 000 cycles grew as much as 200 000; after the first 100 000, the heap stayed within
 * ±20 KiB). Two things made it up:
 * - the full pool's rate gate remembers the creations of the last second, as many as the
 *   machine's speed allowed (up to 60 KiB): the core lets it forget them before each
 *   measurement (see forgetRateWindow in soak-core.ts);
 * - for about the first 100 000 cycles, rarely taken paths run and are compiled for the first
 *   time and rings and tables reach their high-water marks (20 to 30 KiB): hence the warm-up.
 * What remains (code for functions that tier up late, inline caches, how many resources and
 * ring slots are left when quiet) is a few KiB to 20 KiB. The report gives the growth of each
 * half: a leak grows both alike, a one-off step only one.
 *
 * It runs in a child process for two reasons: heap figures need a forced GC (`--expose-gc`,
 * which jest's workers do not have), and a heap shared with jest's module registry and other
 * tests would not measure the pool. The child also runs with `--no-opt --no-flush-bytecode`:
 * over a run this short, the optimising compiler keeps producing code (and flushed bytecode gets
 * recompiled) for a few hundred KiB that has nothing to do with retained objects and would
 * drown a 100 KiB bound. The full soak runs with default flags, where that noise is small
 * against 5 MB.
 */
import { allowedGrowth, type SoakReport } from '../../scripts/soak-core.js';
import { buildSrc, fixture, lastJson, removeBuild, runNode } from './child.js';

let build: string | undefined;
beforeAll(() => {
  build = buildSrc();
});
afterAll(() => removeBuild(build));

const CYCLES = 200_000;
const WARMUP = 100_000;
const CALLERS = 1_000;
// Override to reproduce a failure: POOLKEEPER_SOAK_SEED=<seed printed in the failure>.
const SEED = Number(process.env.POOLKEEPER_SOAK_SEED ?? 20_240_611);

test(`${CYCLES} cycles with random faults and ${CALLERS} callers: invariants hold, heap growth within the proportional bound`, async () => {
  const child = await runNode(
    ['--expose-gc', '--no-opt', '--no-flush-bytecode', fixture('soak-child.mjs'), build!, `${CYCLES}`, `${WARMUP}`, `${CALLERS}`, `${SEED}`],
    // A hang detector, not a speed check: under 10 s on a quiet machine without the optimiser
    // (4 s of it quiet waits before the measurements); room for a machine several times busier.
    150_000,
  );
  expect({ killed: child.killed, code: child.code, stderr: child.code === 0 ? '' : child.stderr }).toEqual({ killed: false, code: 0, stderr: '' });
  const report = lastJson<SoakReport>(child);
  const context = `seed ${SEED}; report:\n${child.stderr}`;

  expect({ violations: report.violations, context }).toEqual({ violations: [], context });
  expect(report.cycles).toBe(CYCLES);
  // With the report, whose growth per half tells a leak from a one-off step.
  expect({ growthWithinBound: report.heap.growth <= allowedGrowth(CYCLES), context }).toEqual({ growthWithinBound: true, context });

  // Every fault was injected and every kind of outcome happened, so the run cannot pass by
  // exercising only the happy path.
  for (const kind of [
    'factory throws', 'factory rejects', 'factory slow', 'factory too slow', 'outage', 'factory fails in outage',
    'releaser throws', 'releaser rejects', 'releaser hangs', 'validate false', 'validate throws', 'reset throws',
    'caller destroys', 'caller short timeout', 'caller aborts',
  ]) {
    expect({ kind, injected: (report.faults[kind] ?? 0) > 0 }).toEqual({ kind, injected: true });
  }
  for (const code of ['ok', 'ERR_ACQUIRE_TIMEOUT', 'ABORT_ERR', 'E_INJECTED', 'ERR_POOL_QUEUE_FULL', 'ERR_POOL_UNAVAILABLE']) {
    expect({ code, seen: (report.outcomes[code] ?? 0) > 0 }).toEqual({ code, seen: true });
  }
  // A create timeout reaches a caller only if one that arrived before the creation started still
  // waits when it fires (callers with 1-3 ms timeouts have left): which one it is depends on the
  // machine's timing, so either counts as the create timeout being exercised.
  const createTimeouts = (report.outcomes.ERR_CREATE_TIMEOUT ?? 0) + (report.errorEvents['create:ERR_CREATE_TIMEOUT'] ?? 0);
  expect({ code: 'ERR_CREATE_TIMEOUT', seen: createTimeouts > 0 }).toEqual({ code: 'ERR_CREATE_TIMEOUT', seen: true });
  // Most cycles succeed: the faults are the exception, not the run.
  expect(report.outcomes.ok).toBeGreaterThan(0.8 * (CYCLES + WARMUP));
  for (const operation of ['lean:destroy', 'full:destroy', 'full:validate', 'full:reset']) {
    expect({ operation, seen: (report.errorEvents[operation] ?? 0) > 0 }).toEqual({ operation, seen: true });
  }
  expect(report.releaserCalls).toBe(report.produced);
}, 180_000);

// Found by the soak: re-arming the pool's unref'd maintenance timer with ever-different long
// delays (each create backoff, then the next one-hour recycle deadline) left one Node timer list
// per re-arm alive for up to an hour, because Node keeps the list of a cleared unref'd timer.
test('re-arming the maintenance timer with ever-different delays retains no memory', async () => {
  const rearms = 1_500;
  const child = await runNode(['--expose-gc', '--no-opt', fixture('timer-lists-child.mjs'), build!, `${rearms}`], 30_000);
  expect({ killed: child.killed, code: child.code, stderr: child.stderr }).toEqual({ killed: false, code: 0, stderr: '' });
  const { growth } = lastJson<{ growth: number }>(child);
  // With the bug: about 200 bytes per re-arm (300 KiB here). Fixed: the heap stays flat.
  expect(growth).toBeLessThan(64 * 1024);
}, 40_000);
