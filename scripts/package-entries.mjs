// The package's entry points come from ONE list: package.json `exports`. Everything else that
// names an entry (`main`, `module`, `types`, `typesVersions`) is derived from it here, so adding
// a subpath is one `exports` entry followed by `node scripts/package-entries.mjs --write`.
// The build runs `check`, so the derived fields cannot drift from `exports`.
//
//   node scripts/package-entries.mjs           check, exit 1 with what to change
//   node scripts/package-entries.mjs --write   rewrite the derived fields in package.json
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);

/** The shape every entry must have; `<p>` is the module's path under src/ without extension. */
function expectedEntry(p) {
  return {
    import: { types: `./dist/esm/${p}.d.ts`, default: `./dist/esm/${p}.js` },
    require: { types: `./dist/cjs/${p}.d.ts`, default: `./dist/cjs/${p}.js` },
  };
}

/**
 * The entries of `pkg.exports`, `./package.json` aside: `{ subpath, module }` where `module` is the
 * path under src/ (and dist/esm, dist/cjs) without extension, e.g. `{ subpath: './pg', module: 'pg/index' }`.
 * Throws, naming the entry, when one is not shaped like `expectedEntry`.
 */
export function entries(pkg) {
  const list = [];
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (subpath === './package.json') continue;
    const path = target?.import?.default;
    const match = typeof path === 'string' ? /^\.\/dist\/esm\/(.+)\.js$/.exec(path) : null;
    if (match === null) throw new Error(`package.json exports[${JSON.stringify(subpath)}].import.default must be ./dist/esm/<module>.js, got ${JSON.stringify(path)}`);
    const module = match[1];
    const expected = expectedEntry(module);
    if (JSON.stringify(target) !== JSON.stringify(expected)) {
      throw new Error(`package.json exports[${JSON.stringify(subpath)}] must be exactly (key order included):\n${JSON.stringify(expected, null, 2)}`);
    }
    if (!existsSync(new URL(`src/${module}.ts`, root))) throw new Error(`package.json exports[${JSON.stringify(subpath)}]: src/${module}.ts does not exist`);
    list.push({ subpath, module });
  }
  if (!list.some((e) => e.subpath === '.')) throw new Error('package.json exports has no "." entry');
  return list;
}

/**
 * Fields derived from `exports`. `main`/`types` name the CommonJS build so that TypeScript's
 * node10 resolution (which ignores `exports`) finds declarations that match what `require` loads;
 * `typesVersions` does the same for each subpath (`poolkeeper/pg` → dist/cjs/pg/index.d.ts).
 */
export function derivedFields(pkg) {
  const list = entries(pkg);
  const main = list.find((e) => e.subpath === '.');
  const fields = {
    main: `./dist/cjs/${main.module}.js`,
    module: `./dist/esm/${main.module}.js`,
    types: `./dist/cjs/${main.module}.d.ts`,
  };
  const subpaths = list.filter((e) => e.subpath !== '.');
  if (subpaths.length > 0) {
    fields.typesVersions = { '*': Object.fromEntries(subpaths.map((e) => [e.subpath.slice(2), [`./dist/cjs/${e.module}.d.ts`]])) };
  }
  return fields;
}

/** Differences between `pkg` and its derived fields, as messages; empty when in step. */
export function drift(pkg) {
  const fields = derivedFields(pkg);
  const problems = [];
  for (const key of ['main', 'module', 'types', 'typesVersions']) {
    if (JSON.stringify(pkg[key]) !== JSON.stringify(fields[key])) {
      problems.push(`package.json "${key}" is ${JSON.stringify(pkg[key])}; exports implies ${JSON.stringify(fields[key])}`);
    }
  }
  return problems;
}

function write(pkg) {
  const fields = derivedFields(pkg);
  // Rebuild the object so the derived fields sit together, before `exports`.
  const out = {};
  for (const [key, value] of Object.entries(pkg)) {
    if (key === 'main' || key === 'module' || key === 'types' || key === 'typesVersions') continue;
    if (key === 'exports') Object.assign(out, fields);
    out[key] = value;
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = new URL('package.json', root);
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  if (process.argv.includes('--write')) {
    writeFileSync(file, `${JSON.stringify(write(pkg), null, 2)}\n`);
  } else {
    const problems = drift(pkg);
    if (problems.length > 0) {
      console.error(`${problems.join('\n')}\nRun: node scripts/package-entries.mjs --write`);
      process.exit(1);
    }
  }
}
