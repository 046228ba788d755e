/**
 * Packs the library as npm would publish it, installs the tarball into a scratch project, and
 * loads it there with `import` and with `require` in child processes: what users get.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
let scratch: string;
let files: string[];

function run(args: string[], cwd: string): string {
  return execFileSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'poolkeeper-pack-'));
  // `npm test` builds dist/ before jest starts; packing without scripts avoids rebuilding it
  // under other test files that read it.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  files = info!.files.map((f) => f.path).sort();
  const pkgDir = join(scratch, 'node_modules', 'poolkeeper');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', join(scratch, info!.filename), '-C', pkgDir, '--strip-components=1']);
  // The runtime dependency, taken from this checkout rather than the registry.
  symlinkSync(join(root, 'node_modules', 'p-queue'), join(scratch, 'node_modules', 'p-queue'), 'dir');
  writeFileSync(join(scratch, 'package.json'), '{ "name": "scratch", "private": true }\n');
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const program = (load: string) => `
${load}
const pool = new AsyncPool({ factory: () => ({ id: 1 }), maxSize: 1 });
const r = await pool.acquire();
pool.release(r);
const o = new ObjectPool({ factory: () => [] });
o.release(o.acquire());
let code;
try { pool.release(r); } catch (e) { code = e instanceof PoolError && e.code; }
await pool.dispose();
console.log(JSON.stringify({ id: r.id, idle: o.idle, code }));
`;

test('the tarball holds only what a user needs', () => {
  expect(files).toContain('package.json');
  expect(files).toContain('README.md');
  expect(files).toContain('LICENSE');
  expect(files).toContain('dist/esm/index.js');
  expect(files).toContain('dist/esm/index.d.ts');
  expect(files).toContain('dist/cjs/index.js');
  expect(files).toContain('dist/cjs/index.d.ts');
  expect(files).toContain('dist/cjs/package.json');
  const unexpected = files.filter((f) => !/^(package\.json|README\.md|LICENSE|dist\/(esm|cjs)\/[\w-]+\.(js|d\.ts)|dist\/cjs\/package\.json)$/.test(f));
  expect(unexpected).toEqual([]);
});

test('import works (ESM)', () => {
  const source = program(`import { AsyncPool, ObjectPool, PoolError } from 'poolkeeper';`);
  writeFileSync(join(scratch, 'esm.mjs'), source);
  expect(JSON.parse(run(['esm.mjs'], scratch))).toEqual({ id: 1, idle: 1, code: 'ERR_NOT_BORROWED' });
});

test('require works (CommonJS)', () => {
  const source = `const { AsyncPool, ObjectPool, PoolError } = require('poolkeeper');\n(async () => {${program('')}})();`;
  writeFileSync(join(scratch, 'cjs.cjs'), source);
  expect(JSON.parse(run(['cjs.cjs'], scratch))).toEqual({ id: 1, idle: 1, code: 'ERR_NOT_BORROWED' });
});

test('both builds share error identity across copies: PoolError brand', () => {
  const source = `
import { createRequire } from 'node:module';
import { PoolDisposedError } from 'poolkeeper';
const { PoolError } = createRequire(import.meta.url)('poolkeeper');
console.log(JSON.stringify(new PoolDisposedError('x') instanceof PoolError));
`;
  writeFileSync(join(scratch, 'dual.mjs'), source);
  expect(run(['dual.mjs'], scratch).trim()).toBe('true');
});
