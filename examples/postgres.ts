/**
 * Pooling PostgreSQL connections (`pg.Client` from the `pg` package).
 *
 *     npm run example -- postgres
 *
 * Needs a PostgreSQL server: 127.0.0.1:5432, database `test`, user `$PGUSER` or the OS user; the
 * standard PG* variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE …) override.
 *
 * What the pool does for each client:
 * - validate: a client whose connection failed (the server restarted, an admin killed its
 *   backend) is never handed out; that check is local and free. A client idle for
 *   `idleCheckMs` or more is also asked `SELECT 1` first, since a connection can die quietly
 *   (a firewall dropping idle flows) without the client noticing.
 * - reset: a client given back inside a transaction (a caller forgot COMMIT, or returned early
 *   on an error) is rolled back, so the next caller never inherits its locks or half-done writes.
 *   A client given back broken is closed instead of kept.
 * - recycling: every connection is replaced after `recycleMs` (with jitter), so memory that
 *   builds up in long-lived backends is returned and connections follow a failover.
 * - shutdown: on SIGTERM/SIGINT, `dispose()` lets queries in flight finish, rejects waiters and
 *   closes every connection.
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { AsyncPool, PoolDisposedError, type AsyncPoolOptions } from 'poolkeeper';

/**
 * Connection settings: the defaults above, overridden by the PG* environment variables, then by
 * `overrides`. Variables not listed here (PGPASSWORD, PGSSLMODE …) are read by `pg` itself.
 */
export function pgConfig(overrides: pg.ClientConfig = {}): pg.ClientConfig {
  const env = process.env;
  return {
    host: env.PGHOST ?? '127.0.0.1',
    port: env.PGPORT === undefined ? 5432 : Number(env.PGPORT),
    database: env.PGDATABASE ?? 'test',
    user: env.PGUSER ?? os.userInfo().username,
    connectionTimeoutMillis: 5_000,
    ...overrides,
  };
}

/** Options of {@link createPgPool}. */
export interface PgPoolOptions {
  /** Connection settings. @defaultValue pgConfig() */
  readonly config?: pg.ClientConfig;
  /** A client idle at least this long is checked with `SELECT 1` before it is handed out. 0 checks every time. @defaultValue 30 000 */
  readonly idleCheckMs?: number;
  /** Any other pool option (maxSize, recycleMs, name …). */
  readonly pool?: Omit<AsyncPoolOptions<pg.Client>, 'factory' | 'releaser' | 'validate' | 'reset' | 'validateIdleAfterMs'>;
}

/** What the pool tracks about each client, beside the client itself. */
interface ClientState {
  /** Set when the connection failed: the client will never work again. */
  broken: Error | undefined;
  /** When the client was last given back (or created), from `performance.now()`. */
  idleSince: number;
}

/** A pool of connected `pg.Client`s. See the module header for what validate and reset do. */
export function createPgPool(options: PgPoolOptions = {}): AsyncPool<pg.Client> {
  const config = options.config ?? pgConfig();
  const idleCheckMs = options.idleCheckMs ?? 30_000;
  const states = new WeakMap<pg.Client, ClientState>();
  const stateOf = (client: pg.Client): ClientState => states.get(client)!;

  return new AsyncPool<pg.Client>({
    name: 'postgres',
    maxSize: 10,
    acquireTimeoutMs: 10_000,
    createTimeoutMs: 10_000,
    recycleMs: 30 * 60_000,
    idleTimeoutMs: 5 * 60_000,
    ...options.pool,
    factory: async () => {
      const client = new pg.Client(config);
      const state: ClientState = { broken: undefined, idleSince: performance.now() };
      // An idle client whose backend goes away emits 'error': without a listener that would
      // crash the process. The client is marked and validate/reset take it out of the pool.
      client.on('error', (error) => {
        state.broken ??= error;
      });
      client.on('end', () => {
        state.broken ??= new Error('the connection ended');
      });
      // The server announces the end of a session (backend terminated, server shutting down) with
      // a FATAL error just before it closes the socket. Marking the client then, rather than when
      // the socket closes, means a caller who saw that error and releases the client at once
      // cannot pass a dead connection on to the next caller.
      client.connection.on('errorMessage', (message: { severity?: string }) => {
        if (message.severity === 'FATAL' || message.severity === 'PANIC') {
          state.broken ??= new Error('the server ended the session', { cause: message });
        }
      });
      await client.connect();
      states.set(client, state);
      return client;
    },
    releaser: (client) => client.end(),
    // The pool calls validate on every hand-out (validateIdleAfterMs 0): the local check is free,
    // and the round trip happens only after an idle window, decided here.
    validateIdleAfterMs: 0,
    validate: (client) => {
      const state = stateOf(client);
      if (state.broken !== undefined) return false;
      if (performance.now() - state.idleSince < idleCheckMs) return true;
      return client.query('SELECT 1').then(() => true);
    },
    reset: (client) => {
      const state = stateOf(client);
      if (state.broken !== undefined) throw state.broken; // closes it: reason 'invalid'
      state.idleSince = performance.now();
      // 'I' is idle; 'T' (in a transaction) and 'E' (in a failed one) need a rollback. The status
      // comes with every query's last message, so this costs no round trip in the common case.
      if (client.getTransactionStatus() === 'I') return;
      return client.query('ROLLBACK').then(() => undefined);
    },
  });
}

/** Something that emits process signals: `process`, or an `EventEmitter` in tests. */
export type SignalSource = Pick<NodeJS.EventEmitter, 'on' | 'off'>;

/** Options of {@link disposeOnSignal}. */
export interface DisposeOnSignalOptions {
  /** @defaultValue ['SIGTERM', 'SIGINT'] */
  readonly signals?: readonly string[];
  /** @defaultValue process */
  readonly emitter?: SignalSource;
  /** How long queries in flight may take to finish before their connections are closed anyway. @defaultValue 10 000 */
  readonly timeoutMs?: number;
  /** @defaultValue console.log */
  readonly log?: (line: string) => void;
}

/**
 * On the first of `signals`, disposes the pool gracefully: callers holding a client finish their
 * queries, waiters and later acquires are rejected with `PoolDisposedError`, and every connection
 * is closed. Installing a signal listener replaces Node's default (exit at once): the process
 * then ends by itself once nothing else (a server, a timer) keeps it alive.
 *
 * @returns a function that removes the listeners.
 */
export function disposeOnSignal<T>(pool: AsyncPool<T>, options: DisposeOnSignalOptions = {}): () => void {
  const { signals = ['SIGTERM', 'SIGINT'], emitter = process, timeoutMs = 10_000, log = console.log } = options;
  const uninstall = (): void => {
    for (const signal of signals) emitter.off(signal, onSignal);
  };
  function onSignal(signal: string): void {
    uninstall();
    log(`${signal} received: closing the pool (queries in flight may finish within ${timeoutMs} ms).`);
    pool.dispose({ timeoutMs }).then(
      () => log('The pool is closed.'),
      (error: unknown) => log(`Closing the pool failed: ${String(error)}`),
    );
  }
  for (const signal of signals) emitter.on(signal, onSignal);
  return uninstall;
}

/** Runs `fn` inside a transaction on one pooled client: COMMIT if it succeeds, ROLLBACK if it throws. */
export async function transaction<R>(pool: AsyncPool<pg.Client>, fn: (client: pg.Client) => Promise<R>): Promise<R> {
  return pool.use(async (client) => {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  });
}

/** What {@link main} did, for the reader and for tests. */
export interface PostgresSummary {
  readonly clients: number;
  readonly lookups: number;
  /** Lookups that returned the expected row. */
  readonly lookupsOk: number;
  readonly transfers: number;
  /** True when the sum of all balances is the same after the concurrent transfers. */
  readonly balanceKept: boolean;
  /** True when the row written in a transaction left open was rolled back by reset. */
  readonly leftOpenRolledBack: boolean;
  /** Queries run right after a backend was killed (all should succeed). */
  readonly queriesAfterKill: number;
  /** Clients validate found broken and the pool replaced. */
  readonly replacedAfterKill: number;
  /** Connections opened over the whole run. */
  readonly connectionsOpened: number;
  /** Backends of this example still connected once `dispose()` resolved. */
  readonly backendsAfterDispose: number;
}

export interface MainOptions {
  /** Where the example prints what it does. @defaultValue console.log */
  readonly log?: (line: string) => void;
  /** Where shutdown signals come from. @defaultValue process */
  readonly signals?: SignalSource;
  /** Connection settings. @defaultValue pgConfig() */
  readonly config?: pg.ClientConfig;
}

/** Counts the backends connected with `applicationName`, waiting (up to 2 s) for closing ones to go. */
async function backendsOf(config: pg.ClientConfig, applicationName: string, expected = 0): Promise<number> {
  const admin = new pg.Client({ ...config, application_name: `${applicationName}-admin` });
  await admin.connect();
  try {
    let count = -1;
    for (let i = 0; i < 40; i++) {
      const { rows } = await admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      count = rows[0]!.n;
      if (count === expected) break;
      await new Promise((resolve) => setTimeout(resolve, 50)); // a backend exits a moment after its client leaves
    }
    return count;
  } finally {
    await admin.end();
  }
}

/** Runs the example against the server in `pgConfig()`. */
export async function main({ log = console.log, signals = process, config }: MainOptions = {}): Promise<PostgresSummary> {
  const applicationName = `poolkeeper-example-${process.pid}`;
  const settings = { ...(config ?? pgConfig()), application_name: applicationName };
  const table = `poolkeeper_example_${process.pid}`;
  const clients = 5;
  const pool = createPgPool({ config: settings, pool: { maxSize: clients } });
  const uninstall = disposeOnSignal(pool, { emitter: signals, log });
  try {
    await pool.prefill();
    log(`Connected ${pool.size} clients to PostgreSQL at ${settings.host}:${settings.port}, database ${settings.database} (prefill).`);

    await pool.use((client) => client.query(
      `CREATE TABLE ${table} (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL);
       INSERT INTO ${table} SELECT i, 'owner ' || i, 1000 FROM generate_series(1, 100) AS i`));

    // 1. Many concurrent callers, few connections.
    const callers = 40;
    const perCaller = 10;
    let lookupsOk = 0;
    await Promise.all(Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; i < perCaller; i++) {
        const id = ((caller * perCaller + i) % 100) + 1;
        const { rows } = await pool.use((client) => client.query(`SELECT owner FROM ${table} WHERE id = $1`, [id]));
        if (rows[0]?.owner === `owner ${id}`) lookupsOk++;
      }
    }));
    const lookups = callers * perCaller;
    log(`${callers} concurrent callers ran ${lookups} lookups over ${clients} connections; ${lookupsOk} returned the right row.`);

    // 2. Transactions: each transfer holds one client from BEGIN to COMMIT.
    const transfers = 30;
    await Promise.all(Array.from({ length: transfers }, (_, i) => transaction(pool, async (client) => {
      const from = (i % 99) + 1; // rows locked in id order: concurrent transfers cannot deadlock
      await client.query(`UPDATE ${table} SET balance = balance - 10 WHERE id = $1`, [from]);
      await client.query(`UPDATE ${table} SET balance = balance + 10 WHERE id = $1`, [from + 1]);
    })));
    const { rows: [total] } = await pool.use((client) => client.query<{ sum: number }>(`SELECT sum(balance)::int AS sum FROM ${table}`));
    const balanceKept = total?.sum === 100 * 1000;
    log(`${transfers} concurrent transfers committed; the total balance is ${total?.sum} (${balanceKept ? 'unchanged' : 'CHANGED'}).`);

    // 3. A careless caller leaves a transaction open: reset rolls it back on release.
    const careless = await pool.acquire();
    await careless.query('BEGIN');
    await careless.query(`INSERT INTO ${table} VALUES (1000, 'never committed', 0)`);
    pool.release(careless);
    const { rows: [left] } = await pool.use((client) => client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE id = 1000`));
    const leftOpenRolledBack = left?.n === 0;
    log(`A caller released its client inside a transaction; reset rolled it back (uncommitted row visible: ${left?.n === 1 ? 'yes' : 'no'}).`);

    // 4. An administrator kills one backend while its client is idle in the pool.
    const victim = await pool.acquire();
    const other = await pool.acquire();
    const { rows: [{ pid }] } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const ended = new Promise((resolve) => victim.once('end', resolve));
    pool.release(victim);
    await other.query('SELECT pg_terminate_backend($1)', [pid]);
    pool.release(other);
    await ended; // the client notices: its connection is gone
    let queriesAfterKill = 0;
    await Promise.all(Array.from({ length: clients * 2 }, async () => {
      await pool.use((client) => client.query('SELECT 1'));
      queriesAfterKill++;
    }));
    const replacedAfterKill = pool.stats().validationFailed;
    log(`Backend ${pid} was terminated; the next ${queriesAfterKill} queries all succeeded: ` +
      `validate caught ${replacedAfterKill} broken client and the pool opened a new connection.`);

    await pool.dispose();
    const connectionsOpened = pool.stats().created; // after dispose(): a replacement may still have been connecting
    const backendsAfterDispose = await backendsOf(settings, applicationName);
    log(`dispose() closed every client (${connectionsOpened} connections opened in all; ${backendsAfterDispose} left on the server).`);
    return {
      clients,
      lookups,
      lookupsOk,
      transfers,
      balanceKept,
      leftOpenRolledBack,
      queriesAfterKill,
      replacedAfterKill,
      connectionsOpened,
      backendsAfterDispose,
    };
  } finally {
    uninstall();
    await pool.dispose();
    await dropTable(settings, table); // also after a failure or a signal
  }
}

async function dropTable(config: pg.ClientConfig, table: string): Promise<void> {
  const client = new pg.Client(config);
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${table}`);
  } catch {
    // Nothing to clean up when the server is unreachable.
  } finally {
    await client.end();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    if (error instanceof PoolDisposedError) {
      console.log('Stopped early: a signal closed the pool.');
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  });
}
