/**
 * Real-socket chaos: a pool of TCP connections to a local server that randomly drops
 * connections (with FIN or RST), stalls on accept or on a request, answers late, and is closed
 * and restarted on the same port during the run. 200 concurrent callers make 2 000 requests.
 *
 * Decided outcome of each request: it succeeds with the right answer, or it fails with a typed
 * error, either
 * - a `PoolError` from the pool: ERR_ACQUIRE_TIMEOUT, ERR_POOL_UNAVAILABLE (fail-fast while the
 *   server is down), ERR_CREATE_TIMEOUT (the pool's backstop on the factory), or
 * - a connection error with a `code`: ECONNREFUSED (server down), ECONNRESET / EPIPE (dropped),
 *   or the client's own E_CONNECT_TIMEOUT / E_REQUEST_TIMEOUT / E_CONN_CLOSED (see chaos.ts).
 * No request outlives its timeouts by more than a generous margin, and after dispose() every
 * socket the pool ever opened is destroyed and closed.
 *
 * Chaos decisions come from a seeded PRNG: POOLKEEPER_CHAOS_SEED=<seed> replays them.
 */
import type net from 'node:net';
import { AsyncPool, PoolError } from '../../src/index.js';
import { prng } from '../../scripts/soak-core.js';
import { ChaosServer, Connection } from './chaos.js';

const SEED = Number(process.env.POOLKEEPER_CHAOS_SEED ?? 7_919);
const REQUESTS = 2_000;
const RESTARTS = 3;
const CALLERS = 200;
const ACQUIRE_TIMEOUT_MS = 800;
const CONNECT_TIMEOUT_MS = 250;
const REQUEST_TIMEOUT_MS = 250;
// Timers on a shared 2-core machine can be late; a waiter that hangs is late by far more.
const MARGIN_MS = 1_500;

const POOL_CODES = new Set(['ERR_ACQUIRE_TIMEOUT', 'ERR_POOL_UNAVAILABLE', 'ERR_CREATE_TIMEOUT']);
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'E_CONNECT_TIMEOUT', 'E_REQUEST_TIMEOUT', 'E_CONN_CLOSED']);

function codeOf(error: unknown): string {
  if (error instanceof PoolError) return POOL_CODES.has(error.code) ? error.code : `unexpected pool error ${error.code}`;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
  return `unexpected: ${String((error as Error)?.stack ?? error)}`;
}

test(`${CALLERS} callers, ${REQUESTS} requests against a misbehaving server: typed outcomes, no hang, no socket left open`, async () => {
  const random = prng(SEED);
  const server = new ChaosServer(random, {
    dropOnAccept: 0.05,
    stallOnAccept: 0.05,
    dropOnRequest: 0.03,
    stallOnRequest: 0.02,
    delayOnRequest: 0.1,
  });
  await server.listen();
  const baselineTcp = process.getActiveResourcesInfo().filter((type) => type.startsWith('TCP')).length - 1; // minus our server

  const sockets = new Set<net.Socket>();
  const closed = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => closed.add(socket));
  };
  const pool = new AsyncPool<Connection>({
    factory: () => Connection.connect(server.port, CONNECT_TIMEOUT_MS, track),
    releaser: (connection) => connection.close(),
    validate: (connection) => connection.usable,
    maxSize: 20,
    acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
    createTimeoutMs: 1_000,
    destroyTimeoutMs: 500,
    failFastAfter: 10,
    createRetry: { minDelayMs: 10, maxDelayMs: 100 },
    name: 'chaos',
  });

  try {
    // Restarts at seeded points of the run, each down for 30–120 ms; one asked for while another
    // is under way is skipped, so that outages stay short.
    const restartAt = new Map<number, number>();
    for (let k = 0; k < RESTARTS; k++) restartAt.set(300 + k * 500 + Math.floor(random() * 200), 30 + Math.floor(random() * 90));
    const restarts: Promise<void>[] = [];
    let restarting = false;
    let lastRestartDone = 0;
    /** Start times of the requests that succeeded. */
    const succeededAt: number[] = [];

    const outcomes: Record<string, number> = {};
    const late: string[] = [];
    let next = 0;
    const count = (code: string): void => {
      outcomes[code] = (outcomes[code] ?? 0) + 1;
    };
    /** One request; resolves true when it succeeded. */
    const request = async (n: number): Promise<boolean> => {
      const downMs = restartAt.get(n);
      if (downMs !== undefined && !restarting) {
        restarting = true;
        restarts.push(
          server.restart(downMs).finally(() => {
            restarting = false;
            lastRestartDone = performance.now();
          }),
        );
      }
      const started = performance.now();
      let connection: Connection;
      try {
        connection = await pool.acquire();
      } catch (error) {
        const waited = performance.now() - started;
        if (waited > ACQUIRE_TIMEOUT_MS + MARGIN_MS) late.push(`acquire of request ${n} failed after ${waited.toFixed(0)} ms`);
        count(codeOf(error));
        return false;
      }
      const acquired = performance.now();
      if (acquired - started > ACQUIRE_TIMEOUT_MS + MARGIN_MS) late.push(`acquire of request ${n} took ${(acquired - started).toFixed(0)} ms`);
      let ok = false;
      try {
        const answer = await connection.request(n, REQUEST_TIMEOUT_MS);
        if (answer !== `pong ${n}`) throw new Error(`request ${n} got ${JSON.stringify(answer)}`);
        pool.release(connection);
        count('ok');
        succeededAt.push(started);
        ok = true;
      } catch (error) {
        count(codeOf(error));
        await pool.destroy(connection);
      }
      const took = performance.now() - acquired;
      if (took > REQUEST_TIMEOUT_MS + MARGIN_MS) late.push(`request ${n} took ${took.toFixed(0)} ms after acquire`);
      return ok;
    };
    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    // Like a real client: a little work between requests, and a retry delay after a failure
    // (else a pool failing fast turns the remaining requests into an instant stream of rejections).
    const caller = async (): Promise<void> => {
      while (next < REQUESTS) {
        const ok = await request(next++);
        await pause(ok ? Math.floor(random() * 4) : 100 + Math.floor(random() * 100));
      }
    };

    // A hung waiter would stall Promise.all forever: fail with the pool's state instead.
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      watchdog = setTimeout(() => reject(new Error(`chaos run hung (seed ${SEED}): ${JSON.stringify({ outcomes, stats: pool.stats() })}`)), 25_000);
    });
    try {
      await Promise.race([Promise.all(Array.from({ length: CALLERS }, caller)), hung]);
    } finally {
      clearTimeout(watchdog);
    }
    await Promise.all(restarts);

    const context = { seed: SEED, outcomes, server: server.counts, stats: { ...pool.stats(), waitTime: undefined } };
    if (process.env.POOLKEEPER_CHAOS_VERBOSE) process.stdout.write(`${JSON.stringify(context)}\n`);
    const unexpected = Object.keys(outcomes).filter((code) => code.startsWith('unexpected'));
    expect({ unexpected, context }).toEqual({ unexpected: [], context });
    expect({ late, context }).toEqual({ late: [], context });
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(REQUESTS);
    expect(pool.pending).toBe(0);

    // The chaos happened, and the pool still served most requests through it.
    expect(server.counts.restarts).toBeGreaterThanOrEqual(2);
    const happened = {
      misbehavedOnAccept: server.counts.dropOnAccept + server.counts.stallOnAccept > 0,
      droppedOnRequest: server.counts.dropOnRequest > 0,
      stalledOnRequest: server.counts.stallOnRequest > 0,
      delayedAnswers: server.counts.delayOnRequest > 0,
    };
    expect({ happened, context }).toEqual({
      happened: { misbehavedOnAccept: true, droppedOnRequest: true, stalledOnRequest: true, delayedAnswers: true },
      context,
    });
    // Through outages the pool fails fast (a good share of the failures); it recovers after each.
    const okAfterLastRestart = succeededAt.filter((t) => t > lastRestartDone).length;
    expect({ ok: (outcomes.ok ?? 0) > REQUESTS / 4, okAfterLastRestart: okAfterLastRestart > 0, context }).toEqual({
      ok: true,
      okAfterLastRestart: true,
      context,
    });
    // Requests met a server that was down (refused, or the pool failing fast meanwhile).
    expect((outcomes.ECONNREFUSED ?? 0) + (outcomes.ERR_POOL_UNAVAILABLE ?? 0)).toBeGreaterThan(0);

    // After dispose(): every socket the pool opened is destroyed, then closed; the server holds none.
    await pool.dispose();
    expect({ open: [...sockets].filter((socket) => !socket.destroyed).length, of: sockets.size }).toEqual({ open: 0, of: sockets.size });
    const deadline = Date.now() + 5_000;
    while ((closed.size < sockets.size || server.connections > 0) && Date.now() < deadline) await pause(10);
    expect({ closed: closed.size, serverConnections: server.connections }).toEqual({ closed: sockets.size, serverConnections: 0 });
    await server.close();
    // A closed handle leaves the active list once libuv has closed it, a moment after 'close'.
    const tcpHandles = (): number => process.getActiveResourcesInfo().filter((type) => type.startsWith('TCP')).length;
    while (tcpHandles() > baselineTcp && Date.now() < deadline) await pause(10);
    const tcpLeft = tcpHandles();
    expect(tcpLeft).toBeLessThanOrEqual(baselineTcp);
    expect(pool.stats()).toMatchObject({ size: 0, borrowed: 0, idle: 0, creating: 0 });
  } finally {
    // Whatever failed above, leave nothing open behind (a listening server keeps jest alive).
    await pool.dispose();
    await server.close();
  }
}, 40_000);
