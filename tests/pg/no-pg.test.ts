/**
 * `poolkeeper/pg` where `pg` is not installed: a Pool given its own Client works, and one that
 * needs `pg.Client` says what to install. Loads the built package (`npm test` builds before jest
 * runs) from a scratch directory whose node_modules holds poolkeeper and its runtime dependency
 * only, in child processes, by import and by require.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
let scratch: string;

beforeAll(() => {
  expect(existsSync(join(root, 'dist/esm/pg/index.js'))).toBe(true); // run `npm run build` first (npm test does)
  scratch = mkdtempSync(join(tmpdir(), 'poolkeeper-no-pg-'));
  const modules = join(scratch, 'node_modules');
  const own = join(modules, 'poolkeeper');
  mkdirSync(own, { recursive: true });
  cpSync(join(root, 'dist'), join(own, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(own, 'package.json'));
  // The ESM build imports p-queue (the CommonJS build carries its own copy); link it and what it needs.
  const linked = ['p-queue', ...Object.keys((JSON.parse(readFileSync(join(root, 'node_modules/p-queue/package.json'), 'utf8')) as { dependencies?: object }).dependencies ?? {})];
  for (const name of linked) symlinkSync(join(root, 'node_modules', name), join(modules, name), 'dir');
  writeFileSync(join(scratch, 'package.json'), '{ "name": "scratch", "private": true }\n');
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const program = `
class Client {
  on() {}
  connect(cb) { setImmediate(cb); }
  query(text, values, cb) { setImmediate(() => cb(undefined, { rows: [{ text }] })); }
  end(cb) { setImmediate(() => cb && cb()); }
}
const pool = new Pool({ Client, max: 2 });
const { rows } = await pool.query('SELECT 1');
await pool.end();
let missing;
try {
  const bare = new Pool();
  await bare.query('SELECT 1');
} catch (e) {
  missing = /install it/.test(e.message);
}
console.log(JSON.stringify({ text: rows[0].text, ended: pool.ended, missing }));
`;

function run(file: string, source: string): unknown {
  writeFileSync(join(scratch, file), source);
  const out = execFileSync(process.execPath, [file], { cwd: scratch, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 });
  return JSON.parse(out);
}

test('ESM: works with its own Client, and names the missing package otherwise', () => {
  expect(run('pg.mjs', `import { Pool } from 'poolkeeper/pg';\n${program}`)).toEqual({ text: 'SELECT 1', ended: true, missing: true });
});

test('CommonJS: the same (pg is required when such a pool is constructed, as pg-pool does)', () => {
  expect(run('pg.cjs', `const { Pool } = require('poolkeeper/pg');\n(async () => {${program}})();`)).toEqual({ text: 'SELECT 1', ended: true, missing: true });
});
