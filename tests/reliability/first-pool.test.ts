/**
 * The first pool of a process also builds the module's own pool (see `#anchorShapes` in
 * src/async-pool.ts), which runs a hand-off and an idle borrow of its own. A user sees none of it:
 * tracing subscribers attached before the first pool see only the user's pool, wrapped public
 * methods are called only for it, and building it schedules no timer or microtask. Runs in a
 * child process, the only place where a pool is surely the first (fixtures/first-pool-child.mjs).
 */
import { buildSrc, fixture, lastJson, removeBuild, runNode } from './child.js';

let build: string | undefined;
beforeAll(() => {
  build = buildSrc();
});
afterAll(() => removeBuild(build));

test("the module's own pool reaches no tracing subscriber, no wrapped method and no timer", async () => {
  // A hang detector, not a speed check.
  const child = await runNode([fixture('first-pool-child.mjs'), build!], 60_000);
  expect({ killed: child.killed, code: child.code, stderr: child.stderr }).toEqual({ killed: false, code: 0, stderr: '' });
  expect(lastJson(child)).toEqual({
    acquire: ['start:mine', 'end:mine', 'asyncStart:mine', 'asyncEnd:mine'],
    create: ['start:mine', 'end:mine', 'asyncStart:mine', 'asyncEnd:mine'],
    calls: ['acquire:mine', 'release:mine'],
    scheduled: [],
    timersLeft: 0,
  });
});
