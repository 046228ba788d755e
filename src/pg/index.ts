/**
 * `poolkeeper/pg`: a drop-in `pg.Pool` (the `pg-pool` package) built on {@link AsyncPool}.
 *
 * ```ts
 * // before: import { Pool } from 'pg';
 * import { Pool } from 'poolkeeper/pg';
 * const pool = new Pool({ connectionString, max: 20, idleTimeoutMillis: 30_000 });
 * const { rows } = await pool.query('SELECT $1::text AS name', ['brianc']);
 * ```
 *
 * The options, methods, properties and events are pg-pool's. Underneath, callers are served in
 * strict arrival order, lifetimes are jittered, a client whose connection died is never handed
 * out, a client given back inside a transaction is rolled back, and `end()` serves the callers
 * already queued before it closes. `pg` itself is loaded only when a pool without a `Client`
 * option opens its first connection. See docs/migrating.md for the deliberate differences.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type * as pg from 'pg';
import { AsyncPool } from '../async-pool.js';
import { AcquireTimeoutError, PoolDisposedError } from '../errors.js';
import { checkCount, show } from '../options.js';
import { noop } from '../util.js';

/**
 * The options of {@link Pool}: pg's client configuration and pg-pool's options (`onConnect` may
 * return a promise: a rejection fails that connection), plus `endTimeoutMillis`.
 */
export interface PoolConfig extends pg.PoolConfig {
  /**
   * How long `end()` waits for clients still checked out before closing them anyway, in
   * milliseconds. pg-pool waits forever; so does this pool by default.
   * @defaultValue Infinity
   */
  readonly endTimeoutMillis?: number;
}

/** A `pg.Pool`, plus the {@link AsyncPool} underneath. */
export interface Pool extends pg.Pool {
  /**
   * The {@link AsyncPool} that holds the clients: `stats()`, its typed events (`create`,
   * `destroy` with a reason, `leak` …) and tracing. Acquire through the pg methods, not through it.
   */
  readonly asyncPool: AsyncPool<pg.PoolClient>;
}

/** The constructor of {@link Pool}: `new Pool(config?, Client?)`, as for pg-pool. */
export interface PoolConstructor {
  /**
   * @param config - pg's client configuration plus `max`, `min`, `idleTimeoutMillis`,
   * `connectionTimeoutMillis`, `maxLifetimeSeconds`, `maxUses`, `allowExitOnIdle`, `Client`,
   * `verify`, `onConnect`, `log`, `Promise`. The whole object is also passed to each new client.
   * @param Client - The client class, when `config.Client` is not given. Default: `pg.Client`.
   */
  new (config?: PoolConfig, Client?: unknown): Pool;
}

// ───────────────────────── the shapes this module relies on ─────────────────────────

type Callback<R> = (err: Error | undefined, result?: R) => void;
type ConnectCallback = (err: Error | undefined, client: PgClient | undefined, release: (err?: unknown) => void) => void;

/** What the pool needs of a client; pg's `Client` and `native.Client` both have it. */
interface PgClient extends EventEmitter {
  connect(callback: (err?: Error | null) => void): unknown;
  query(text: unknown, values: unknown, callback: (err: Error | undefined, res?: unknown) => void): unknown;
  end?(callback?: (err?: Error) => void): unknown;
  ref?(): void;
  unref?(): void;
  getTransactionStatus?(): string | null | undefined;
  release?: (err?: unknown) => void;
  connection?: { stream?: { destroy?(): void } };
  // pg's own state, read where it exists (pg-pool reads it too): a client that ended or can no
  // longer be queried must not go back to the pool.
  _ending?: boolean;
  _queryable?: boolean;
}

type ClientClass = new (config: object) => PgClient;

/** What the pool tracks about one client beside the client itself. */
interface ClientState {
  /** Set when the connection failed, or the client ended: it will never work again. */
  broken: boolean;
  /** The pool's own listeners on the client, put back on it whenever it comes back to the pool. */
  onError?: (error: Error) => void;
  onEnd?: () => void;
}

/** pg-pool's message for a caller that waited `connectionTimeoutMillis` in vain. */
const CONNECT_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';

type PgModule = { Client?: unknown; default?: { Client?: unknown } };

function clientOf(mod: PgModule): ClientClass {
  const Client = mod.Client ?? mod.default?.Client;
  if (typeof Client !== 'function') throw new TypeError('poolkeeper/pg: the "pg" package exports no Client class');
  return Client as ClientClass;
}

let pgClient: ClientClass | Promise<ClientClass> | undefined;

/**
 * `pg.Client`, loaded when the first pool without a `Client` option is constructed (never at
 * module load, so a pool given its own `Client` never needs `pg` installed). The CommonJS build
 * loads it synchronously, as pg-pool does; the ESM build starts an `import()` the first
 * connection awaits.
 */
function defaultClient(): ClientClass | Promise<ClientClass> {
  if (pgClient !== undefined) return pgClient;
  const missing = (error: unknown): never => {
    throw new Error('poolkeeper/pg: cannot load the "pg" package; install it (npm install pg), or pass a Client option', { cause: error });
  };
  if (typeof require === 'function') {
    let mod: PgModule;
    try {
      mod = require('pg') as PgModule;
    } catch (error) {
      return missing(error);
    }
    pgClient = clientOf(mod);
  } else {
    const loading = import('pg').then((mod: PgModule) => (pgClient = clientOf(mod)), missing);
    loading.catch(noop); // reported to the first connect(), which awaits it
    pgClient = loading;
  }
  return pgClient;
}

function isBroken(client: PgClient, state: ClientState | undefined): boolean {
  return state === undefined || state.broken || client._ending === true || client._queryable === false;
}

/**
 * Puts the pool's `listener` back on `client` if its holder removed it: an idle client's `error`
 * with no listener would crash the process (pg-pool adds its own on every release, too).
 */
function listenAgain(client: PgClient, event: 'error' | 'end', listener: ((error: Error) => void) | undefined): void {
  if (listener === undefined || typeof client.listeners !== 'function') return;
  if (!client.listeners(event).includes(listener)) client.on(event, listener);
}

/** Milliseconds option of pg-pool: absent or 0 mean "none" there, hence `Infinity` here. */
function millis(name: string, value: unknown): number {
  if (value === undefined || value === null || value === 0) return Infinity;
  const expected = `must be a number of milliseconds >= 0 (0: none); got ${show(value)}`;
  if (typeof value !== 'number') throw new TypeError(`poolkeeper/pg: option "${name}" ${expected}`);
  if (!(value > 0)) throw new RangeError(`poolkeeper/pg: option "${name}" ${expected}`);
  return value;
}

/** Longest delay `setTimeout` honours; a longer one would fire at once. About 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

class PgPool extends EventEmitter {
  /** The options given, with pg-pool's defaults filled in; also passed to each new client. */
  readonly options: Record<string, unknown>;
  /** The `Promise` class used for returned promises (pg-pool's `Promise` option). */
  readonly Promise: PromiseConstructor;
  /** pg-pool's `log` option: receives diagnostic messages. */
  readonly log: (...messages: unknown[]) => void;
  /** The {@link AsyncPool} underneath. */
  readonly asyncPool: AsyncPool<PgClient>;
  /** True from the moment `end()` is called. */
  ending = false;
  /** True once `end()` has closed every client. */
  ended = false;

  #Client: ClientClass | Promise<ClientClass>;
  readonly #states = new WeakMap<PgClient, ClientState>();
  readonly #allowExitOnIdle: boolean;
  readonly #connectTimeoutMs: number;
  readonly #maxLifetimeMs: number;
  readonly #endTimeoutMs: number;
  /** Creation times of open clients, kept only with `maxLifetimeSeconds`, for `expiredCount`. */
  readonly #createdAt = new Map<PgClient, number>();

  constructor(config?: PoolConfig, Client?: unknown) {
    super();
    const options: Record<string, unknown> = Object.assign({}, config) as Record<string, unknown>;
    this.options = options;
    if (config != null && 'password' in config) {
      // Kept off enumeration, as pg-pool does, so that logging the pool does not print it.
      Object.defineProperty(options, 'password', { configurable: true, enumerable: false, writable: true, value: config.password });
    }
    const ssl = options.ssl as Record<string, unknown> | undefined;
    if (ssl !== null && typeof ssl === 'object' && ssl.key !== undefined) {
      const copy = Object.assign({}, ssl);
      Object.defineProperty(copy, 'key', { configurable: true, enumerable: false, writable: true, value: ssl.key });
      options.ssl = copy;
    }
    // pg-pool's defaults, written back into the options as pg-pool does (libraries read pool.options.max).
    const max = options.max ?? options.poolSize ?? 10;
    options.max = max === 0 ? 10 : checkCount('max', max, 1, true);
    options.min = options.min == null ? 0 : checkCount('min', options.min, 0, false);
    if ((options.min as number) > (options.max as number)) {
      throw new RangeError(`poolkeeper/pg: option "min" must be <= max (${String(options.max)}); got ${String(options.min)}`);
    }
    options.maxUses = options.maxUses == null || options.maxUses === 0 ? Infinity : checkCount('maxUses', options.maxUses, 1, true);
    options.allowExitOnIdle = options.allowExitOnIdle || false;
    options.maxLifetimeSeconds = options.maxLifetimeSeconds ?? 0;
    if (options.idleTimeoutMillis === undefined) options.idleTimeoutMillis = 10_000;
    const idleTimeoutMs = millis('idleTimeoutMillis', options.idleTimeoutMillis);
    this.#connectTimeoutMs = millis('connectionTimeoutMillis', options.connectionTimeoutMillis);
    this.#endTimeoutMs = millis('endTimeoutMillis', options.endTimeoutMillis);
    const lifetimeSeconds = options.maxLifetimeSeconds;
    if (typeof lifetimeSeconds !== 'number' || !(lifetimeSeconds >= 0)) {
      const Kind = typeof lifetimeSeconds === 'number' ? RangeError : TypeError;
      throw new Kind(`poolkeeper/pg: option "maxLifetimeSeconds" must be a number of seconds >= 0 (0: none); got ${show(lifetimeSeconds)}`);
    }
    this.#maxLifetimeMs = lifetimeSeconds === 0 ? Infinity : lifetimeSeconds * 1000;
    const log = options.log;
    this.log = typeof log === 'function' ? (log as (...messages: unknown[]) => void) : noop;
    const ClientOption = options.Client ?? Client;
    if (ClientOption !== undefined && typeof ClientOption !== 'function') {
      throw new TypeError('poolkeeper/pg: option "Client" must be a client class');
    }
    this.#Client = (ClientOption as ClientClass | undefined) ?? defaultClient();
    this.Promise = (options.Promise as PromiseConstructor | undefined) ?? Promise;
    // Read for its truth, as pg-pool reads it (`1`, `'true'` count), and left in the options as given.
    this.#allowExitOnIdle = Boolean(options.allowExitOnIdle);

    this.asyncPool = new AsyncPool<PgClient>({
      name: typeof options.application_name === 'string' ? options.application_name : 'pg',
      factory: () => this.#newClient(),
      releaser: (client) => this.#closeClient(client),
      maxSize: options.max as number,
      min: options.min as number,
      maxUses: options.maxUses as number,
      // pg-pool opens a connection for every caller it has room for at once, up to max.
      createConcurrency: options.max as number,
      // pg-pool hands out the most recently released client.
      strategy: 'lifo',
      idleTimeoutMs,
      recycleMs: this.#maxLifetimeMs,
      acquireTimeoutMs: this.#connectTimeoutMs,
      // The factory bounds the connection itself (and closes a late one), with pg's message.
      createTimeoutMs: Infinity,
      // A local check, no round trip: a client whose connection died is never handed out.
      validate: (client) => !isBroken(client, this.#states.get(client)),
      reset: (client) => this.#rollBack(client),
    });
    // Listeners only when something reads them: a destroy listener makes the pool take the time of
    // every checkout (for its heldMs).
    const logging = this.log !== noop;
    if (logging || this.#maxLifetimeMs !== Infinity) {
      this.asyncPool.on('destroy', ({ resource, reason }) => {
        if (reason === 'maxUses') this.log('remove expended client');
        else if (reason === 'recycled') this.log('remove expired client');
        else if (reason === 'idle') this.log('remove idle client');
        this.#createdAt.delete(resource);
      });
    }
    if (logging) this.asyncPool.on('error', ({ error, operation }) => this.log(`pool ${operation} error`, error));
  }

  /** The client class in use: `config.Client`, the constructor's second argument, or `pg.Client` (once loaded). */
  get Client(): ClientClass | undefined {
    return typeof this.#Client === 'function' ? this.#Client : undefined;
  }

  /** Clients open or opening: idle, checked out, connecting. */
  get totalCount(): number {
    return this.asyncPool.size;
  }

  /** Clients idle in the pool. */
  get idleCount(): number {
    return this.asyncPool.idle;
  }

  /**
   * Callers waiting for a client to be released, as pg-pool counts them: not those a new
   * connection is being opened for (pg-pool does not queue those), so that `waitingCount > 0`
   * means the pool is saturated.
   */
  get waitingCount(): number {
    return Math.max(0, this.asyncPool.pending - this.asyncPool.creating);
  }

  /** Checked-out clients past `maxLifetimeSeconds`, to be closed when they come back. */
  get expiredCount(): number {
    if (this.#maxLifetimeMs === Infinity) return 0;
    const t = performance.now();
    let expired = 0;
    for (const [client, created] of this.#createdAt) {
      if (t - created >= this.#maxLifetimeMs && this.asyncPool.isBorrowed(client)) expired++;
    }
    return expired;
  }

  // ───────────────────────── creating and closing clients ─────────────────────────

  async #newClient(): Promise<PgClient> {
    if (typeof this.#Client !== 'function') this.#Client = await this.#Client;
    const Client = this.#Client;
    const client = new Client(this.options);
    const state: ClientState = { broken: false };
    this.#states.set(client, state);
    // One listener for the client's whole life, so an error never crashes the process: an idle
    // client that errors is taken out of the pool and reported; a checked-out one is marked and
    // closed when it comes back (its holder sees the error on its own queries). A holder may
    // remove them (`removeAllListeners()`): they are put back when the client comes back.
    if (typeof client.on === 'function') {
      state.onError = (error: Error) => this.#clientFailed(client, state, error);
      state.onEnd = () => this.#clientFailed(client, state, undefined);
      client.on('error', state.onError);
      client.on('end', state.onEnd);
    }
    this.log('connecting new client');
    await this.#connect(client, state);
    this.log('new client connected');
    try {
      const onConnect = this.options.onConnect as ((client: PgClient) => unknown) | undefined;
      if (typeof onConnect === 'function') await onConnect(client);
      this.emit('connect', client);
      const verify = this.options.verify as ((client: PgClient, cb: (err?: unknown) => void) => void) | undefined;
      if (typeof verify === 'function') {
        await new Promise<void>((resolve, reject) => verify(client, (err) => (err ? reject(err) : resolve())));
      }
    } catch (error) {
      state.broken = true;
      this.#closeOutside(client);
      throw error;
    }
    if (this.#maxLifetimeMs !== Infinity) this.#createdAt.set(client, performance.now());
    if (this.#allowExitOnIdle) client.unref?.();
    return client;
  }

  /** Connects, within `connectionTimeoutMillis`; a connection that completes too late is closed. */
  #connect(client: PgClient, state: ClientState): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timedOut = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (this.#connectTimeoutMs <= MAX_TIMER_MS) {
        const deadline = performance.now() + this.#connectTimeoutMs;
        const expire = (): void => {
          // Node dates a timer from the start of the event loop's turn, so it may fire early by
          // as long as that turn had run: never before the full timeout, or the caller waiting
          // for this connection would get pg's error before its own deadline's AcquireTimeoutError.
          const left = deadline - performance.now();
          if (left > 0) {
            timer = setTimeout(expire, Math.ceil(left));
            timer.unref?.();
            return;
          }
          timedOut = true;
          state.broken = true;
          this.log('ending client due to timeout');
          this.#abort(client);
          reject(new Error('Connection terminated due to connection timeout'));
        };
        timer = setTimeout(expire, this.#connectTimeoutMs);
        timer.unref?.();
      }
      const done = (err?: Error | null): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (timedOut) {
          // It finished after its caller was told it failed: never leak it.
          if (!err) this.#closeOutside(client);
          return;
        }
        if (err) {
          state.broken = true;
          this.log('client failed to connect', err);
          this.#abort(client);
          reject(err);
        } else {
          resolve();
        }
      };
      try {
        client.connect(done);
      } catch (error) {
        done(error as Error);
      }
    });
  }

  /** Stops a client that is connecting or failed to connect, whatever state it is in. */
  #abort(client: PgClient): void {
    try {
      const stream = client.connection?.stream;
      if (stream !== undefined && typeof stream.destroy === 'function') stream.destroy();
      else client.end?.(noop);
    } catch {
      // A client that cannot even be stopped has nothing left to leak.
    }
  }

  #closeClient(client: PgClient): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        try {
          this.emit('remove', client);
        } catch (error) {
          // A remove listener that throws: reported through asyncPool's error event (operation
          // 'destroy'), never thrown into the client's end callback or left hanging till destroyTimeoutMs.
          reject(error);
          return;
        }
        resolve();
      };
      if (typeof client.end !== 'function') {
        done();
        return;
      }
      try {
        client.end(() => done());
      } catch {
        done();
      }
    });
  }

  /** Closes a client that never entered the pool: nobody awaits it, so a failing listener is only logged. */
  #closeOutside(client: PgClient): void {
    this.#closeClient(client).catch((error: unknown) => this.log('remove listener failed', error));
  }

  #clientFailed(client: PgClient, state: ClientState, error: Error | undefined): void {
    if (state.broken && error === undefined) return;
    const wasBroken = state.broken;
    state.broken = true;
    if (this.asyncPool.isBorrowed(client)) return; // closed when it comes back
    if (error === undefined || wasBroken) {
      this.asyncPool.retire(client);
      return;
    }
    (error as Error & { client?: PgClient }).client = client;
    // Only an idle client in the pool is reported (pg-pool's 'error' event); closing, connecting
    // or already closed clients' errors have a caller or nobody to tell.
    if (!this.asyncPool.retire(client, error)) return;
    this.log('client errored while idle', error);
    // An 'error' event with no listener would throw: never let an idle client crash the process.
    if (this.listenerCount('error') > 0) this.emit('error', error, client);
  }

  /**
   * A client given back inside a transaction (status 'T', or 'E' after a failed statement) is
   * rolled back, so the next caller never inherits its locks or half-done writes. The status comes
   * with every query's last message: the common case costs no round trip.
   */
  #rollBack(client: PgClient): void | Promise<void> {
    const status = typeof client.getTransactionStatus === 'function' ? client.getTransactionStatus() : undefined;
    if (status !== 'T' && status !== 'E') return;
    this.log('rolling back a client released inside a transaction');
    return new Promise<void>((resolve, reject) => {
      client.query('ROLLBACK', undefined, (err) => (err ? reject(err) : resolve()));
    });
  }

  // ───────────────────────── connect / query / end ─────────────────────────

  connect(callback?: ConnectCallback): Promise<PgClient> | undefined {
    if (this.ending) {
      const err = new PoolDisposedError('connect()', 'Cannot use a pool after calling end on the pool');
      if (callback) {
        process.nextTick(callback, err, undefined, noop);
        return undefined;
      }
      return this.Promise.reject(err) as Promise<PgClient>;
    }
    const acquired = this.asyncPool.acquire().then(
      (client) => this.#checkedOut(client),
      (error: unknown) => {
        throw error instanceof AcquireTimeoutError ? pgTimeout(error) : error;
      },
    );
    if (callback) {
      // Called outside the promise chain: a callback that throws is an uncaught exception, as
      // with pg-pool, never an unhandled rejection.
      acquired.then(
        (client) => process.nextTick(callback, undefined, client, client.release!),
        (error: Error) => process.nextTick(callback, error, undefined, noop),
      );
      return undefined;
    }
    return this.#wrap(acquired);
  }

  #checkedOut(client: PgClient): PgClient {
    if (this.#allowExitOnIdle) client.ref?.();
    let released = false;
    client.release = (err?: unknown) => {
      if (released) throw new Error('Release called on client which has already been released to the pool.');
      released = true;
      this.#release(client, err);
    };
    try {
      this.emit('acquire', client);
    } catch (error) {
      // The caller gets the listener's error instead of the client: give the client back, or
      // it would stay checked out forever (and end() would wait for it forever).
      released = true;
      this.#giveBack(client, undefined);
      throw error;
    }
    return client;
  }

  #release(client: PgClient, err: unknown): void {
    try {
      this.emit('release', err, client);
    } finally {
      // A listener that throws makes release() throw, but never keeps the client out of the pool.
      this.#giveBack(client, err);
    }
  }

  #giveBack(client: PgClient, err: unknown): void {
    const state = this.#states.get(client);
    // Back in the pool's hands, to keep or to close (its socket may still fail while it closes).
    listenAgain(client, 'error', state?.onError);
    listenAgain(client, 'end', state?.onEnd);
    if (err || isBroken(client, state)) {
      this.asyncPool.destroy(client).catch(noop); // reported through the error event, if at all
      return;
    }
    if (this.#allowExitOnIdle) client.unref?.();
    this.asyncPool.release(client);
  }

  /** Wraps a native promise into the `Promise` option's class, and gives a failure the caller's stack. */
  #wrap<R>(promise: Promise<R>): Promise<R> {
    const P = this.Promise;
    return new P<R>((resolve, reject) => promise.then(resolve, reject)).catch((error: unknown) => {
      if (error instanceof Error) Error.captureStackTrace(error);
      throw error;
    }) as Promise<R>;
  }

  query(text: unknown, values?: unknown, callback?: Callback<unknown>): Promise<unknown> | undefined {
    if (typeof text === 'function') {
      const cb = text as Callback<unknown>;
      setImmediate(() => cb(new Error('Passing a function as the first parameter to pool.query is not supported')));
      return undefined;
    }
    if (typeof values === 'function') {
      callback = values as Callback<unknown>;
      values = undefined;
    }
    let settle!: Callback<unknown>;
    const result = callback === undefined
      ? this.#wrap(new Promise<unknown>((resolve, reject) => {
        settle = (err, res) => (err ? reject(err) : resolve(res));
      }))
      : undefined;
    if (callback !== undefined) settle = callback;
    this.connect((err, client) => {
      if (err || client === undefined) {
        settle(err);
        return;
      }
      let done = false;
      // The query settles even if a release listener throws; that error then goes on to the
      // client's callback, as in pg-pool, instead of leaving the caller waiting forever.
      const finish = (error: Error | undefined, res?: unknown): void => {
        done = true;
        try {
          client.release!(error);
        } finally {
          if (error) settle(error);
          else settle(undefined, res);
        }
      };
      const onError = (error: Error): void => {
        if (!done) finish(error);
      };
      // A client that is no EventEmitter (a minimal custom Client) just cannot report errors here.
      const listens = typeof client.once === 'function' && typeof client.removeListener === 'function';
      if (listens) client.once('error', onError);
      this.log('dispatching query');
      try {
        client.query(text, values, (error, res) => {
          this.log('query dispatched');
          if (listens) client.removeListener('error', onError);
          if (!done) finish(error, res);
        });
      } catch (error) {
        if (listens) client.removeListener('error', onError);
        if (done) throw error; // from a callback run synchronously: pass it on, as above
        finish(error as Error);
      }
    });
    return result;
  }

  end(callback?: (err?: Error) => void): Promise<void> | undefined {
    this.log('ending');
    if (this.ending) {
      const err = new Error('Called end on pool more than once');
      if (callback) {
        process.nextTick(callback, err);
        return undefined;
      }
      return this.Promise.reject(err) as Promise<void>;
    }
    this.ending = true;
    // Callers already queued are served before the clients close (pg-pool drops them).
    const ended = this.asyncPool.dispose({ drain: true, timeoutMs: this.#endTimeoutMs }).then(() => {
      this.ended = true;
    });
    if (callback) {
      ended.then(() => process.nextTick(callback), (error: Error) => process.nextTick(callback, error));
      return undefined;
    }
    return this.#wrap(ended);
  }
}

function pgTimeout(error: AcquireTimeoutError): AcquireTimeoutError {
  // pg-pool's message first (code that matches on it keeps working), poolkeeper's counts after.
  error.message = `${CONNECT_TIMEOUT_MESSAGE} (${error.message})`;
  return error;
}

/**
 * A drop-in `pg.Pool`: `import { Pool } from 'poolkeeper/pg'` instead of `from 'pg'`.
 * See the module documentation and docs/migrating.md.
 */
export const Pool = PgPool as unknown as PoolConstructor;
