/**
 * The metrics subpaths as users get them: packs the library, installs the tarball into a scratch
 * project next to prom-client and the OpenTelemetry packages, and uses `poolkeeper/prometheus`
 * and `poolkeeper/otel` there with `import` and with `require`, in child processes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
let scratch: string;
let files: string[];

function run(file: string): unknown {
  const out = execFileSync(process.execPath, [file], { cwd: scratch, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return JSON.parse(out);
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'poolkeeper-subpaths-'));
  // `npm test` builds dist/ before jest starts; pack it as it is.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  files = info!.files.map((f) => f.path);
  const modules = join(scratch, 'node_modules');
  mkdirSync(join(modules, 'poolkeeper'), { recursive: true });
  mkdirSync(join(modules, '@opentelemetry'), { recursive: true });
  execFileSync('tar', ['-xzf', join(scratch, info!.filename), '-C', join(modules, 'poolkeeper'), '--strip-components=1']);
  // Dependencies and peers from this checkout (their own dependencies resolve from there).
  for (const name of ['p-queue', 'prom-client', '@opentelemetry/api', '@opentelemetry/sdk-metrics']) {
    symlinkSync(join(root, 'node_modules', name), join(modules, name), 'dir');
  }
  writeFileSync(join(scratch, 'package.json'), '{ "name": "scratch", "private": true }\n');
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('both subpaths ship in both builds, with types', () => {
  for (const build of ['esm', 'cjs']) {
    for (const name of ['otel', 'prometheus']) {
      expect(files).toContain(`dist/${build}/${name}.js`);
      expect(files).toContain(`dist/${build}/${name}.d.ts`);
    }
  }
});

/** A scripted use of both exporters; `load` binds AsyncPool, registerPoolMetrics, instrumentPool, Registry, MeterProvider, MetricReader. */
const program = (load: string) => `
${load}
class Reader extends MetricReader { onShutdown() { return Promise.resolve(); } onForceFlush() { return Promise.resolve(); } }
const pool = new AsyncPool({ name: 'db', factory: () => ({ id: 1 }), maxSize: 3 });
const registry = new Registry();
const prom = registerPoolMetrics(pool, { registry });
const reader = new Reader();
const meter = new MeterProvider({ readers: [reader] }).getMeter('t');
const otel = instrumentPool(pool, { meter });
const r = await pool.acquire();
pool.release(r);
const text = await registry.metrics();
const { resourceMetrics } = await reader.collect();
const names = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name)).sort();
prom.unregister();
otel.remove();
await pool.dispose();
console.log(JSON.stringify({
  acquires: /^poolkeeper_acquires_total\\{pool="db"\\} 1$/m.test(text),
  waits: /^poolkeeper_acquire_wait_seconds_count\\{pool="db"\\} 1$/m.test(text),
  names,
  left: registry.getMetricsAsArray().length,
}));
`;

const expected = {
  acquires: true,
  waits: true,
  names: [
    'db.client.connection.count',
    'db.client.connection.create_time',
    'db.client.connection.idle.max',
    'db.client.connection.idle.min',
    'db.client.connection.max',
    'db.client.connection.pending_requests',
    'db.client.connection.timeouts',
    'db.client.connection.use_time',
    'db.client.connection.wait_time',
  ],
  left: 0,
};

test('import works (ESM)', () => {
  writeFileSync(
    join(scratch, 'esm.mjs'),
    program(`
import { AsyncPool } from 'poolkeeper';
import { registerPoolMetrics } from 'poolkeeper/prometheus';
import { instrumentPool } from 'poolkeeper/otel';
import { Registry } from 'prom-client';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';`),
  );
  expect(run('esm.mjs')).toEqual(expected);
});

test('require works (CommonJS)', () => {
  writeFileSync(
    join(scratch, 'cjs.cjs'),
    `(async () => {${program(`
const { AsyncPool } = require('poolkeeper');
const { registerPoolMetrics } = require('poolkeeper/prometheus');
const { instrumentPool } = require('poolkeeper/otel');
const { Registry } = require('prom-client');
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');`)}})();`,
  );
  expect(run('cjs.cjs')).toEqual(expected);
});
