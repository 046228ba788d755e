// Builds dist/esm (ES modules) and dist/cjs (CommonJS) from src/, one output file per source
// module in each, so every entry of package.json `exports` in a build shares one copy of the core
// classes (`poolkeeper/pg` loads ../async-pool.js, the same module `poolkeeper` loads).
//
// The CommonJS build must load where `require()` cannot load ES modules (Jest's default mode,
// `--no-experimental-require-module`), so it carries its runtime dependencies: each package in
// `dependencies` (p-queue, ESM-only) is bundled by esbuild into dist/cjs/vendor/<name>.js and the
// build's `require('<name>')` calls point there. The ESM build imports them from node_modules.
// Optional peers stay external, required only by the subpath that needs them.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { drift, entries } from './package-entries.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dependencies = Object.keys(pkg.dependencies ?? {});
const peers = Object.keys(pkg.peerDependencies ?? {});

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

function tsc(project) {
  const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail(`tsc -p ${project} failed`);
}

function filesUnder(dir, suffix) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(suffix))
    .map((d) => join(d.parentPath, d.name));
}

/** The package a bare specifier names: `pg`, `@opentelemetry/api`, from `pg/lib/x` or `@a/b/c`. */
function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Reads the license notices of the packages esbuild took `inputs` from, for the bundle's banner. */
function notices(inputs) {
  const dirs = new Set();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) dirs.add(match[1]);
  }
  return [...dirs].sort().map((dir) => {
    const meta = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    const licenseFile = readdirSync(join(root, dir)).find((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f));
    const text = licenseFile ? readFileSync(join(root, dir, licenseFile), 'utf8').trim() : `License: ${meta.license}`;
    return `${meta.name} ${meta.version} (${meta.license})\n\n${text}`;
  });
}

// 1. Entry points: exports is the one list; main/types/typesVersions must follow it.
let list;
try {
  list = entries(pkg);
} catch (error) {
  fail(error.message);
}
const problems = drift(pkg);
if (problems.length > 0) fail(`${problems.join('\n')}\nRun: node scripts/package-entries.mjs --write`);

// 2. Compile every module of src/ twice.
rmSync(join(root, 'dist'), { recursive: true, force: true });
tsc('tsconfig.build.json');
tsc('tsconfig.cjs.json');
// dist/cjs holds CommonJS files inside a "type": "module" package: this marker tells Node so.
writeFileSync(join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');

// 3. Carry the runtime dependencies inside the CommonJS build.
const cjsDir = join(root, 'dist/cjs');
for (const name of dependencies) {
  const outfile = join(cjsDir, 'vendor', `${name}.js`);
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: [name],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    outfile,
    write: false,
    metafile: true,
    legalComments: 'inline',
    logLevel: 'warning',
  });
  const banner = `/*!\n * ${name}, bundled for poolkeeper's CommonJS build (its ESM build imports the package itself).\n *\n${notices(Object.keys(result.metafile.inputs))
    .join('\n\n')
    .split('\n')
    .map((line) => ` *${line ? ` ${line}` : ''}`)
    .join('\n')}\n */\n`;
  writeFileSync(outfile, banner + result.outputFiles[0].text);
}

const requirePattern = /\brequire\((["'])([^"']+)\1\)/g;
for (const file of filesUnder(cjsDir, '.js')) {
  if (file.startsWith(join(cjsDir, 'vendor') + sep)) continue;
  const source = readFileSync(file, 'utf8');
  const rewritten = source.replace(requirePattern, (call, quote, specifier) => {
    if (!dependencies.includes(specifier)) return call;
    let target = relative(dirname(file), join(cjsDir, 'vendor', `${specifier}.js`)).split(sep).join('/');
    if (!target.startsWith('.')) target = `./${target}`;
    return `require(${quote}${target}${quote})`;
  });
  if (rewritten !== source) writeFileSync(file, rewritten);
}

// 4. Check what each build loads at run time and names in its declarations.
const errors = [];
// TypeScript's pre-processor lists imports and require() calls, ignoring comments and strings.
const ts = require('typescript');
function checkSpecifiers(file, allowed) {
  for (const { fileName: specifier } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
    if (specifier.startsWith('.')) {
      if (!existsSync(join(dirname(file), specifier))) errors.push(`${relative(root, file)} loads ${specifier}, which does not exist`);
    } else if (!isBuiltin(specifier) && !allowed.includes(packageOf(specifier))) {
      errors.push(`${relative(root, file)} loads '${specifier}', which is neither carried in the build nor an optional peer`);
    }
  }
}
const vendorDir = join(cjsDir, 'vendor') + sep;
for (const file of filesUnder(cjsDir, '.js')) if (!file.startsWith(vendorDir)) checkSpecifiers(file, peers);
// A CommonJS declaration file that names an ESM-only dependency breaks CommonJS consumers' types.
for (const file of filesUnder(cjsDir, '.d.ts')) checkSpecifiers(file, peers);
for (const file of [...filesUnder(join(root, 'dist/esm'), '.js'), ...filesUnder(join(root, 'dist/esm'), '.d.ts')]) {
  checkSpecifiers(file, [...dependencies, ...peers]);
}
for (const { module } of list) {
  for (const file of [`dist/esm/${module}.js`, `dist/esm/${module}.d.ts`, `dist/cjs/${module}.js`, `dist/cjs/${module}.d.ts`]) {
    if (!existsSync(join(root, file))) errors.push(`${file} was not built`);
  }
}
if (errors.length > 0) fail(errors.join('\n'));
