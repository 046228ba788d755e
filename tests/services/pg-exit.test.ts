/**
 * poolkeeper/pg's allowExitOnIdle against a real PostgreSQL, in child processes running the built
 * module (run `npm run build` first; `npm test` does): with it, a process whose pool is idle exits
 * on its own without end(); it never exits while a query is still running; without it, the idle
 * clients' sockets keep the process alive, as with pg-pool.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../../dist/esm/pg/index.js', import.meta.url));
const connection = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
};

/**
 * Runs `body` in a child process with `pool` in scope; resolves with its output and exit code, or
 * `killed` after `limitMs`, or `graceMs` after its output first contains `mark`.
 */
function run(
  options: object,
  body: string,
  limitMs: number,
  stopAfter?: { mark: string; graceMs: number },
): Promise<{ out: string; code: number | null; killed: boolean }> {
  const source = `
import { Pool } from ${JSON.stringify(built)};
process.on('unhandledRejection', (e) => { console.log('unhandledRejection ' + e); process.exit(3); });
const pool = new Pool(${JSON.stringify({ ...connection, ...options })});
${body}
`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let killed = false;
    const kill = (): void => {
      killed = true;
      child.kill('SIGKILL');
    };
    let timer = setTimeout(kill, limitMs);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (stopAfter !== undefined && out.includes(stopAfter.mark)) {
        clearTimeout(timer);
        timer = setTimeout(kill, stopAfter.graceMs);
        stopAfter = undefined;
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ out: out.trim(), code, killed });
    });
  });
}

beforeAll(() => {
  expect(existsSync(built)).toBe(true); // run `npm run build` first
});

test('allowExitOnIdle: an idle pool lets the process exit without end()', async () => {
  const child = await run(
    { allowExitOnIdle: true, idleTimeoutMillis: 0, max: 3 },
    // Two clients held at once, so both exist when they go idle: with two pool.query() calls the
    // first client could run both queries before the second had connected.
    `const clients = await Promise.all([pool.connect(), pool.connect()]);
     const r = await Promise.all(clients.map((client, i) => client.query(\`SELECT \${i + 1} AS n\`)));
     for (const client of clients) client.release();
     console.log(r.map((x) => x.rows[0].n).join(','), pool.idleCount);`,
    20_000,
  );
  expect(child).toEqual({ out: '1,2 2', code: 0, killed: false });
});

test('allowExitOnIdle: the process does not exit while a query is running', async () => {
  // Nothing but the query's socket holds the process: it must stay alive until the result comes.
  const child = await run(
    { allowExitOnIdle: true },
    `pool.query('SELECT pg_sleep(0.3), 42 AS n').then((r) => console.log('result', r.rows[0].n));`,
    20_000,
  );
  expect(child).toEqual({ out: 'result 42', code: 0, killed: false });
});

test('allowExitOnIdle: a waiter queued behind a running query keeps the process alive too', async () => {
  const child = await run(
    { allowExitOnIdle: true, max: 1 },
    `pool.query('SELECT pg_sleep(0.2)');
     pool.query('SELECT 7 AS n').then((r) => console.log('second', r.rows[0].n));`,
    20_000,
  );
  expect(child).toEqual({ out: 'second 7', code: 0, killed: false });
});

test('without allowExitOnIdle and with idleTimeoutMillis 0, idle clients keep the process alive', async () => {
  // Killed 1.5 s after its query: an exit before that would mean the idle clients let it go.
  const child = await run({ idleTimeoutMillis: 0 }, `await pool.query('SELECT 1'); console.log('done');`, 20_000, { mark: 'done', graceMs: 1_500 });
  expect(child.out).toBe('done');
  expect(child.killed).toBe(true);
});
