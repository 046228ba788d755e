/**
 * The queries and alert rules in docs/observability.md name only metrics the Prometheus exporter
 * registers, and (when promtool is installed) parse as PromQL and as a rules file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { AsyncPool } from '../../src/index.js';
import { registerPoolMetrics } from '../../src/prometheus.js';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const doc = readFileSync(join(root, 'docs/observability.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Queries for a dashboard'));
const rules = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
const queries = [...section.matchAll(/^\| [^|]+ \| `(.+)` \|$/gm)].map((m) => m[1]!.replace(/\\\|/g, '|'));

function promtool(args: string[]): { status: number | null; output: string } | undefined {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('every metric named in the queries and rules is one the exporter registers', async () => {
  expect(queries.length).toBeGreaterThanOrEqual(10);
  const registry = new Registry();
  const pool = new AsyncPool({ factory: () => ({}) });
  const { names } = registerPoolMetrics(pool, { registry });
  const known = new Set(names.flatMap((n) => (n.endsWith('_seconds') ? [n, `${n}_bucket`, `${n}_sum`, `${n}_count`] : [n])));
  const used = new Set([...`${rules}\n${queries.join('\n')}\n${doc}`.matchAll(/\bpoolkeeper_[a-z_]+/g)].map((m) => m[0]));
  expect([...used].filter((n) => !known.has(n))).toEqual([]);
  await pool.dispose();
});

test('the rules file and every dashboard query pass promtool (when installed)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'poolkeeper-rules-'));
  try {
    const alerts = join(dir, 'alerts.yml');
    writeFileSync(alerts, rules);
    // The dashboard queries as recording rules, so promtool parses each expression.
    const recording = join(dir, 'recording.yml');
    writeFileSync(
      recording,
      `groups:\n  - name: dashboard\n    rules:\n${queries.map((q, i) => `      - record: poolkeeper:q${i}\n        expr: ${JSON.stringify(q)}\n`).join('')}`,
    );
    const result = promtool(['check', 'rules', alerts, recording]);
    if (result !== undefined) expect(result).toMatchObject({ status: 0 });
    // Without promtool, at least the rules are the YAML shape Prometheus expects.
    expect(rules).toMatch(/^groups:\n  - name: poolkeeper\n    rules:\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
