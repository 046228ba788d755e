/**
 * examples/metrics.ts: a real prom-client registry with poolkeeper/prometheus behind a
 * node:http endpoint. One scrape must be a well-formed exposition whose figures match the
 * example's scripted traffic.
 */
import { main } from '../../examples/metrics.js';
import { parseExposition, promtoolCheck, valueOf } from '../exporters/exposition.js';

test('examples/metrics.ts: main() serves, scrapes and prints the registry, with the figures of its traffic', async () => {
  const printed: string[] = [];
  const { body, contentType } = await main((t) => printed.push(t));
  expect(printed).toEqual([body]);
  expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');

  const e = parseExposition(body);
  const promtool = promtoolCheck(body);
  if (promtool !== undefined) expect(promtool).toEqual({ status: 0, output: '' });

  const pool = { pool: 'example', service: 'example' };
  // Gauges after the traffic: one connection left, idle.
  expect(valueOf(e, 'poolkeeper_resources', pool)).toBe(1);
  expect(valueOf(e, 'poolkeeper_resources_idle', pool)).toBe(1);
  expect(valueOf(e, 'poolkeeper_resources_in_use', pool)).toBe(0);
  expect(valueOf(e, 'poolkeeper_resources_creating', pool)).toBe(0);
  expect(valueOf(e, 'poolkeeper_resources_max', pool)).toBe(2);
  expect(valueOf(e, 'poolkeeper_acquires_pending', pool)).toBe(0);
  // Counters: 3 acquires (2 at once, 1 after a wait), 1 timeout, 1 factory failure, 1 destroy, 2 releases.
  expect(valueOf(e, 'poolkeeper_resources_created_total', pool)).toBe(2);
  expect(valueOf(e, 'poolkeeper_acquires_total', pool)).toBe(3);
  expect(valueOf(e, 'poolkeeper_releases_total', pool)).toBe(2);
  expect(valueOf(e, 'poolkeeper_acquire_timeouts_total', pool)).toBe(1);
  expect(valueOf(e, 'poolkeeper_acquires_rejected_total', { ...pool, reason: 'create_failed' })).toBe(1);
  expect(valueOf(e, 'poolkeeper_resource_create_failures_total', pool)).toBe(1);
  for (const reason of ['recycled', 'idle', 'invalid', 'overflow', 'destroyed', 'cleared', 'disposed']) {
    expect(valueOf(e, 'poolkeeper_resources_destroyed_total', { ...pool, reason })).toBe(reason === 'destroyed' ? 1 : 0);
  }
  // Histograms: 3 waits (two at once, one ~20 ms for a release); 3 borrows ended (2 releases, 1
  // destroy); 2 creations.
  expect(valueOf(e, 'poolkeeper_acquire_wait_seconds_count', pool)).toBe(3);
  expect(valueOf(e, 'poolkeeper_acquire_wait_seconds_bucket', { ...pool, le: '0.0001' })).toBeGreaterThanOrEqual(2);
  expect(valueOf(e, 'poolkeeper_acquire_wait_seconds_sum', pool)).toBeGreaterThan(0.01);
  expect(valueOf(e, 'poolkeeper_resource_use_seconds_count', pool)).toBe(3);
  expect(valueOf(e, 'poolkeeper_resource_create_seconds_count', pool)).toBe(2);
});
