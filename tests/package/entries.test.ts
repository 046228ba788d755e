/**
 * package.json `exports` is the one list of entry points; `main`, `module`, `types` and
 * `typesVersions` are derived from it by scripts/package-entries.mjs, and the build refuses to run
 * when they disagree. These tests pin that derivation.
 */
import { readFileSync } from 'node:fs';
import { derivedFields, drift, entries } from '../../scripts/package-entries.mjs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Record<string, unknown> & {
  exports: Record<string, unknown>;
};

const entry = (module: string) => ({
  import: { types: `./dist/esm/${module}.d.ts`, default: `./dist/esm/${module}.js` },
  require: { types: `./dist/cjs/${module}.d.ts`, default: `./dist/cjs/${module}.js` },
});

test('this package.json is in step with its exports', () => {
  expect(drift(pkg)).toEqual([]);
  expect(pkg.types).toBe('./dist/cjs/index.d.ts');
  expect(pkg.main).toBe('./dist/cjs/index.js');
});

test('a subpath entry maps, for node10, to its CommonJS declarations', () => {
  // src/async-pool.ts and src/errors.ts stand in for subpath modules: both exist.
  const next = { ...pkg, exports: { ...pkg.exports, './pool': entry('async-pool'), './errors': entry('errors') } };
  expect(entries(next).map((e) => e.subpath)).toEqual(expect.arrayContaining(['.', './pool', './errors']));
  expect(derivedFields(next).typesVersions).toEqual({
    '*': { pool: ['./dist/cjs/async-pool.d.ts'], errors: ['./dist/cjs/errors.d.ts'], ...((pkg.typesVersions as { '*'?: object } | undefined)?.['*'] ?? {}) },
  });
  // Adding the entry without re-deriving is drift, and says what to write.
  expect(drift(next).join('\n')).toMatch(/"typesVersions" .*exports implies .*"pool":\["\.\/dist\/cjs\/async-pool\.d\.ts"\]/);
});

test('an entry not shaped like "." is refused, naming it', () => {
  const swapped = { import: entry('errors').require, require: entry('errors').import };
  expect(() => entries({ ...pkg, exports: { ...pkg.exports, './errors': swapped } })).toThrow(/exports\["\.\/errors"\]/);
  const untyped = { import: { default: './dist/esm/errors.js' }, require: { default: './dist/cjs/errors.js' } };
  expect(() => entries({ ...pkg, exports: { ...pkg.exports, './errors': untyped } })).toThrow(/exports\["\.\/errors"\] must be exactly/);
  expect(() => entries({ ...pkg, exports: { ...pkg.exports, './nope': entry('nope') } })).toThrow(/src\/nope\.ts does not exist/);
  expect(() => entries({ ...pkg, exports: { './package.json': './package.json' } })).toThrow(/no "\." entry/);
});
