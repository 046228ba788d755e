/**
 * A database restart, with a real local TCP server: 50 callers keep acquiring while the server is
 * stopped and started again. The pool must serve them again within one createRetry cycle after
 * the server is back, with no caller left hanging and every error typed.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AsyncPool, PoolError, type PoolEvents } from '../../src/index.js';

const CALLERS = 50;
const RETRY = { minDelayMs: 50, maxDelayMs: 250 };
const MARGIN_MS = 750; // generous: the machine is shared

/** A line-based echo server ("ping" → "pong") that can be stopped and started on the same port. */
class FakeDatabase {
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = net.createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
      socket.on('data', (data) => {
        for (const line of data.toString().split('\n')) if (line === 'ping') socket.write('pong\n');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** Crash-like stop: every connection is cut, new ones are refused. */
  async stop(): Promise<void> {
    const server = this.#server!;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}

/** A connection whose failures are typed (`code`), as a real driver's are. */
class ConnectionLostError extends Error {
  readonly code = 'ERR_CONNECTION_LOST';
}

class Connection {
  alive = true;
  readonly #socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('close', () => (this.alive = false));
    socket.on('error', () => (this.alive = false));
  }

  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('error', reject); // ECONNREFUSED while the server is down
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new Connection(socket));
      });
    });
  }

  ping(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = this.#socket;
      const done = (error?: Error): void => {
        socket.off('data', onData);
        socket.off('close', onClose);
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onData = (data: Buffer): void => {
        if (data.toString().includes('pong')) done();
      };
      const onClose = (): void => done(new ConnectionLostError('connection closed during a request'));
      const timer = setTimeout(() => done(new ConnectionLostError('no reply within 1 s')), 1_000);
      socket.on('data', onData);
      socket.on('close', onClose);
      if (!this.alive || socket.destroyed) onClose();
      else socket.write('ping\n');
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

test('the pool recovers from a server restart while 50 callers keep acquiring', async () => {
  const db = new FakeDatabase();
  await db.start();
  const pool = new AsyncPool<Connection>({
    factory: () => Connection.open(db.port),
    releaser: (c) => c.close(),
    validate: (c) => c.alive,
    maxSize: 10,
    failFastAfter: 3,
    createRetry: RETRY,
    createTimeoutMs: 2_000,
    acquireTimeoutMs: 3_000,
    name: 'db-restart',
  });
  const backgroundErrors: PoolEvents<Connection>['error'][] = [];
  pool.on('error', (e) => backgroundErrors.push(e));

  const acquireErrors: unknown[] = [];
  const useErrors: unknown[] = [];
  const successes: { caller: number; at: number }[] = [];
  let started = 0;
  let settled = 0;
  let stop = false;

  async function caller(id: number): Promise<void> {
    while (!stop) {
      let conn: Connection;
      started++;
      try {
        conn = await pool.acquire();
      } catch (error) {
        acquireErrors.push(error);
        await sleep(20); // a real client backs off a little too
        continue;
      } finally {
        settled++;
      }
      try {
        await conn.ping();
        pool.release(conn);
        successes.push({ caller: id, at: performance.now() });
      } catch (error) {
        useErrors.push(error);
        await pool.destroy(conn);
      }
    }
  }

  const callers = Array.from({ length: CALLERS }, (_, i) => caller(i));
  try {
    // Until the pool serves (bounded generously: on a loaded machine the first connects are slow).
    const warm = performance.now() + 10_000;
    while (successes.length === 0 && performance.now() < warm) await sleep(5);
    expect(successes.length).toBeGreaterThan(0);

    await db.stop();
    const stoppedAt = performance.now();
    await sleep(600);
    const duringDowntime = successes.filter((s) => s.at > stoppedAt + 50).length;

    await db.start(); // same port
    const restartedAt = performance.now();
    // Wait (bounded) until the pool serves again, then a little more so every caller gets a turn.
    const deadline = restartedAt + RETRY.maxDelayMs + MARGIN_MS;
    while (!successes.some((s) => s.at >= restartedAt) && performance.now() < deadline) await sleep(5);
    const firstAfterRestart = successes.find((s) => s.at >= restartedAt);
    // Then until every caller has been served again (bounded generously, as above).
    const everyone = performance.now() + 10_000;
    const served = () => new Set(successes.filter((s) => s.at >= restartedAt).map((s) => s.caller)).size;
    while (served() < CALLERS && performance.now() < everyone) await sleep(5);
    stop = true;
    await Promise.all(callers);

    expect(duringDowntime).toBe(0);
    expect(firstAfterRestart).toBeDefined();
    expect(firstAfterRestart!.at - restartedAt).toBeLessThanOrEqual(RETRY.maxDelayMs + MARGIN_MS);
    const servedAgain = new Set(successes.filter((s) => s.at >= restartedAt).map((s) => s.caller));
    expect(servedAgain.size).toBe(CALLERS);

    // Nobody is left hanging.
    expect(settled).toBe(started);
    expect(pool.pending).toBe(0);
    expect(pool.stats().pending).toBe(0);

    // Every error is typed: the pool's own (by code), or the driver's (by code).
    const codes = (errors: unknown[]) => new Set(errors.map((e) => (e as { code?: unknown }).code));
    for (const e of acquireErrors) expect(e instanceof PoolError || typeof (e as { code?: unknown }).code === 'string').toBe(true);
    const acquireCodes = codes(acquireErrors);
    expect([...acquireCodes].every((c) => ['ERR_POOL_UNAVAILABLE', 'ERR_ACQUIRE_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET'].includes(c as string))).toBe(true);
    expect(acquireCodes.has('ERR_POOL_UNAVAILABLE')).toBe(true); // it failed fast rather than letting callers time out
    expect([...codes(useErrors)].every((c) => c === 'ERR_CONNECTION_LOST')).toBe(true);
    expect(backgroundErrors.every((e) => e.operation === 'create' && typeof (e.error as { code?: unknown }).code === 'string')).toBe(true);
  } finally {
    stop = true;
    await Promise.all(callers);
    await pool.dispose();
    await db.stop().catch(() => {});
  }
});
