/**
 * A release listener that throws while pool.query() gives its client back: the query still
 * settles, and the listener's error is an uncaught exception (as in pg-pool), never a query left
 * pending forever nor an unhandled rejection. In a child process against the built module
 * (`npm test` builds first), since jest itself intercepts uncaught exceptions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../../dist/esm/pg/index.js', import.meta.url));

const script = (sync: boolean, fails: boolean): string => `
import { EventEmitter } from 'node:events';
import { Pool } from ${JSON.stringify(built)};
class Client extends EventEmitter {
  connect(cb) { setImmediate(cb); }
  query(text, values, cb) {
    const answer = () => ${fails ? "cb(new Error('bad query'))" : 'cb(undefined, { rows: [1] })'};
    ${sync ? 'answer()' : 'setImmediate(answer)'};
  }
  end(cb) { setImmediate(() => cb && cb()); }
}
const out = [];
process.on('unhandledRejection', () => { console.log('unhandledRejection'); process.exit(3); });
process.on('uncaughtException', (error) => { out.push('uncaught: ' + error.message); });
process.on('exit', () => console.log(out.join('|')));
const pool = new Pool({ Client });
pool.once('release', () => { throw new Error('listener'); });
pool.query('SELECT 1').then((r) => out.push('resolved ' + r.rows[0]), (e) => out.push('rejected ' + e.message))
  .then(() => pool.end()).then(() => out.push('ended'));
`;

test.each([
  [false, false, 'uncaught: listener|resolved 1|ended'],
  [true, false, 'uncaught: listener|resolved 1|ended'],
  [false, true, 'uncaught: listener|rejected bad query|ended'],
])('client answering synchronously: %s, query failing: %s', (sync, fails, expected) => {
  expect(existsSync(built)).toBe(true); // run `npm run build` first (npm test does)
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script(sync, fails)], { encoding: 'utf8', timeout: 15_000 });
  expect(child.stdout.trim().split('|').sort()).toEqual(expected.split('|').sort());
  expect(child.status).toBe(0);
});
