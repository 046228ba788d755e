/**
 * The module keeps a pool of its own alive, so that the hidden classes of a pool's parts outlive
 * every user's pool (see `#anchorShapes` in src/async-pool.ts). That pool must hold nothing
 * of a user's: a pool the user dropped, with everything its callbacks reach, is collected. Runs in
 * a child process for the forced GC (fixtures/collectable-child.mjs).
 */
import { buildSrc, fixture, lastJson, removeBuild, runNode } from './child.js';

let build: string | undefined;
beforeAll(() => {
  build = buildSrc();
});
afterAll(() => removeBuild(build));

test('a dropped pool, what its factory, releaser and listeners hold, and the context the first pool was built in are garbage-collected', async () => {
  // A hang detector, not a speed check.
  const child = await runNode(['--expose-gc', fixture('collectable-child.mjs'), build!], 60_000);
  expect({ killed: child.killed, code: child.code, stderr: child.stderr }).toEqual({ killed: false, code: 0, stderr: '' });
  const both = { pool: true, payload: true };
  expect(lastJson(child)).toEqual({ firstDisposed: both, firstContext: true, laterDisposed: both, droppedUnused: both, droppedIdle: both });
});
