/**
 * Runs the examples that need nothing installed (the echo server is embedded; worker threads are
 * part of Node) and checks what they report. The PostgreSQL and Redis examples are run by
 * tests/services (npm run test:services).
 */
import { main as tcpEcho } from '../../examples/tcp-echo.js';
import { main as workers } from '../../examples/workers.js';

test('examples/tcp-echo.ts: callers share the pooled connections, a dropped one is replaced, dispose closes all', async () => {
  const lines: string[] = [];
  const summary = await tcpEcho({ log: (line) => lines.push(line) });
  expect(summary.repliesMatched).toBe(summary.requests);
  expect(summary.requests).toBe(200);
  // 200 requests over maxSize connections, plus the one replacement.
  expect(summary.connectionsOpened).toBe(summary.maxSize + 1);
  expect(summary.replaced).toBe(1);
  expect(summary.requestsAfterDrop).toBe(summary.maxSize * 2);
  expect(summary.openAfterDispose).toBe(0);
  expect(lines.length).toBeGreaterThanOrEqual(5);
});

test('examples/workers.ts: jobs run on pre-warmed workers, a runaway one is terminated and replaced, dispose ends all', async () => {
  const lines: string[] = [];
  const summary = await workers({ log: (line) => lines.push(line) });
  expect(summary.correct).toBe(summary.jobs);
  expect(summary.runawayStopped).toBe(true);
  expect(summary.jobsAfterRunaway).toBe(summary.workers * 2);
  expect(summary.workersStarted).toBe(summary.workers + 1);
  expect(summary.workersExited).toBe(summary.workersStarted);
  expect(lines.length).toBeGreaterThanOrEqual(5);
});
