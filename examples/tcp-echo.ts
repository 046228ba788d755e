/**
 * Pooling TCP connections (node:net) to a line-based echo server.
 *
 * The server is embedded and listens on 127.0.0.1 on a free port, so this runs anywhere:
 *
 *     npm run example
 *
 * What it shows: many concurrent callers share a few long-lived connections (the server sees
 * `maxSize` connections, not one per request); a connection the server closes while it sits
 * idle is noticed by `validate` and replaced before any caller gets it; `dispose()` closes every
 * connection and the process exits by itself.
 */
import net from 'node:net';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { AsyncPool } from 'poolkeeper';

/** One TCP connection speaking the echo protocol: one request line, one reply line. */
export class EchoConnection {
  readonly socket: net.Socket;
  #buffer = '';
  #pending: { resolve(line: string): void; reject(error: Error): void } | undefined;
  #closed: Error | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.#onData(chunk));
    // A socket error is followed by 'close'; listening here keeps it from crashing the process.
    socket.on('error', (error) => this.#fail(error));
    socket.on('end', () => this.#fail(new Error('connection closed by the server')));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  /** Opens a connection; rejects with the socket error (e.g. `ECONNREFUSED`). */
  static async connect(port: number, host = '127.0.0.1'): Promise<EchoConnection> {
    const socket = net.connect({ port, host });
    await once(socket, 'connect'); // rejects on 'error'
    return new EchoConnection(socket);
  }

  /** False once the peer closed the connection or it failed. Costs nothing: no round trip. */
  get usable(): boolean {
    return this.#closed === undefined && !this.socket.destroyed;
  }

  /** Sends one line and resolves with the reply line. One request at a time per connection. */
  request(line: string): Promise<string> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (this.#pending !== undefined) return Promise.reject(new Error('a request is already in flight on this connection'));
    return new Promise<string>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.socket.write(`${line}\n`);
    });
  }

  /** Ends the connection politely and resolves once the socket is closed. */
  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    const closed = once(this.socket, 'close');
    this.socket.end();
    // A peer that never answers the FIN must not hold us up (the pool also bounds this with destroyTimeoutMs).
    const timer = setTimeout(() => this.socket.destroy(), 1_000);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let newline: number;
    while ((newline = this.#buffer.indexOf('\n')) !== -1) {
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.resolve(line);
    }
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }
}

/** An echo server on 127.0.0.1 (a free port) that keeps count of its connections. */
export interface EchoServer {
  readonly port: number;
  /** Connections accepted since start. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Closes, from the server side, the connection accepted `index`-th (0-based). */
  drop(index: number): Promise<void>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Starts the echo server: every line received is sent back as is. */
export async function startEchoServer(): Promise<EchoServer> {
  const sockets: net.Socket[] = [];
  let open = 0;
  const server = net.createServer((socket) => {
    sockets.push(socket);
    open++;
    socket.on('close', () => open--);
    socket.on('error', () => {}); // a client that resets is not the server's problem
    socket.pipe(socket); // echo: lines come back exactly as sent
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    get accepted() {
      return sockets.length;
    },
    get open() {
      return open;
    },
    async drop(index) {
      const socket = sockets[index];
      if (socket === undefined || socket.destroyed) return;
      const closed = once(socket, 'close');
      socket.destroy();
      await closed;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** A pool of echo connections. `validate` is a local check, so it runs on every hand-out at no cost. */
export function createEchoPool(port: number, maxSize: number): AsyncPool<EchoConnection> {
  return new AsyncPool<EchoConnection>({
    name: 'echo',
    factory: () => EchoConnection.connect(port),
    releaser: (connection) => connection.close(),
    validate: (connection) => connection.usable,
    maxSize,
    acquireTimeoutMs: 5_000,
    createTimeoutMs: 2_000,
  });
}

/** What {@link main} did, for the reader and for tests. */
export interface TcpEchoSummary {
  readonly callers: number;
  readonly requests: number;
  /** Replies identical to their request. */
  readonly repliesMatched: number;
  readonly maxSize: number;
  /** Connections the server accepted over the whole run. */
  readonly connectionsOpened: number;
  /** Connections found closed by `validate` and replaced. */
  readonly replaced: number;
  /** Requests served after the server dropped a connection (all of them should succeed). */
  readonly requestsAfterDrop: number;
  /** Connections still open on the server after `dispose()`. */
  readonly openAfterDispose: number;
}

export interface MainOptions {
  /** Where the example prints what it does. @defaultValue console.log */
  readonly log?: (line: string) => void;
}

/** Runs the example: 20 concurrent callers, 10 requests each, over 4 pooled connections. */
export async function main({ log = console.log }: MainOptions = {}): Promise<TcpEchoSummary> {
  const callers = 20;
  const requestsPerCaller = 10;
  const maxSize = 4;

  const server = await startEchoServer();
  log(`Echo server listening on 127.0.0.1:${server.port}.`);
  const pool = createEchoPool(server.port, maxSize);
  try {
    await pool.prefill();
    log(`Opened ${pool.size} connections up front (prefill).`);

    let matched = 0;
    const callerRuns = Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; i < requestsPerCaller; i++) {
        const message = `caller ${caller} request ${i}`;
        const reply = await pool.use((connection) => connection.request(message));
        if (reply === message) matched++;
      }
    });
    await Promise.all(callerRuns);
    const requests = callers * requestsPerCaller;
    log(`${callers} concurrent callers sent ${requests} requests; ${matched} replies matched; ` +
      `the server saw ${server.accepted} connections in all.`);

    // The server drops the first connection while it is idle in the pool. validate sees the
    // socket closed and the pool opens a new one: no caller sees an error.
    await server.drop(0);
    // The FIN is already queued on the client's socket; one turn of the event loop delivers it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    log('The server closed one pooled connection while it was idle.');
    let afterDrop = 0;
    await Promise.all(Array.from({ length: maxSize * 2 }, async (_, i) => {
      const reply = await pool.use((connection) => connection.request(`after drop ${i}`));
      if (reply === `after drop ${i}`) afterDrop++;
    }));
    const replaced = pool.stats().destroyed.invalid;
    log(`${afterDrop} more requests all succeeded; validate found ${replaced} closed connection and the pool replaced it ` +
      `(connections opened in all: ${server.accepted}).`);

    await pool.dispose();
    // The server notices each FIN a moment after the client closes.
    for (let i = 0; i < 100 && server.open > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    log(`dispose() closed every connection; ${server.open} left open on the server.`);
    return {
      callers,
      requests,
      repliesMatched: matched,
      maxSize,
      connectionsOpened: server.accepted,
      replaced,
      requestsAfterDrop: afterDrop,
      openAfterDispose: server.open,
    };
  } finally {
    await pool.dispose();
    await server.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
