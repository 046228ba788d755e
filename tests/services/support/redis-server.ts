/**
 * A throw-away `redis-server` of the test's own, on a free port, that the test can kill and start
 * again (same port) to play an outage. Nothing is persisted (`--save "" --appendonly no`), so a
 * restart comes back empty, as a failed-over Redis that lost its data would. The shared Redis on
 * 6379 is never touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';

/** Fails loudly when the binary is missing: the outage test cannot run without it. */
export function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const binary = found.stdout.trim();
  if (found.status !== 0 || binary === '') {
    throw new Error('redis-server is not installed (not on PATH): the Redis outage tests start one of their own on a free port. Install it (apt-get install redis-server).');
  }
  return binary;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.startsWith('+PONG'));
      }
    });
  });
}

export class OwnRedis {
  readonly port: number;
  readonly #binary: string;
  readonly #dir: string;
  #child: ChildProcess | undefined;

  private constructor(binary: string, port: number, dir: string) {
    this.#binary = binary;
    this.port = port;
    this.#dir = dir;
  }

  static async start(): Promise<OwnRedis> {
    const binary = redisServerBinary();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poolkeeper-redis-'));
    const server = new OwnRedis(binary, await freePort(), dir);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts it (again, on the same port) and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.#child !== undefined) return;
    const child = spawn(this.#binary, [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.#dir, '--daemonize', 'no', '--loglevel', 'warning',
    ], { stdio: 'ignore' });
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    const deadline = Date.now() + 10_000;
    while (!(await answers(this.port))) {
      if (this.#child !== child) throw new Error(`redis-server exited at start on port ${this.port}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Kills it (SIGKILL: an outage, not a shutdown) and waits until it has exited. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.#child = undefined;
  }

  /** Kills it and removes its directory. */
  async cleanup(): Promise<void> {
    await this.kill();
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}
