/**
 * A line-protocol TCP server that misbehaves on purpose, and the client connection the
 * socket-chaos test pools. Every chaos decision comes from a seeded PRNG, so a failing run can be
 * replayed with the same decisions (the interleaving of real sockets still varies from run to run).
 *
 * Protocol: on connect the server greets with `hello\n`; each `ping <n>\n` is answered `pong <n>\n`.
 */
import net from 'node:net';

/** Probabilities of each misbehaviour. */
export interface ChaosOptions {
  /** On accept: close (half of them with a reset). */
  readonly dropOnAccept: number;
  /** On accept: never greet (the client's connect timeout fires). */
  readonly stallOnAccept: number;
  /** On a request: close the connection (half of them with a reset). */
  readonly dropOnRequest: number;
  /** On a request: never answer it. */
  readonly stallOnRequest: number;
  /** On a request: answer after 5–40 ms. */
  readonly delayOnRequest: number;
}

/** Counts of what the server did, by kind. */
export type ChaosCounts = Record<'accepted' | 'dropOnAccept' | 'stallOnAccept' | 'requests' | 'dropOnRequest' | 'stallOnRequest' | 'delayOnRequest' | 'restarts', number>;

export class ChaosServer {
  readonly counts: ChaosCounts = {
    accepted: 0, dropOnAccept: 0, stallOnAccept: 0, requests: 0, dropOnRequest: 0, stallOnRequest: 0, delayOnRequest: 0, restarts: 0,
  };
  #server: net.Server | undefined;
  #port = 0;
  readonly #sockets = new Set<net.Socket>();
  readonly #delays = new Set<ReturnType<typeof setTimeout>>();
  readonly #random: () => number;
  readonly #options: ChaosOptions;
  #restarting: Promise<void> = Promise.resolve();

  constructor(random: () => number, options: ChaosOptions) {
    this.#random = random;
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  /** Connections the server holds open now. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Listens on 127.0.0.1, on a free port the first time and on the same port after a restart. */
  async listen(): Promise<void> {
    const server = net.createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening and drops every connection; clients see refusals until {@link listen}. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const timer of this.#delays) clearTimeout(timer);
    this.#delays.clear();
    for (const socket of this.#sockets) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Close, stay down for `downMs`, listen again on the same port. Restarts never overlap: one
   * asked for during another starts when it is over.
   */
  restart(downMs: number): Promise<void> {
    const restart = this.#restarting.then(async () => {
      this.counts.restarts++;
      await this.close();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await this.listen();
    });
    this.#restarting = restart;
    return restart;
  }

  #drop(socket: net.Socket): void {
    if (this.#random() < 0.5) socket.resetAndDestroy();
    else socket.destroy();
  }

  #accept(socket: net.Socket): void {
    this.counts.accepted++;
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {}); // clients reset connections all the time here
    const o = this.#options;
    const r = this.#random();
    if (r < o.dropOnAccept) {
      this.counts.dropOnAccept++;
      this.#drop(socket);
      return;
    }
    if (r < o.dropOnAccept + o.stallOnAccept) {
      this.counts.stallOnAccept++;
      return; // no greeting, and no answers: a server that accepted and hung
    }
    socket.write('hello\n');
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        this.#answer(socket, line);
      }
    });
  }

  #answer(socket: net.Socket, line: string): void {
    this.counts.requests++;
    const reply = `${line.replace(/^ping /, 'pong ')}\n`;
    const o = this.#options;
    const r = this.#random();
    let p = o.dropOnRequest;
    if (r < p) {
      this.counts.dropOnRequest++;
      this.#drop(socket);
    } else if (r < (p += o.stallOnRequest)) {
      this.counts.stallOnRequest++;
    } else if (r < (p += o.delayOnRequest)) {
      this.counts.delayOnRequest++;
      const timer = setTimeout(() => {
        this.#delays.delete(timer);
        if (!socket.destroyed) socket.write(reply);
      }, 5 + Math.floor(this.#random() * 36));
      this.#delays.add(timer);
    } else {
      socket.write(reply);
    }
  }
}

/** Failures the client itself detects, with a stable `code` like Node's socket errors. */
export class ConnectionError extends Error {
  constructor(
    readonly code: 'E_CONNECT_TIMEOUT' | 'E_REQUEST_TIMEOUT' | 'E_CONN_CLOSED',
    message: string,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}

interface Pending {
  readonly expect: string;
  readonly resolve: (line: string) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** One client connection: connect (with a timeout, waiting for the greeting), then requests one at a time. */
export class Connection {
  #buffered = '';
  #pending: Pending | undefined;
  #failure: Error | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(error));
    socket.on('end', () => this.#fail(new ConnectionError('E_CONN_CLOSED', 'the server closed the connection')));
    socket.on('close', () => this.#fail(new ConnectionError('E_CONN_CLOSED', 'the connection closed')));
  }

  /**
   * Connects and waits for the greeting. Rejects with the socket's error (ECONNREFUSED,
   * ECONNRESET), `E_CONN_CLOSED`, or `E_CONNECT_TIMEOUT` after `timeoutMs`; the socket is then
   * destroyed. `track` sees every socket created, for the test's leak check.
   */
  static connect(port: number, timeoutMs: number, track: (socket: net.Socket) => void): Promise<Connection> {
    const socket = net.connect({ host: '127.0.0.1', port });
    track(socket);
    const connection = new Connection(socket);
    return new Promise<Connection>((resolve, reject) => {
      connection.#pending = {
        expect: 'hello',
        resolve: () => resolve(connection),
        reject: (error) => {
          socket.destroy();
          reject(error);
        },
        timer: setTimeout(() => connection.#fail(new ConnectionError('E_CONNECT_TIMEOUT', `no greeting within ${timeoutMs} ms`)), timeoutMs),
      };
    });
  }

  /** Still worth handing out: open, and nothing has failed on it. */
  get usable(): boolean {
    return this.#failure === undefined && !this.socket.destroyed;
  }

  /** Sends `ping <n>` and resolves with the answer line; rejects as {@link connect} does, or `E_REQUEST_TIMEOUT`. */
  request(n: number, timeoutMs: number): Promise<string> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#pending !== undefined) return Promise.reject(new Error('Connection: one request at a time'));
    return new Promise<string>((resolve, reject) => {
      this.#pending = {
        expect: `pong ${n}`,
        resolve,
        reject,
        timer: setTimeout(() => this.#fail(new ConnectionError('E_REQUEST_TIMEOUT', `no answer within ${timeoutMs} ms`)), timeoutMs),
      };
      this.socket.write(`ping ${n}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  #onData(chunk: string): void {
    this.#buffered += chunk;
    for (let end = this.#buffered.indexOf('\n'); end !== -1; end = this.#buffered.indexOf('\n')) {
      const line = this.#buffered.slice(0, end);
      this.#buffered = this.#buffered.slice(end + 1);
      const pending = this.#pending;
      if (pending === undefined || line !== pending.expect) {
        // A late answer to a request that timed out: the stream is out of step, so stop using it.
        this.#fail(new ConnectionError('E_CONN_CLOSED', `unexpected line ${JSON.stringify(line)}`));
        this.socket.destroy();
        return;
      }
      this.#pending = undefined;
      clearTimeout(pending.timer);
      pending.resolve(line);
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    pending.reject(error);
  }
}
