/**
 * Packs the library as npm would publish it, installs the tarball into a scratch CommonJS project
 * under the OS temp dir (`npm install --offline`: the runtime dependency comes from npm's cache,
 * never the network), and uses it there the ways a Node project does: `import`, `require` without
 * `require(esm)`, Jest in its default CommonJS mode, TypeScript under node10/node16/bundler, and
 * both builds in one process. Every entry of package.json `exports` is covered, so a new subpath
 * is tested without touching this file. Its optional peers are linked from this checkout.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
  peerDependencies?: Record<string, string>;
};
/** `poolkeeper`, `poolkeeper/pg`, …: every entry of `exports` but `./package.json`. */
const specifiers = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'poolkeeper' : `poolkeeper/${key.slice(2)}`));

/** The packages `dependencies` pulls in, transitively, per this checkout's lock file. */
function runtimeClosure(): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dependencies?: Record<string, string> }>;
  };
  const names = new Set<string>();
  const visit = (deps: Record<string, string> | undefined): void => {
    for (const name of Object.keys(deps ?? {})) {
      if (names.has(name)) continue;
      names.add(name);
      visit(lock.packages[`node_modules/${name}`]?.dependencies);
    }
  };
  visit(lock.packages['']!.dependencies);
  return [...names];
}

const LONG = 300_000; // a loaded 2-core machine can be slow to start node, npm, jest and tsc
let scratch: string;
let app: string;
let installed: string;
let files: string[];

/** Environment for child processes: no Jest ESM flag, no settings of the npm run that started us. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle)_|^npm_config_(local_prefix|prefix|global)$|^INIT_CWD$/i.test(key)) continue;
    env[key] = value;
  }
  env.NODE_OPTIONS = '';
  return env;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string): Promise<Result> {
  return new Promise((resolveRun) => {
    execFile(file, args, { cwd, env: childEnv(), encoding: 'utf8', timeout: LONG, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolveRun({ code, stdout, stderr: stderr + (error !== null && typeof error.code !== 'number' ? `\n${error.message}` : '') });
    });
  });
}

/** Runs and expects success; on failure the assertion shows everything the child printed. */
async function ok(file: string, args: string[], cwd = app): Promise<string> {
  const result = await run(file, args, cwd);
  expect({ code: result.code, output: result.code === 0 ? '' : `${result.stdout}\n${result.stderr}` }).toEqual({ code: 0, output: '' });
  return result.stdout;
}

const node = (args: string[]) => ok(process.execPath, args);

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'poolkeeper-pack-'));
  app = join(scratch, 'app');
  mkdirSync(app);
  // `npm test` builds dist/ before jest starts; packing without scripts avoids rebuilding it
  // under other test files that read it.
  const packed = await ok('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], root);
  const [info] = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  files = info!.files.map((f) => f.path).sort();
  // A CommonJS project (no "type"), as most Node projects that run Jest are. npm keeps no registry
  // metadata from `npm ci`, so the runtime dependencies (p-queue and what it needs) are pinned to
  // the copies installed in this checkout: the install then needs no network.
  const overrides: Record<string, string> = {};
  for (const name of runtimeClosure()) overrides[name] = `file:${join(root, 'node_modules', name)}`;
  const manifest = { name: 'scratch-app', version: '1.0.0', private: true, dependencies: { poolkeeper: `file:../${info!.filename}` }, overrides };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await ok('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
  installed = join(app, 'node_modules', 'poolkeeper');
  // Optional peers (and their types) are not installed by npm; a user who wants `poolkeeper/pg`
  // installs `pg`. Link the copies this checkout uses for its own tests.
  for (const name of Object.keys(pkg.peerDependencies ?? {})) {
    for (const dep of [name, `@types/${name.replace(/^@([^/]+)\//, '$1__')}`]) {
      const from = join(root, 'node_modules', dep);
      const to = join(app, 'node_modules', dep);
      if (existsSync(from) && !existsSync(to)) {
        mkdirSync(dirname(to), { recursive: true });
        symlinkSync(from, to, 'dir');
      }
    }
  }
}, LONG);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('the tarball holds what a user needs and nothing else', () => {
  for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/cjs/package.json', 'dist/cjs/vendor/p-queue.js']) {
    expect(files).toContain(f);
  }
  for (const target of JSON.stringify(pkg.exports).match(/\.\/dist\/[^"]+/g)!) expect(files).toContain(target.slice(2));
  const unexpected = files.filter(
    (f) =>
      !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/cjs\/package\.json|dist\/cjs\/vendor\/[\w.-]+\.js|src\/[\w/-]+\.ts|dist\/(esm|cjs)\/[\w/-]+\.(js|d\.ts)(\.map)?)$/.test(f),
  );
  expect(unexpected).toEqual([]);
});

test('every source map that a packed file references is packed, and so is every source it maps', () => {
  let references = 0;
  for (const f of files.filter((name) => /\.(js|d\.ts)$/.test(name))) {
    const match = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(installed, f), 'utf8'));
    if (match === null) continue;
    references++;
    const map = join(dirname(f), match[1]!);
    expect(files).toContain(map);
    const { sources } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[] };
    for (const source of sources) expect(files).toContain(join(dirname(map), source));
  }
  expect(references).toBeGreaterThan(0);
  // And no map without the file it belongs to.
  for (const f of files.filter((name) => name.endsWith('.map'))) expect(files).toContain(f.slice(0, -'.map'.length));
});

test('each build holds one copy of each class: subpaths load the core modules, not copies of them', () => {
  for (const build of ['esm', 'cjs']) {
    const seen = new Map<string, string>();
    for (const f of files.filter((name) => name.startsWith(`dist/${build}/`) && name.endsWith('.js') && !name.includes('/vendor/'))) {
      for (const [, name] of readFileSync(join(installed, f), 'utf8').matchAll(/^(?:export )?class (\w+)/gm)) {
        expect({ name, file: f, alsoIn: seen.get(name!) }).toEqual({ name, file: f, alsoIn: undefined });
        seen.set(name!, f);
      }
    }
    expect(seen.get('AsyncPool')).toBe(`dist/${build}/async-pool.js`);
  }
});

const program = (load: string) => `
${load}
const pool = new AsyncPool({ factory: () => ({ id: 1 }), maxSize: 1, createRatePerSec: 100 });
const r = await pool.acquire();
pool.release(r);
const o = new ObjectPool({ factory: () => [] });
o.release(o.acquire());
let code;
try { pool.release(r); } catch (e) { code = e instanceof PoolError && e.code; }
await pool.dispose();
console.log(JSON.stringify({ id: r.id, idle: o.idle, code }));
`;
const expected = { id: 1, idle: 1, code: 'ERR_NOT_BORROWED' };

test('import works (ESM), for every entry', async () => {
  const source = `${program(`import { AsyncPool, ObjectPool, PoolError } from 'poolkeeper';`)}
for (const s of ${JSON.stringify(specifiers)}) await import(s);`;
  writeFileSync(join(app, 'esm.mjs'), source);
  expect(JSON.parse(await node(['esm.mjs']))).toEqual(expected);
}, LONG);

test('require works (CommonJS) without require(esm), for every entry; the core loads no other package', async () => {
  const source = `
const { AsyncPool, ObjectPool, PoolError } = require('poolkeeper');
const path = require('node:path');
const own = path.dirname(require.resolve('poolkeeper/package.json')) + path.sep;
const foreign = Object.keys(require.cache).filter((f) => !f.startsWith(own) && f !== __filename);
if (foreign.length > 0) throw new Error('require("poolkeeper") loaded ' + foreign.join(', '));
for (const s of ${JSON.stringify(specifiers)}) require(s);
(async () => {${program('')}})();`;
  writeFileSync(join(app, 'cjs.js'), source);
  // Without the flag, Node 20.19+ could load an ESM-only dependency through require(esm) and hide
  // what Jest's default mode and older loaders cannot do.
  expect(JSON.parse(await node(['--no-experimental-require-module', 'cjs.js']))).toEqual(expected);
}, LONG);

test('Jest in its default (CommonJS) mode runs a consumer test suite', async () => {
  mkdirSync(join(app, 'test'), { recursive: true });
  writeFileSync(
    join(app, 'test', 'pool.test.js'),
    `const { AsyncPool, AcquireTimeoutError, PoolError } = require('poolkeeper');

test('acquire and release', async () => {
  const pool = new AsyncPool({ factory: async () => ({ id: 1 }), maxSize: 1, createRatePerSec: 100 });
  await pool.use(async (r) => expect(r.id).toBe(1));
  expect(pool.idle).toBe(1);
  await pool.dispose();
});

test('fake timers drive the acquire timeout', async () => {
  jest.useFakeTimers();
  try {
    const pool = new AsyncPool({ factory: () => ({}), maxSize: 1, acquireTimeoutMs: 1000 });
    const held = await pool.acquire();
    const waiting = pool.acquire().catch((e) => e);
    await jest.advanceTimersByTimeAsync(1000);
    const error = await waiting;
    expect(error).toBeInstanceOf(AcquireTimeoutError);
    expect(error).toBeInstanceOf(PoolError);
    pool.release(held);
    await pool.dispose();
  } finally {
    jest.useRealTimers();
  }
});
`,
  );
  const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const out = await run(process.execPath, [jest, '--ci', '--no-watchman', '--rootDir', app, '--cacheDirectory', join(scratch, 'jest-cache'), '--json'], app);
  const report = out.stdout.includes('{') ? (JSON.parse(out.stdout.slice(out.stdout.indexOf('{'))) as { numPassedTests: number; numTotalTests: number }) : undefined;
  expect({ code: out.code, passed: report?.numPassedTests, output: out.code === 0 ? '' : out.stderr }).toEqual({ code: 0, passed: 2, output: '' });
}, LONG);

test('TypeScript consumers compile (strict) under node10, node16 and bundler resolution, with the matching declarations', async () => {
  const dir = join(app, 'ts');
  mkdirSync(dir, { recursive: true });
  const body = (imports: string) => `${imports}
${specifiers.map((s, i) => `import * as entry${i} from '${s}';\nvoid entry${i};`).join('\n')}

interface Conn { readonly id: number; query(sql: string): Promise<number> }
export async function main(): Promise<number> {
  const pool = new AsyncPool<Conn>({ factory: async () => ({ id: 1, query: async () => 1 }), maxSize: 2 });
  pool.on('create', (event) => { const id: number = event.resource.id; void id; });
  pool.once('acquire', (event) => { const waited: number = event.waitedMs; void waited; });
  const n = await pool.use((c) => c.query('SELECT 1'));
  {
    await using lease = await pool.borrow();
    const id: number = lease.resource.id;
    void id;
  }
  try {
    await pool.acquire({ timeoutMs: 1 });
  } catch (error) {
    if (error instanceof AcquireTimeoutError) { const busy: number = error.counts.borrowed; void busy; }
    if (error instanceof PoolError) { const code: PoolErrorCode = error.code; void code; }
  }
  await pool.dispose();
  return n;
}
`;
  const named = `import { AsyncPool, AcquireTimeoutError, PoolError, type PoolErrorCode } from 'poolkeeper';`;
  writeFileSync(join(dir, 'consumer.ts'), body(named));
  writeFileSync(join(dir, 'consumer.mts'), body(named));
  const base = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: 'ES2022',
    lib: ['ES2022', 'ESNext.Disposable'],
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
  };
  const projects = {
    // TypeScript 6 allows synthetic default imports unless told not to; older compilers with
    // `esModuleInterop: false` do not, which is what users of node10 resolution mostly run.
    node10: {
      compilerOptions: { ...base, module: 'CommonJS', moduleResolution: 'node10', esModuleInterop: false, allowSyntheticDefaultImports: false, ignoreDeprecations: '6.0' },
      files: ['consumer.ts'],
    },
    node16: { compilerOptions: { ...base, module: 'Node16', moduleResolution: 'Node16' }, files: ['consumer.ts', 'consumer.mts'] },
    bundler: { compilerOptions: { ...base, module: 'ESNext', moduleResolution: 'Bundler' }, files: ['consumer.ts'] },
  };
  for (const [name, project] of Object.entries(projects)) writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify(project));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const listed = await Promise.all(Object.keys(projects).map((name) => node([tsc, '-p', join(dir, `tsconfig.${name}.json`), '--listFiles'])));
  const declarations = listed.map((out) =>
    out
      .split('\n')
      // The root entry's declarations (a subpath may have an index.d.ts of its own, e.g. pg/).
      .filter((line) => /\/node_modules\/poolkeeper\/dist\/(esm|cjs)\/index\.d\.ts$/.test(line))
      .map((line) => line.slice(line.indexOf('/node_modules/poolkeeper/') + '/node_modules/poolkeeper/'.length))
      .sort(),
  );
  // node10 ignores `exports`: `types` must lead it to the CommonJS declarations, matching `main`.
  expect(declarations).toEqual([['dist/cjs/index.d.ts'], ['dist/cjs/index.d.ts', 'dist/esm/index.d.ts'], ['dist/esm/index.d.ts']]);
}, LONG);

test('instanceof holds for every error class across the ESM and CommonJS builds in one process', async () => {
  const source = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const specifiers = ${JSON.stringify(specifiers)};
const counts = { size: 1, idle: 0, borrowed: 1, creating: 0, pending: 1, maxSize: 1 };
// Real constructor arguments where known; any other error class is tested through its prototype.
const args = {
  PoolError: ['ERR_POOL_DISPOSED', 'message'],
  AcquireTimeoutError: [10, counts, new Error('cause')],
  PoolDisposedError: ['acquire()'],
  PoolQueueFullError: [1, counts],
  NotBorrowedError: ['release()', 'foreign'],
  CreateTimeoutError: [10],
  PoolUnavailableError: [3, new Error('cause')],
  DestroyTimeoutError: [10],
  ValidateTimeoutError: [10],
  ResetTimeoutError: [10],
  BudgetUnavailableError: [new Error('cause')],
  RedisBudgetError: ['refresh', 'message'],
  AbortError: [],
};
const isErrorClass = (v) => typeof v === 'function' && v.prototype instanceof Error;
const classes = new Map(); // name -> [esm, cjs]
for (const s of specifiers) {
  const esm = await import(s);
  const cjs = require(s);
  for (const [name, value] of Object.entries(esm)) {
    if (!isErrorClass(value)) continue;
    if (!isErrorClass(cjs[name]) || cjs[name] === value) throw new Error(s + ': ' + name + ' is not a separate class in the CommonJS build');
    classes.set(name, [value, cjs[name]]);
  }
}
const make = (cls, name) => (name in args ? new cls(...args[name]) : Object.create(cls.prototype));
const mismatches = [];
for (const [name, pair] of classes) {
  for (const side of [0, 1]) {
    const instance = make(pair[side], name);
    for (const [other, otherPair] of classes) {
      // Within one copy instanceof follows the prototype chain; across copies it must agree.
      const same = instance instanceof otherPair[side];
      const across = instance instanceof otherPair[1 - side];
      if (same !== across) mismatches.push((side ? 'cjs ' : 'esm ') + name + ' instanceof ' + other + ': ' + same + ' in its own build, ' + across + ' across');
    }
  }
}
console.log(JSON.stringify({ names: [...classes.keys()].sort(), mismatches }));
`;
  writeFileSync(join(app, 'dual.mjs'), source);
  const result = JSON.parse(await node(['dual.mjs'])) as { names: string[]; mismatches: string[] };
  expect(result.mismatches).toEqual([]);
  expect(result.names).toEqual(expect.arrayContaining(['PoolError', 'AcquireTimeoutError', 'PoolDisposedError', 'AbortError']));
}, LONG);

// poolkeeper/redis-budget imports the core by relative path, so each build holds one copy of each
// class: an error the budget raises is an instance of the class the main entry exports.
const budgetProgram = `
const budget = new RedisBudget({ client: { evalsha() {} }, key: 'k', limit: 2 });
await budget.close();
let same;
try {
  await budget.acquire({ signal: new AbortController().signal, onLost() {} });
} catch (e) {
  same = e instanceof BudgetUnavailableError && e.code;
}
let invalid;
try { new RedisBudget({ client: { evalsha() {} }, key: 'k', limit: 0 }); } catch (e) { invalid = e.name; }
console.log(JSON.stringify({ same, invalid }));
`;

test('poolkeeper/redis-budget shares the core\'s classes, by import and by require', async () => {
  writeFileSync(join(app, 'budget.mjs'), `import { BudgetUnavailableError } from 'poolkeeper';\nimport { RedisBudget } from 'poolkeeper/redis-budget';\n${budgetProgram}`);
  writeFileSync(join(app, 'budget.js'), `const { BudgetUnavailableError } = require('poolkeeper');\nconst { RedisBudget } = require('poolkeeper/redis-budget');\n(async () => {${budgetProgram}})();`);
  const expected = { same: 'ERR_BUDGET_UNAVAILABLE', invalid: 'RangeError' };
  expect(JSON.parse(await node(['budget.mjs']))).toEqual(expected);
  expect(JSON.parse(await node(['--no-experimental-require-module', 'budget.js']))).toEqual(expected);
}, LONG);
