/**
 * Exposes a pool's metrics to Prometheus with `poolkeeper/prometheus` and the application's own
 * prom-client `Registry`, served from a small `node:http` endpoint on 127.0.0.1; then scrapes it
 * once, prints what a Prometheus server would receive, and exits.
 *
 * Run it with `npm run build:tools && node .build/examples/metrics.js`.
 * See docs/observability.md for the metrics, the queries to graph them and the alerts to set.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { AcquireTimeoutError, AsyncPool } from 'poolkeeper';
import { registerPoolMetrics } from 'poolkeeper/prometheus';
import { Registry } from 'prom-client';

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://127.0.0.1:<port>/metrics` */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Serves `GET /metrics` from `registry` on 127.0.0.1 (a free port). */
export async function serveMetrics(registry: Registry): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      (error: unknown) => {
        res.writeHead(500).end(String(error));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** One GET, the way a Prometheus server scrapes: resolves with the status, content type and body. */
export function scrape(url: string): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    // agent: false, so no keep-alive socket outlives the scrape.
    const req = http.get(url, { agent: false }, (res) => {
      res.setEncoding('utf8');
      let body = '';
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** A stand-in connection: the example needs no database. */
interface Connection {
  readonly id: number;
  open: boolean;
}

/**
 * Runs some traffic through a pool named `example`, serves its metrics, scrapes them once, prints
 * them with `print`, and shuts everything down. Resolves with the scraped text and content type.
 *
 * The traffic, and so the figures in the output: 2 resources prefilled; 2 acquires served at
 * once; 1 acquire that waits for a release; 1 acquire that times out; 1 resource destroyed as
 * broken; 1 acquire rejected because the factory failed; 2 releases.
 */
export async function main(
  print: (text: string) => void = (text) => process.stdout.write(text),
): Promise<{ body: string; contentType: string }> {
  let nextId = 0;
  let failNext = false;
  const connectError = new Error('connect ECONNREFUSED 127.0.0.1:5432');
  const pool = new AsyncPool<Connection>({
    name: 'example',
    factory: async () => {
      if (failNext) {
        failNext = false;
        throw connectError;
      }
      return { id: ++nextId, open: true };
    },
    releaser: (conn) => {
      conn.open = false;
    },
    maxSize: 2,
  });
  // Failures no caller sees (a failing releaser, a background creation) arrive here.
  pool.on('error', ({ error, operation }) => console.error(`pool error during ${operation}:`, error));

  // The application's registry: its own metrics and the pool's are served together.
  const registry = new Registry();
  const metrics = registerPoolMetrics(pool, { registry, labels: { service: 'example' } });
  const server = await serveMetrics(registry);
  try {
    await pool.prefill(); // 2 created
    const a = await pool.acquire(); // served at once
    const b = await pool.acquire(); // served at once; the pool is now exhausted
    const queued = pool.acquire(); // waits...
    setTimeout(() => pool.release(a), 20).unref(); // ...until this release
    const c = await queued;

    try {
      await pool.acquire({ timeoutMs: 25 }); // nothing comes back in time
      throw new Error('expected an AcquireTimeoutError');
    } catch (error) {
      if (!(error instanceof AcquireTimeoutError)) throw error;
    }

    await pool.destroy(b); // a broken connection: closed, its slot freed
    failNext = true;
    try {
      await pool.acquire(); // needs a new connection, and connecting fails
      throw new Error('expected the factory error');
    } catch (error) {
      if (error !== connectError) throw error;
    }
    pool.release(c);

    const { status, contentType, body } = await scrape(server.url);
    if (status !== 200) throw new Error(`unexpected response: ${status}`);
    print(body);
    return { body, contentType };
  } finally {
    await server.close();
    metrics.unregister();
    await pool.dispose({ timeoutMs: 5_000 }); // closes anything still borrowed after 5 s
  }
}

// Run when executed directly, not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
