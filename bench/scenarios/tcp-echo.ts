/**
 * Scenario 6: real sockets. Each pool holds up to 10 TCP connections to an echo server in a
 * child process; 200 tasks each acquire a connection, do one request/response round trip and
 * release it. The pool's cost should vanish next to the network's.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Contender, PoolUnderTest } from '../contenders.js';
import { concurrently, now, perPool, type RunConfig, type Scenario } from '../harness.js';
import { count } from '../report.js';

const SOCKETS = 10;
const TASKS = 200;
const MESSAGE = Buffer.from('ping 0123456789abcdef\n');
/** Round trips per pool per round, in {@link SLICES} interleaved slices. */
const tripsFor = (config: RunConfig): number => (config.quick ? 10_000 : 40_000);
const SLICES = 12;
/** Untimed round trips before each slice: every socket connected, the pool in its steady state. */
const SETTLE_TRIPS = 400;

/** One pooled connection: one request in flight at a time, its echo awaited by length. */
class EchoConnection {
  readonly #socket: Socket;
  #expected = 0;
  #received = 0;
  #resolve: (() => void) | undefined = undefined;
  #reject: ((error: Error) => void) | undefined = undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#received += chunk.length;
      if (this.#received >= this.#expected) this.#settle(undefined);
    });
    socket.on('error', (error) => this.#settle(error));
    socket.on('close', () => this.#settle(new Error('echo connection closed')));
  }

  static open(port: number): Promise<EchoConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new EchoConnection(socket));
      });
    });
  }

  roundTrip(message: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#expected = message.length;
      this.#received = 0;
      this.#resolve = resolve;
      this.#reject = reject;
      this.#socket.write(message);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #settle(error: Error | undefined): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    if (error === undefined) resolve?.();
    else reject?.(error);
  }
}

async function echoTask(pool: PoolUnderTest<EchoConnection>, work: { left: number }, message: Buffer): Promise<void> {
  while (work.left > 0) {
    work.left--;
    const connection = await pool.acquire();
    await connection.roundTrip(message);
    pool.release(connection);
  }
}
const taskFor = perPool(echoTask);

async function run(contender: Contender, trips: number): Promise<{ tripsPerSec: number }> {
  const task = taskFor(contender.name);
  const pool = contender.make({
    max: SOCKETS,
    create: () => EchoConnection.open(port),
    destroy: (connection) => connection.close(),
  });
  const settle = { left: SETTLE_TRIPS };
  await concurrently(TASKS, () => task(pool, settle, MESSAGE));
  const work = { left: trips };
  const started = now();
  await concurrently(TASKS, () => task(pool, work, MESSAGE));
  const tripsPerSec = trips / ((now() - started) / 1000);
  await pool.close();
  return { tripsPerSec };
}

let server: ChildProcess | undefined;
let port = 0;

export const tcpEcho: Scenario = {
  id: '6',
  title: (config) => `TCP echo (child process), ${SOCKETS} sockets, ${TASKS} tasks, ${count(tripsFor(config))} round trips per round`,
  summary:
    'A TCP echo server runs in a child process; each pool holds up to 10 sockets to it; 200 tasks each acquire a socket, do one request/response round trip and release it.',
  slices: SLICES,
  metrics: [{ key: 'tripsPerSec', label: 'round trips per second', unit: 'ops/s', chart: '6. TCP echo' }],
  async setup() {
    const child = fork(fileURLToPath(new URL('../echo-server.js', import.meta.url)), { stdio: 'inherit' });
    server = child;
    port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { port: number }).port));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`echo server exited with code ${code}`)));
    });
  },
  async teardown() {
    server?.kill();
    server = undefined;
  },
  warmUp: (contender) => run(contender, 20_000),
  measure: (contender, config) => run(contender, tripsFor(config) / SLICES),
};
