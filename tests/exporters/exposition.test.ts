/** The exposition checker used by the Prometheus tests rejects what Prometheus would reject. */
import { parseExposition, promtoolCheck } from './exposition.js';

const good = [
  '# HELP a_total Things.',
  '# TYPE a_total counter',
  'a_total{pool="x"} 1',
  '# HELP h_seconds Durations.',
  '# TYPE h_seconds histogram',
  'h_seconds_bucket{le="0.1",pool="x"} 1',
  'h_seconds_bucket{le="+Inf",pool="x"} 2',
  'h_seconds_sum{pool="x"} 0.3',
  'h_seconds_count{pool="x"} 2',
  '',
].join('\n');

test('a well-formed exposition passes, and promtool agrees when installed', () => {
  expect(parseExposition(good).samples).toHaveLength(5);
  const promtool = promtoolCheck(good);
  if (promtool !== undefined) {
    expect(promtool).toEqual({ status: 0, output: '' });
    expect(promtoolCheck('a_total 1\n')?.status).not.toBe(0); // no HELP: promtool's linter objects
  }
});

test.each([
  ['no final newline', good.slice(0, -1)],
  ['a bad metric name', good.replace('a_total{pool="x"} 1', '1a_total{pool="x"} 1')],
  ['a bad value', good.replace('a_total{pool="x"} 1', 'a_total{pool="x"} one')],
  ['an unquoted label value', good.replace('a_total{pool="x"} 1', 'a_total{pool=x} 1')],
  ['a bad escape', good.replace('a_total{pool="x"} 1', 'a_total{pool="\\x"} 1')],
  ['a duplicate series', good.replace('a_total{pool="x"} 1', 'a_total{pool="x"} 1\na_total{pool="x"} 2')],
  ['a second TYPE', good.replace('# TYPE a_total counter', '# TYPE a_total counter\n# TYPE a_total counter')],
  ['an unknown type', good.replace('# TYPE a_total counter', '# TYPE a_total meter')],
  ['a family split in two', `${good}a_total{pool="y"} 1\n`],
  ['buckets not cumulative', good.replace('le="+Inf",pool="x"} 2', 'le="+Inf",pool="x"} 0').replace('_count{pool="x"} 2', '_count{pool="x"} 0')],
  ['no +Inf bucket', good.replace('h_seconds_bucket{le="+Inf",pool="x"} 2\n', '')],
  ['+Inf differs from _count', good.replace('_count{pool="x"} 2', '_count{pool="x"} 3')],
])('%s is rejected', (_, text) => {
  expect(() => parseExposition(text)).toThrow();
});
