/**
 * onCreateError: 'retry' in a real process: while a caller waits for a retried creation the
 * process stays alive (otherwise a script would exit in the middle of its `await acquire()`), and
 * once no caller waits, a pending backoff holds nothing. "Exits by itself" is about a hang, not
 * speed: the child is killed after a generous limit (the gave-up backoff is 30 s, far above it).
 */
import { buildSrc, fixture, lastJson, removeBuild, runNode } from './child.js';

let build: string | undefined;
beforeAll(() => {
  build = buildSrc();
});
afterAll(() => removeBuild(build));

const LIMIT_MS = 12_000;

async function run(scenario: string) {
  const child = await runNode([fixture('retry-hold-child.mjs'), build!, scenario], LIMIT_MS);
  expect({ killed: child.killed, code: child.code, stderr: child.stderr }).toEqual({ killed: false, code: 0, stderr: '' });
  return lastJson<{ scenario: string; calls: number; got?: number; error?: string }>(child);
}

test('a caller waiting through failed creations keeps the process alive until it is served', async () => {
  expect(await run('served')).toEqual({ scenario: 'served', calls: 3, got: 3 });
});

test('once the caller timed out, the pending backoff does not hold the process', async () => {
  expect(await run('gave-up')).toEqual({ scenario: 'gave-up', calls: 1, error: 'ERR_ACQUIRE_TIMEOUT' });
});

test('once the caller aborted, the pending backoff does not hold the process', async () => {
  expect(await run('aborted')).toEqual({ scenario: 'aborted', calls: 1, error: 'ABORT_ERR' });
});

test('a caller waiting through the backoff after a new resource failed its check keeps the process alive', async () => {
  expect(await run('invalid-reject')).toEqual({ scenario: 'invalid-reject', calls: 2, got: 2 });
  expect(await run('invalid-retry')).toEqual({ scenario: 'invalid-retry', calls: 2, got: 2 });
});

test('with onCreateError \'reject\', the backoff after an over-capacity refusal keeps the process alive for its caller', async () => {
  expect(await run('over-capacity')).toEqual({ scenario: 'over-capacity', calls: 2, got: 2 });
});

describe('the backoff after a new resource failed its check', () => {
  async function runValidation(scenario: string, onCreateError: string) {
    const child = await runNode([fixture('validation-hold-child.mjs'), build!, scenario, onCreateError], LIMIT_MS);
    expect({ killed: child.killed, code: child.code, stderr: child.stderr }).toEqual({ killed: false, code: 0, stderr: '' });
    return lastJson<Record<string, unknown>>(child);
  }

  test.each(['reject', 'retry'])('holds the process for a caller who queues after it started (%s)', async (onCreateError) => {
    expect(await runValidation('late', onCreateError)).toEqual({ scenario: 'late', first: 'ERR_ACQUIRE_TIMEOUT', got: 2 });
  });

  test('once its last caller was rejected by a failed creation, it holds nothing', async () => {
    expect(await runValidation('left', 'reject')).toEqual({ scenario: 'left', b: 'down', pending: 0 });
  });
});
