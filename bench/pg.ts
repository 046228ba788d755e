/**
 * `npm run bench:pg [-- options]`: poolkeeper's pool of `pg.Client`s (examples/postgres.ts, with
 * its validate and reset) against `pg.Pool`, on a real PostgreSQL (the same settings as the
 * example: 127.0.0.1:5432, database `test`, PG* variables override).
 *
 * Each round: 64 concurrent callers each run a fixed number of short queries, alternating
 * `SELECT 1` and a lookup by primary key in a table this script creates, through a pool of 10
 * connections. Rounds alternate which pool goes first; the result is the median of the rounds.
 *
 *   --rounds=N     measured rounds per pool (default 7)
 *   --queries=N    queries per caller per round (default 200)
 *   --callers=N    concurrent callers (default 64)
 *   --size=N       connections per pool (default 10)
 */
import pg from 'pg';
import type { AsyncPool } from 'poolkeeper';
import { createPgPool, pgConfig } from '../examples/postgres.js';

interface Options {
  readonly rounds: number;
  readonly queries: number;
  readonly callers: number;
  readonly size: number;
}

function parseArgs(argv: readonly string[]): Options {
  const options = { rounds: 7, queries: 200, callers: 64, size: 10 };
  for (const arg of argv) {
    const match = /^--(rounds|queries|callers|size)=(\d+)$/.exec(arg);
    if (match === null || Number(match[2]) < 1) {
      throw new Error(`unknown or invalid argument ${arg} (expected --rounds=N, --queries=N, --callers=N, --size=N with N >= 1)`);
    }
    options[match[1] as keyof Options] = Number(match[2]);
  }
  return options;
}

const TABLE = 'poolkeeper_bench_pg';
const ROWS = 10_000;
const LOOKUP = `SELECT name FROM ${TABLE} WHERE id = $1`;

/** Runs one query the way an application would with this pool; resolves with its rows. */
type Runner = (text: string, values?: unknown[]) => Promise<pg.QueryResult>;

interface Contender {
  readonly name: string;
  readonly run: Runner;
  close(): Promise<void>;
}

function poolkeeper(config: pg.ClientConfig, size: number): Contender {
  const pool: AsyncPool<pg.Client> = createPgPool({ config, pool: { maxSize: size } });
  return {
    name: 'poolkeeper',
    run: (text, values) => pool.use((client) => client.query(text, values)),
    close: () => pool.dispose(),
  };
}

function pgPool(config: pg.ClientConfig, size: number): Contender {
  const pool = new pg.Pool({ ...config, max: size });
  pool.on('error', () => {}); // an idle client's error: pg.Pool drops that client itself
  return {
    name: 'pg.Pool',
    run: (text, values) => pool.query(text, values),
    close: () => pool.end(),
  };
}

interface RoundResult {
  /** Queries per second (wall clock). */
  readonly qps: number;
  /** CPU time of this process per query, in microseconds: the pool's and the driver's cost, less sensitive to a busy machine. */
  readonly cpuUs: number;
}

/** One round: `callers` concurrent loops of `queries` queries. */
async function round(contender: Contender, options: Options): Promise<RoundResult> {
  let wrong = 0;
  const caller = async (index: number): Promise<void> => {
    for (let i = 0; i < options.queries; i++) {
      if (i % 2 === 0) {
        const { rows } = await contender.run('SELECT 1 AS one');
        if (rows[0]?.one !== 1) wrong++;
      } else {
        const id = ((index * 7919 + i * 104_729) % ROWS) + 1;
        const { rows } = await contender.run(LOOKUP, [id]);
        if (rows[0]?.name !== `name ${id}`) wrong++;
      }
    }
  };
  const total = options.callers * options.queries;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: options.callers }, (_, index) => caller(index)));
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  if (wrong > 0) throw new Error(`${contender.name}: ${wrong} queries returned a wrong result`);
  return { qps: total / seconds, cpuUs: (used.user + used.system) / total };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const format = (qps: number): string => `${Math.round(qps).toLocaleString('en-US')} q/s`;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const config = { ...pgConfig(), application_name: 'poolkeeper-bench-pg' };
  const admin = new pg.Client(config);
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL not reachable at ${config.host}:${config.port} (database "${config.database}") — start it or set PG* variables. Cause: ${String(error)}`);
  }
  const contenders = [poolkeeper(config, options.size), pgPool(config, options.size)];
  try {
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await admin.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, name text NOT NULL)`);
    await admin.query(`INSERT INTO ${TABLE} SELECT i, 'name ' || i FROM generate_series(1, ${ROWS}) AS i`);
    await admin.query(`ANALYZE ${TABLE}`);
    const { rows: [server] } = await admin.query<{ server_version: string }>('SHOW server_version');
    console.log(`PostgreSQL ${server?.server_version} at ${config.host}:${config.port}; ${options.callers} callers × ${options.queries} queries ` +
      `(SELECT 1 / lookup by id), pool size ${options.size}, ${options.rounds} rounds (+1 warm-up).`);

    // Warm-up: opens every connection, lets the JIT settle; not measured.
    for (const contender of contenders) await round(contender, options);

    const qpsOf = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    const cpuOf = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    const ratios: number[] = [];
    for (let r = 0; r < options.rounds; r++) {
      const order = r % 2 === 0 ? contenders : [...contenders].reverse();
      const results = new Map<string, RoundResult>();
      for (const contender of order) results.set(contender.name, await round(contender, options));
      for (const [name, result] of results) {
        qpsOf.get(name)!.push(result.qps);
        cpuOf.get(name)!.push(result.cpuUs);
      }
      const ratio = results.get('poolkeeper')!.qps / results.get('pg.Pool')!.qps;
      ratios.push(ratio);
      console.log(`  round ${r + 1}: ${[...results].map(([name, { qps, cpuUs }]) => `${name} ${format(qps)} (${cpuUs.toFixed(1)} µs CPU/query)`).join(', ')}` +
        `  ratio ${ratio.toFixed(3)}`);
    }

    const ours = median(qpsOf.get('poolkeeper')!);
    const theirs = median(qpsOf.get('pg.Pool')!);
    const cpu = (name: string): string => `${median(cpuOf.get(name)!).toFixed(1)} µs CPU/query in this process`;
    console.log('');
    console.log(`poolkeeper (pg.Client pool, validate + reset): ${format(ours).padStart(11)}  ${cpu('poolkeeper')}`);
    console.log(`pg.Pool:                                       ${format(theirs).padStart(11)}  ${cpu('pg.Pool')}`);
    console.log(`ratio poolkeeper / pg.Pool: ${(ours / theirs).toFixed(3)} (medians of ${options.rounds} rounds; per-round ratios: ` +
      `median ${median(ratios).toFixed(3)}, range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`);
  } finally {
    await Promise.all(contenders.map((c) => c.close()));
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => {});
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
