import type { PoolStats } from '../../src/index.js';
import { CONTENT_TYPE, formatMetrics, main, scrape, serveMetrics } from '../../examples/metrics.js';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Exposition {
  readonly help: Map<string, string>;
  readonly type: Map<string, string>;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/y;

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/.test(text)) throw new Error(`bad sample value ${JSON.stringify(text)}`);
  return Number(text);
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < text.length) {
    LABEL.lastIndex = at;
    const m = LABEL.exec(text);
    if (m === null) throw new Error(`bad labels ${JSON.stringify(text)}`);
    const [, key, raw] = m;
    if (key! in out) throw new Error(`duplicate label ${key}`);
    out[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    at = LABEL.lastIndex;
    if (at < text.length) {
      if (text[at] !== ',') throw new Error(`bad labels ${JSON.stringify(text)}`);
      at++;
    }
  }
  return out;
}

/** The family a sample belongs to: a summary's `_sum`/`_count` samples belong to the summary. */
function familyOf(name: string, type: Map<string, string>): string {
  for (const suffix of ['_sum', '_count']) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && type.get(base) === 'summary') return base;
  }
  return name;
}

/**
 * Parses a text exposition (format 0.0.4) and checks that it is well-formed: HELP then TYPE once
 * per family, before its samples; each family's samples contiguous; valid names, labels and values.
 */
function parseExposition(text: string): Exposition {
  expect(text.endsWith('\n')).toBe(true);
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  const finished = new Set<string>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    const comment = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (comment !== null) {
      const [, keyword, name, rest] = comment;
      expect(name).toMatch(METRIC_NAME);
      if (keyword === 'HELP') {
        expect(help.has(name!)).toBe(false);
        help.set(name!, rest!);
      } else {
        expect(help.has(name!)).toBe(true); // HELP comes first, by this exporter's convention
        expect(type.has(name!)).toBe(false);
        expect(['gauge', 'counter', 'summary']).toContain(rest);
        type.set(name!, rest!);
      }
      if (current !== undefined && current !== name) finished.add(current);
      current = name;
      continue;
    }
    const sample = /^([^{\s]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample === null) throw new Error(`malformed line ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = sample;
    expect(name).toMatch(METRIC_NAME);
    const family = familyOf(name!, type);
    expect(type.has(family)).toBe(true); // declared before its samples
    expect(finished.has(family)).toBe(false); // samples of a family are contiguous
    if (current !== family) {
      if (current !== undefined) finished.add(current);
      current = family;
    }
    samples.push({ name: name!, labels: parseLabels(labelText ?? ''), value: parseValue(valueText!) });
  }
  for (const [name, kind] of type) {
    if (kind === 'counter') expect(name.endsWith('_total')).toBe(true);
  }
  for (const s of samples) {
    const kind = type.get(familyOf(s.name, type));
    if (kind === 'counter') expect(s.value).toBeGreaterThanOrEqual(0);
    if (kind === 'summary' && s.name === familyOf(s.name, type)) expect(s.labels.quantile).toBeDefined();
  }
  return { help, type, samples };
}

function valueOf(e: Exposition, name: string, labels: Record<string, string>): number {
  const found = e.samples.filter(
    (s) => s.name === name && Object.keys(labels).length === Object.keys(s.labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length !== 1) throw new Error(`expected one sample ${name} ${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

describe('examples/metrics.ts', () => {
  test('main() serves, scrapes and prints a well-formed exposition whose counters match its traffic', async () => {
    const printed: string[] = [];
    const text = await main((t) => printed.push(t));
    expect(printed).toEqual([text]);

    const e = parseExposition(text);
    const pool = { pool: 'example' };
    // Gauges after the traffic: one connection left, idle.
    expect(valueOf(e, 'poolkeeper_size', pool)).toBe(1);
    expect(valueOf(e, 'poolkeeper_idle', pool)).toBe(1);
    expect(valueOf(e, 'poolkeeper_borrowed', pool)).toBe(0);
    expect(valueOf(e, 'poolkeeper_pending', pool)).toBe(0);
    expect(valueOf(e, 'poolkeeper_creating', pool)).toBe(0);
    expect(valueOf(e, 'poolkeeper_max_size', pool)).toBe(2);
    // Counters: 2 immediate acquires, 1 after a wait, 1 timeout, 1 factory failure, 1 destroy, 2 releases.
    expect(valueOf(e, 'poolkeeper_created_total', pool)).toBe(2);
    expect(valueOf(e, 'poolkeeper_acquired_total', pool)).toBe(3);
    expect(valueOf(e, 'poolkeeper_acquired_immediately_total', pool)).toBe(2);
    expect(valueOf(e, 'poolkeeper_acquired_after_wait_total', pool)).toBe(1);
    expect(valueOf(e, 'poolkeeper_released_total', pool)).toBe(2);
    expect(valueOf(e, 'poolkeeper_timed_out_total', pool)).toBe(1);
    expect(valueOf(e, 'poolkeeper_aborted_total', pool)).toBe(0);
    expect(valueOf(e, 'poolkeeper_rejected_queue_full_total', pool)).toBe(0);
    expect(valueOf(e, 'poolkeeper_rejected_unavailable_total', pool)).toBe(0);
    expect(valueOf(e, 'poolkeeper_rejected_create_failed_total', pool)).toBe(1);
    expect(valueOf(e, 'poolkeeper_create_failed_total', pool)).toBe(1);
    expect(valueOf(e, 'poolkeeper_validation_failed_total', pool)).toBe(0);
    expect(valueOf(e, 'poolkeeper_destroy_failed_total', pool)).toBe(0);
    expect(valueOf(e, 'poolkeeper_leaks_total', pool)).toBe(0);
    for (const reason of ['recycled', 'idle', 'invalid', 'overflow', 'destroyed', 'cleared', 'disposed']) {
      expect(valueOf(e, 'poolkeeper_destroyed_total', { ...pool, reason })).toBe(reason === 'destroyed' ? 1 : 0);
    }
    // Wait time: one sample per acquired resource; two were zero, one waited ~20 ms for a release.
    expect(valueOf(e, 'poolkeeper_acquire_wait_seconds_count', pool)).toBe(3);
    const sum = valueOf(e, 'poolkeeper_acquire_wait_seconds_sum', pool);
    const max = valueOf(e, 'poolkeeper_acquire_wait_seconds_max', pool);
    expect(sum).toBeGreaterThan(0.01);
    expect(max).toBe(sum);
    expect(valueOf(e, 'poolkeeper_acquire_wait_seconds', { ...pool, quantile: '0.5' })).toBe(0);
    expect(valueOf(e, 'poolkeeper_acquire_wait_seconds', { ...pool, quantile: '0.9' })).toBe(max);
    expect(valueOf(e, 'poolkeeper_acquire_wait_seconds', { ...pool, quantile: '0.99' })).toBe(max);
    // Every family is documented and typed.
    expect([...e.help.keys()]).toEqual([...e.type.keys()]);
  });

  test('formatMetrics renders exactly, escaping label values and infinities', () => {
    const base: PoolStats = {
      name: 'db',
      size: 3, idle: 1, borrowed: 2, pending: 4, creating: 0, maxSize: 10,
      acquired: 7, acquiredImmediately: 5, acquiredAfterWait: 2, released: 6,
      timedOut: 1, aborted: 2, rejectedQueueFull: 3, rejectedUnavailable: 4, rejectedCreateFailed: 5,
      created: 8, createFailed: 9, validationFailed: 10,
      destroyed: { recycled: 1, idle: 2, invalid: 3, overflow: 4, destroyed: 5, cleared: 6, disposed: 7, total: 28 },
      destroyFailed: 11, leaks: 12,
      waitTime: { count: 7, sumMs: 37.5, maxMs: 30, p50Ms: 0, p90Ms: 30, p99Ms: 30 },
    };
    const other: PoolStats = {
      ...base,
      name: 'a "quoted" \\ name\nline 2',
      maxSize: Infinity,
      waitTime: { count: 0, sumMs: 0, maxMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0 },
    };
    const q = 'pool="a \\"quoted\\" \\\\ name\\nline 2"';
    const expected = [
      '# HELP poolkeeper_size Live resources: idle + borrowed + being created.',
      '# TYPE poolkeeper_size gauge',
      'poolkeeper_size{pool="db"} 3',
      `poolkeeper_size{${q}} 3`,
      '# HELP poolkeeper_idle Idle resources ready to hand out.',
      '# TYPE poolkeeper_idle gauge',
      'poolkeeper_idle{pool="db"} 1',
      `poolkeeper_idle{${q}} 1`,
      '# HELP poolkeeper_borrowed Resources held by callers, being validated for one, or being reset.',
      '# TYPE poolkeeper_borrowed gauge',
      'poolkeeper_borrowed{pool="db"} 2',
      `poolkeeper_borrowed{${q}} 2`,
      '# HELP poolkeeper_pending acquire() calls not settled yet.',
      '# TYPE poolkeeper_pending gauge',
      'poolkeeper_pending{pool="db"} 4',
      `poolkeeper_pending{${q}} 4`,
      '# HELP poolkeeper_creating factory calls in flight, queued ones included.',
      '# TYPE poolkeeper_creating gauge',
      'poolkeeper_creating{pool="db"} 0',
      `poolkeeper_creating{${q}} 0`,
      '# HELP poolkeeper_max_size The maxSize option.',
      '# TYPE poolkeeper_max_size gauge',
      'poolkeeper_max_size{pool="db"} 10',
      `poolkeeper_max_size{${q}} +Inf`,
      '# HELP poolkeeper_acquired_total Resources handed to callers.',
      '# TYPE poolkeeper_acquired_total counter',
      'poolkeeper_acquired_total{pool="db"} 7',
      `poolkeeper_acquired_total{${q}} 7`,
      '# HELP poolkeeper_acquired_immediately_total Resources handed out at once, without queueing.',
      '# TYPE poolkeeper_acquired_immediately_total counter',
      'poolkeeper_acquired_immediately_total{pool="db"} 5',
      `poolkeeper_acquired_immediately_total{${q}} 5`,
      '# HELP poolkeeper_acquired_after_wait_total Resources handed out after queueing.',
      '# TYPE poolkeeper_acquired_after_wait_total counter',
      'poolkeeper_acquired_after_wait_total{pool="db"} 2',
      `poolkeeper_acquired_after_wait_total{${q}} 2`,
      '# HELP poolkeeper_released_total Resources given back with release().',
      '# TYPE poolkeeper_released_total counter',
      'poolkeeper_released_total{pool="db"} 6',
      `poolkeeper_released_total{${q}} 6`,
      '# HELP poolkeeper_timed_out_total acquire() calls rejected with AcquireTimeoutError.',
      '# TYPE poolkeeper_timed_out_total counter',
      'poolkeeper_timed_out_total{pool="db"} 1',
      `poolkeeper_timed_out_total{${q}} 1`,
      '# HELP poolkeeper_aborted_total acquire() calls cancelled by their signal.',
      '# TYPE poolkeeper_aborted_total counter',
      'poolkeeper_aborted_total{pool="db"} 2',
      `poolkeeper_aborted_total{${q}} 2`,
      '# HELP poolkeeper_rejected_queue_full_total acquire() calls rejected with PoolQueueFullError.',
      '# TYPE poolkeeper_rejected_queue_full_total counter',
      'poolkeeper_rejected_queue_full_total{pool="db"} 3',
      `poolkeeper_rejected_queue_full_total{${q}} 3`,
      '# HELP poolkeeper_rejected_unavailable_total acquire() calls rejected with PoolUnavailableError.',
      '# TYPE poolkeeper_rejected_unavailable_total counter',
      'poolkeeper_rejected_unavailable_total{pool="db"} 4',
      `poolkeeper_rejected_unavailable_total{${q}} 4`,
      '# HELP poolkeeper_rejected_create_failed_total acquire() calls rejected with a factory error.',
      '# TYPE poolkeeper_rejected_create_failed_total counter',
      'poolkeeper_rejected_create_failed_total{pool="db"} 5',
      `poolkeeper_rejected_create_failed_total{${q}} 5`,
      '# HELP poolkeeper_created_total Resources created and entered into the pool.',
      '# TYPE poolkeeper_created_total counter',
      'poolkeeper_created_total{pool="db"} 8',
      `poolkeeper_created_total{${q}} 8`,
      '# HELP poolkeeper_create_failed_total factory calls that threw, rejected, timed out or returned nothing.',
      '# TYPE poolkeeper_create_failed_total counter',
      'poolkeeper_create_failed_total{pool="db"} 9',
      `poolkeeper_create_failed_total{${q}} 9`,
      '# HELP poolkeeper_validation_failed_total validate calls that found a resource unusable.',
      '# TYPE poolkeeper_validation_failed_total counter',
      'poolkeeper_validation_failed_total{pool="db"} 10',
      `poolkeeper_validation_failed_total{${q}} 10`,
      '# HELP poolkeeper_destroy_failed_total releaser calls that threw, rejected or timed out.',
      '# TYPE poolkeeper_destroy_failed_total counter',
      'poolkeeper_destroy_failed_total{pool="db"} 11',
      `poolkeeper_destroy_failed_total{${q}} 11`,
      '# HELP poolkeeper_leaks_total Resources borrowed longer than leakDetectionMs.',
      '# TYPE poolkeeper_leaks_total counter',
      'poolkeeper_leaks_total{pool="db"} 12',
      `poolkeeper_leaks_total{${q}} 12`,
      '# HELP poolkeeper_destroyed_total Resources closed, by reason.',
      '# TYPE poolkeeper_destroyed_total counter',
      'poolkeeper_destroyed_total{pool="db",reason="recycled"} 1',
      'poolkeeper_destroyed_total{pool="db",reason="idle"} 2',
      'poolkeeper_destroyed_total{pool="db",reason="invalid"} 3',
      'poolkeeper_destroyed_total{pool="db",reason="overflow"} 4',
      'poolkeeper_destroyed_total{pool="db",reason="destroyed"} 5',
      'poolkeeper_destroyed_total{pool="db",reason="cleared"} 6',
      'poolkeeper_destroyed_total{pool="db",reason="disposed"} 7',
      `poolkeeper_destroyed_total{${q},reason="recycled"} 1`,
      `poolkeeper_destroyed_total{${q},reason="idle"} 2`,
      `poolkeeper_destroyed_total{${q},reason="invalid"} 3`,
      `poolkeeper_destroyed_total{${q},reason="overflow"} 4`,
      `poolkeeper_destroyed_total{${q},reason="destroyed"} 5`,
      `poolkeeper_destroyed_total{${q},reason="cleared"} 6`,
      `poolkeeper_destroyed_total{${q},reason="disposed"} 7`,
      '# HELP poolkeeper_acquire_wait_seconds How long acquire() calls waited for a resource (0 when served at once), since the pool was created.',
      '# TYPE poolkeeper_acquire_wait_seconds summary',
      'poolkeeper_acquire_wait_seconds{pool="db",quantile="0.5"} 0',
      'poolkeeper_acquire_wait_seconds{pool="db",quantile="0.9"} 0.03',
      'poolkeeper_acquire_wait_seconds{pool="db",quantile="0.99"} 0.03',
      'poolkeeper_acquire_wait_seconds_sum{pool="db"} 0.0375',
      'poolkeeper_acquire_wait_seconds_count{pool="db"} 7',
      `poolkeeper_acquire_wait_seconds{${q},quantile="0.5"} 0`,
      `poolkeeper_acquire_wait_seconds{${q},quantile="0.9"} 0`,
      `poolkeeper_acquire_wait_seconds{${q},quantile="0.99"} 0`,
      `poolkeeper_acquire_wait_seconds_sum{${q}} 0`,
      `poolkeeper_acquire_wait_seconds_count{${q}} 0`,
      '# HELP poolkeeper_acquire_wait_seconds_max Longest acquire() wait since the pool was created.',
      '# TYPE poolkeeper_acquire_wait_seconds_max gauge',
      'poolkeeper_acquire_wait_seconds_max{pool="db"} 0.03',
      `poolkeeper_acquire_wait_seconds_max{${q}} 0`,
      '',
    ].join('\n');
    const text = formatMetrics([base, other]);
    expect(text).toBe(expected);
    // The escaped name reads back as the original.
    const e = parseExposition(text);
    expect(valueOf(e, 'poolkeeper_max_size', { pool: other.name })).toBe(Infinity);
  });

  test('formatMetrics of no pools still declares every family', () => {
    const e = parseExposition(formatMetrics([]));
    expect(e.samples).toEqual([]);
    expect(e.type.get('poolkeeper_destroyed_total')).toBe('counter');
    expect(e.type.get('poolkeeper_acquire_wait_seconds')).toBe('summary');
  });

  test('the endpoint answers GET /metrics with the 0.0.4 content type, 404 elsewhere, and stops on close', async () => {
    const server = await serveMetrics(() => []);
    const ok = await scrape(server.url);
    expect(ok.status).toBe(200);
    expect(ok.contentType).toBe(CONTENT_TYPE);
    expect(ok.body).toBe(formatMetrics([]));
    const missing = await scrape(server.url.replace('/metrics', '/other'));
    expect(missing.status).toBe(404);
    await server.close();
    await expect(scrape(server.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
