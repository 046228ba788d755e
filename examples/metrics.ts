/**
 * Exports a pool's `stats()` in the Prometheus text exposition format (version 0.0.4) from a
 * small `node:http` endpoint on 127.0.0.1, then scrapes it once and prints what a Prometheus
 * server would receive.
 *
 * Run it with `npm run build:tools && node .build/examples/metrics.js`.
 * See docs/observability.md for what each figure means and how to alert on it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { AcquireTimeoutError, AsyncPool, type PoolStats } from 'poolkeeper';

/** The `Content-Type` of the Prometheus text format. */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Kind = 'gauge' | 'counter';

/** Numeric fields of `PoolStats` (everything but `name`, `destroyed` and `waitTime`). */
type NumericField = {
  [K in keyof PoolStats]: PoolStats[K] extends number ? K : never;
}[keyof PoolStats];

interface Family {
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
  readonly field: NumericField;
}

// One metric family per field of `stats()`. Counters carry the `_total` suffix.
const FAMILIES: readonly Family[] = [
  { name: 'poolkeeper_size', kind: 'gauge', field: 'size', help: 'Live resources: idle + borrowed + being created.' },
  { name: 'poolkeeper_idle', kind: 'gauge', field: 'idle', help: 'Idle resources ready to hand out.' },
  { name: 'poolkeeper_borrowed', kind: 'gauge', field: 'borrowed', help: 'Resources held by callers, being validated for one, or being reset.' },
  { name: 'poolkeeper_pending', kind: 'gauge', field: 'pending', help: 'acquire() calls not settled yet.' },
  { name: 'poolkeeper_creating', kind: 'gauge', field: 'creating', help: 'factory calls in flight, queued ones included.' },
  { name: 'poolkeeper_max_size', kind: 'gauge', field: 'maxSize', help: 'The maxSize option.' },
  { name: 'poolkeeper_acquired_total', kind: 'counter', field: 'acquired', help: 'Resources handed to callers.' },
  { name: 'poolkeeper_acquired_immediately_total', kind: 'counter', field: 'acquiredImmediately', help: 'Resources handed out at once, without queueing.' },
  { name: 'poolkeeper_acquired_after_wait_total', kind: 'counter', field: 'acquiredAfterWait', help: 'Resources handed out after queueing.' },
  { name: 'poolkeeper_released_total', kind: 'counter', field: 'released', help: 'Resources given back with release().' },
  { name: 'poolkeeper_timed_out_total', kind: 'counter', field: 'timedOut', help: 'acquire() calls rejected with AcquireTimeoutError.' },
  { name: 'poolkeeper_aborted_total', kind: 'counter', field: 'aborted', help: 'acquire() calls cancelled by their signal.' },
  { name: 'poolkeeper_rejected_queue_full_total', kind: 'counter', field: 'rejectedQueueFull', help: 'acquire() calls rejected with PoolQueueFullError.' },
  { name: 'poolkeeper_rejected_unavailable_total', kind: 'counter', field: 'rejectedUnavailable', help: 'acquire() calls rejected with PoolUnavailableError.' },
  { name: 'poolkeeper_rejected_create_failed_total', kind: 'counter', field: 'rejectedCreateFailed', help: 'acquire() calls rejected with a factory error.' },
  { name: 'poolkeeper_created_total', kind: 'counter', field: 'created', help: 'Resources created and entered into the pool.' },
  { name: 'poolkeeper_create_failed_total', kind: 'counter', field: 'createFailed', help: 'factory calls that threw, rejected, timed out or returned nothing.' },
  { name: 'poolkeeper_validation_failed_total', kind: 'counter', field: 'validationFailed', help: 'validate calls that found a resource unusable.' },
  { name: 'poolkeeper_destroy_failed_total', kind: 'counter', field: 'destroyFailed', help: 'releaser calls that threw, rejected or timed out.' },
  { name: 'poolkeeper_leaks_total', kind: 'counter', field: 'leaks', help: 'Resources borrowed longer than leakDetectionMs.' },
];

const QUANTILES = [
  ['0.5', 'p50Ms'],
  ['0.9', 'p90Ms'],
  ['0.99', 'p99Ms'],
] as const;

/** A sample value: Prometheus spells the infinities `+Inf`/`-Inf`. */
function value(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** Label values escape backslash, double quote and newline. */
function labelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: readonly (readonly [string, string])[]): string {
  return `{${pairs.map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')}}`;
}

/** Milliseconds to seconds, Prometheus' base unit of time. */
function seconds(ms: number): number {
  return ms / 1000;
}

/**
 * Renders pool snapshots in the Prometheus text format 0.0.4: one `# HELP` and one `# TYPE` line
 * per metric family, then one sample per pool, labelled with the pool's `name`. Destroyed
 * resources are one counter with a `reason` label; the wait time is a summary in seconds (its
 * quantiles cover the pool's whole life, see docs/observability.md) plus a gauge of the maximum.
 */
export function formatMetrics(pools: readonly PoolStats[]): string {
  const out: string[] = [];
  const family = (name: string, kind: string, help: string): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${kind}`);
  };
  for (const f of FAMILIES) {
    family(f.name, f.kind, f.help);
    for (const s of pools) out.push(`${f.name}${labels([['pool', s.name]])} ${value(s[f.field])}`);
  }

  family('poolkeeper_destroyed_total', 'counter', 'Resources closed, by reason.');
  for (const s of pools) {
    for (const [reason, count] of Object.entries(s.destroyed)) {
      if (reason === 'total') continue; // sum(poolkeeper_destroyed_total) gives it
      out.push(`poolkeeper_destroyed_total${labels([['pool', s.name], ['reason', reason]])} ${value(count)}`);
    }
  }

  family(
    'poolkeeper_acquire_wait_seconds',
    'summary',
    'How long acquire() calls waited for a resource (0 when served at once), since the pool was created.',
  );
  for (const s of pools) {
    const w = s.waitTime;
    for (const [quantile, key] of QUANTILES) {
      out.push(`poolkeeper_acquire_wait_seconds${labels([['pool', s.name], ['quantile', quantile]])} ${value(seconds(w[key]))}`);
    }
    out.push(`poolkeeper_acquire_wait_seconds_sum${labels([['pool', s.name]])} ${value(seconds(w.sumMs))}`);
    out.push(`poolkeeper_acquire_wait_seconds_count${labels([['pool', s.name]])} ${value(w.count)}`);
  }

  family('poolkeeper_acquire_wait_seconds_max', 'gauge', 'Longest acquire() wait since the pool was created.');
  for (const s of pools) {
    out.push(`poolkeeper_acquire_wait_seconds_max${labels([['pool', s.name]])} ${value(seconds(s.waitTime.maxMs))}`);
  }
  return out.join('\n') + '\n';
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://127.0.0.1:<port>/metrics` */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Serves `GET /metrics` on 127.0.0.1 (a free port), rendering `snapshot()` on every scrape. */
export async function serveMetrics(snapshot: () => readonly PoolStats[]): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      const body = formatMetrics(snapshot());
      res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(404).end();
    }
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

/** One GET, the way a Prometheus server scrapes: resolves with the content type and body. */
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
 * them with `print`, and shuts everything down. Resolves with the scraped text.
 *
 * The traffic, and so the counters in the output: 2 resources prefilled; 2 acquires served at
 * once; 1 acquire that waits for a release; 1 acquire that times out; 1 resource destroyed as
 * broken; 1 acquire rejected because the factory failed; 2 releases.
 */
export async function main(print: (text: string) => void = (text) => process.stdout.write(text)): Promise<string> {
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

  const server = await serveMetrics(() => [pool.stats()]);
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
    if (status !== 200 || contentType !== CONTENT_TYPE) throw new Error(`unexpected response: ${status} ${contentType}`);
    print(body);
    return body;
  } finally {
    await server.close();
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
