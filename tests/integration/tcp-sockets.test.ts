/**
 * AsyncPool with real TCP sockets (node:net) to a server each test starts on 127.0.0.1.
 *
 * The server greets each connection with `HELLO <id>` (like a database handshake), then answers
 * every line with `<id> <line>`, so a test knows which connection served a request.
 */
import net from 'node:net';
import { once } from 'node:events';
import { AsyncPool, CreateTimeoutError, PoolDisposedError, PoolUnavailableError, type AsyncPoolOptions } from '../../src/index.js';
import { outcome } from '../helpers.js';

interface TestServer {
  readonly port: number;
  /** Server-side sockets by connection id (1-based, in accept order). */
  readonly sockets: Map<number, net.Socket>;
  readonly open: () => number;
  stopListening(): Promise<void>;
  listenAgain(): Promise<void>;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const pools: AsyncPool<Conn>[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.dispose({ timeoutMs: 1_000 })));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startServer(options: { greetDelayMs?: number; port?: number } = {}): Promise<TestServer> {
  let nextId = 0;
  const sockets = new Map<number, net.Socket>();
  const server = net.createServer((socket) => {
    const id = ++nextId;
    sockets.set(id, socket);
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    const greet = (): void => {
      if (!socket.destroyed) socket.write(`HELLO ${id}\n`);
    };
    if (options.greetDelayMs === undefined) greet();
    else setTimeout(greet, options.greetDelayMs).unref();
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        socket.write(`${id} ${buffer.slice(0, newline)}\n`);
        buffer = buffer.slice(newline + 1);
      }
    });
  });
  const listen = async (port: number): Promise<void> => {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  };
  await listen(options.port ?? 0);
  const port = (server.address() as net.AddressInfo).port;
  const stopListening = (): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
  const result: TestServer = {
    port,
    sockets,
    open: () => [...sockets.values()].filter((socket) => !socket.destroyed).length,
    stopListening: async () => {
      if (server.listening) await stopListening();
    },
    listenAgain: () => listen(port),
    close: async () => {
      for (const socket of sockets.values()) socket.destroy();
      if (server.listening) await stopListening();
    },
  };
  servers.push(result);
  return result;
}

/** A client connection: resolves once the server's greeting has arrived. */
class Conn {
  readonly socket: net.Socket;
  id = 0;
  closed = false;
  #buffer = '';
  #onLine: ((line: string) => void) | undefined;
  #onClose: ((error: Error) => void) | undefined;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let newline: number;
      while ((newline = this.#buffer.indexOf('\n')) !== -1) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        const onLine = this.#onLine;
        this.#onLine = undefined;
        onLine?.(line);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#onClose?.(Object.assign(new Error('connection closed'), { code: 'ECONNCLOSED' }));
    });
  }

  static async connect(port: number): Promise<Conn> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await once(socket, 'connect');
    const conn = new Conn(socket);
    const hello = await conn.#next();
    conn.id = Number(hello.split(' ')[1]);
    return conn;
  }

  #next(): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('connection closed'));
        return;
      }
      this.#onLine = resolve;
      this.#onClose = reject;
    });
  }

  /** Sends a line; resolves with the reply's text (the server's connection id stripped). */
  async request(line: string): Promise<{ by: number; text: string }> {
    const reply = this.#next();
    this.socket.write(`${line}\n`);
    const text = await reply;
    const space = text.indexOf(' ');
    return { by: Number(text.slice(0, space)), text: text.slice(space + 1) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const closed = once(this.socket, 'close');
    this.socket.destroy();
    await closed;
  }
}

function makePool(port: number, options: Partial<AsyncPoolOptions<Conn>> = {}): AsyncPool<Conn> {
  const pool = new AsyncPool<Conn>({
    factory: () => Conn.connect(port),
    releaser: (conn) => conn.close(),
    validate: (conn) => !conn.closed,
    acquireTimeoutMs: 5_000,
    ...options,
  });
  pools.push(pool);
  return pool;
}

/** Polls `condition` (for effects of I/O we cannot await directly), failing after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('many callers share maxSize connections: the server sees exactly maxSize of them', async () => {
  const server = await startServer();
  const pool = makePool(server.port, { maxSize: 3 });
  const replies = await Promise.all(
    Array.from({ length: 60 }, (_, i) => pool.use(async (conn) => (await conn.request(`m${i}`)).text)),
  );
  expect(replies).toEqual(Array.from({ length: 60 }, (_, i) => `m${i}`));
  expect(server.sockets.size).toBe(3);
  expect(pool.stats()).toMatchObject({ created: 3, acquired: 60, released: 60, size: 3, idle: 3 });
});

test('sequential requests reuse one warm connection (lifo)', async () => {
  const server = await startServer();
  const pool = makePool(server.port, { maxSize: 4 });
  await pool.prefill(4);
  const servedBy = new Set<number>();
  for (let i = 0; i < 10; i++) servedBy.add(await pool.use(async (conn) => (await conn.request('x')).by));
  expect(servedBy.size).toBe(1);
  expect(server.sockets.size).toBe(4);
});

test('waiters for a single connection are served in arrival order', async () => {
  const server = await startServer();
  const pool = makePool(server.port, { maxSize: 1 });
  const held = await pool.acquire();
  const order: number[] = [];
  const callers = [1, 2, 3, 4].map((n) =>
    pool.use(async (conn) => {
      await conn.request(`caller ${n}`);
      order.push(n);
    }),
  );
  await new Promise((resolve) => setImmediate(resolve));
  expect(pool.pending).toBe(4);
  pool.release(held);
  await Promise.all(callers);
  expect(order).toEqual([1, 2, 3, 4]);
  expect(server.sockets.size).toBe(1);
});

test('a connection the server closed while idle is not handed out: validate fails and a fresh one serves', async () => {
  const server = await startServer();
  const pool = makePool(server.port, { maxSize: 2 });
  const conn = await pool.acquire();
  pool.release(conn);
  server.sockets.get(conn.id)!.destroy();
  await waitFor(() => conn.closed);

  const reply = await pool.use((c) => c.request('after'));
  expect(reply).toEqual({ by: 2, text: 'after' });
  expect(pool.stats()).toMatchObject({ validationFailed: 1, created: 2, size: 1 });
  expect(pool.stats().destroyed.invalid).toBe(1);
});

test('a connection that breaks while borrowed is destroyed by its caller; the next caller gets a fresh one', async () => {
  const server = await startServer();
  const pool = makePool(server.port, { maxSize: 1 });
  const conn = await pool.acquire();
  const next = pool.use((c) => c.request('next'));
  server.sockets.get(conn.id)!.destroy();
  const failed = await outcome(conn.request('lost'));
  expect(failed.ok).toBe(false);
  await pool.destroy(conn);
  expect(await next).toEqual({ by: 2, text: 'next' });
  expect(pool.stats().destroyed.destroyed).toBe(1);
});

test('connection refused: the caller gets ECONNREFUSED; after failFastAfter failures callers are rejected at once; recovery when the server is back', async () => {
  const server = await startServer();
  await server.stopListening(); // the port is now closed: connects are refused
  const pool = makePool(server.port, { maxSize: 2, failFastAfter: 2, createRetry: { minDelayMs: 10, maxDelayMs: 50 } });

  const first = await outcome(pool.acquire());
  expect(first.ok).toBe(false);
  expect(first.ok || first.error.code).toBe('ECONNREFUSED');
  const second = await outcome(pool.acquire());
  expect(second.ok || second.error.code).toBe('ECONNREFUSED');

  const third = await outcome(pool.acquire());
  expect(third.ok).toBe(false);
  expect(third.ok || third.error).toBeInstanceOf(PoolUnavailableError);
  expect(third.ok || third.error.code).toBe('ERR_POOL_UNAVAILABLE');
  expect(third.ok || third.error.cause.code).toBe('ECONNREFUSED');

  // The pool probes in the background; once the server listens again, a probe succeeds and
  // acquires work again.
  await server.listenAgain();
  await waitFor(() => pool.idle === 1);
  expect((await pool.use((c) => c.request('back'))).text).toBe('back');
});

test('a handshake slower than createTimeoutMs fails with CreateTimeoutError; the late connection is closed', async () => {
  const server = await startServer({ greetDelayMs: 300 });
  const pool = makePool(server.port, { maxSize: 1, createTimeoutMs: 50 });
  const result = await outcome(pool.acquire());
  expect(result.ok || result.error).toBeInstanceOf(CreateTimeoutError);
  expect(result.ok || result.error.code).toBe('ERR_CREATE_TIMEOUT');
  expect(server.sockets.size).toBe(1);
  // The greeting arrives later: the connection is passed to the releaser, never enters the pool.
  await waitFor(() => server.open() === 0);
  expect(pool.stats()).toMatchObject({ created: 0, createFailed: 1, size: 0 });
});

test('idle connections beyond minIdle are closed after idleTimeoutMs', async () => {
  const server = await startServer();
  const pool = makePool(server.port, { maxSize: 3, minIdle: 1, idleTimeoutMs: 50 });
  const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  for (const conn of conns) pool.release(conn);
  expect(server.open()).toBe(3);
  await waitFor(() => server.open() === 1);
  expect(pool.stats().destroyed.idle).toBe(2);
  expect(pool.idle).toBe(1);
});

test('dispose(): waiters are rejected, idle sockets close now, a borrowed one when it comes back', async () => {
  const server = await startServer();
  const pool = makePool(server.port, { maxSize: 2 });
  const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
  pool.release(b);
  const waiter = outcome(pool.acquire());
  const waiter2 = outcome(pool.acquire());
  await new Promise((resolve) => setImmediate(resolve));
  // b went to the first waiter; the second still waits.
  const disposed = pool.dispose();
  const rejected = await waiter2;
  expect(rejected.ok || rejected.error).toBeInstanceOf(PoolDisposedError);
  const served = await waiter;
  expect(served.ok).toBe(true);

  expect(server.open()).toBe(2);
  pool.release(a);
  if (served.ok) pool.release(served.value);
  await disposed;
  await waitFor(() => server.open() === 0);
  expect(pool.stats().destroyed.disposed).toBe(2);
});
