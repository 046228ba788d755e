/**
 * Callbacks run outside any promise chain: a callback that throws is an uncaught exception (as
 * with pg-pool), never an unhandled rejection. Checked in a child process against the built
 * module (`npm test` builds before jest runs), since jest itself intercepts uncaught exceptions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../../dist/esm/pg/index.js', import.meta.url));

const script = `
import { EventEmitter } from 'node:events';
import { Pool } from ${JSON.stringify(built)};
class Client extends EventEmitter {
  connect(cb) { setImmediate(cb); }
  query(text, values, cb) { setImmediate(() => cb(undefined, { rows: [] })); }
  end(cb) { setImmediate(() => cb && cb()); }
}
process.on('unhandledRejection', () => { console.log('unhandledRejection'); process.exit(3); });
process.on('uncaughtException', (error) => { console.log('uncaught: ' + error.message); process.exit(0); });
const pool = new Pool({ Client });
CALL((err, client) => { throw new Error('from the callback'); });
`;

test.each([['connect'], ['query']])('%s(callback): a throwing callback is an uncaught exception', (method) => {
  expect(existsSync(built)).toBe(true); // run `npm run build` first (npm test does)
  const source = script.replace('CALL(', method === 'connect' ? 'pool.connect(' : "pool.query('SELECT 1', ");
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8', timeout: 15_000 });
  expect(child.stdout.trim()).toBe('uncaught: from the callback');
  expect(child.status).toBe(0);
});
