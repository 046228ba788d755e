/**
 * `poolkeeper/prometheus`: a pool's metrics registered into the application's prom-client
 * `Registry`, named the Prometheus way (units in names, `_total` counters, `_seconds`
 * histograms) after HikariCP's `hikaricp_*` set. Needs `prom-client` (an optional peer
 * dependency): the metrics are made with the application's own copy, so they appear in the
 * registry its `/metrics` endpoint serves.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { registerPoolMetrics } from 'poolkeeper/prometheus';
 *
 * const registry = new Registry();
 * const metrics = registerPoolMetrics(pool, { registry });
 * // serve `await registry.metrics()` with `registry.contentType`; later: metrics.unregister();
 * ```
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AsyncPool } from './async-pool.js';
import type { DestroyReason } from './events.js';
import { DURATION_BUCKETS_SECONDS, checkOptions, checkPool, recordDurations } from './exporter-support.js';
import { show } from './options.js';
import type { PoolStats } from './stats.js';

export { DURATION_BUCKETS_SECONDS } from './exporter-support.js';

/** The label naming the pool on every series (its `name` option). */
export const POOL_LABEL = 'pool';

/** Options of {@link registerPoolMetrics}. */
export interface RegisterPoolMetricsOptions {
  /** The prom-client registry to register into, e.g. `new Registry()` or prom-client's `register`. */
  readonly registry: Registry;
  /**
   * Prepended to every metric name. Pools registered with the same registry and prefix share
   * the metric families, one series per pool.
   *
   * @default 'poolkeeper_'
   */
  readonly prefix?: string;
  /**
   * Constant labels added to every series of this pool, e.g. `{ service: 'api' }`. Pools sharing
   * a registry and prefix must use the same label names. `pool`, `reason`, `le` and names
   * starting with `__` are reserved.
   *
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What {@link registerPoolMetrics} returns: removes the pool's series. */
export interface PoolMetrics {
  /** The metric names registered (shared with the other pools of the same registry and prefix). */
  readonly names: readonly string[];
  /**
   * Stops reporting the pool: removes its listeners and its series; the last pool of a registry
   * and prefix also removes the metric families from the registry. Idempotent.
   */
  unregister(): void;
  /** Same as {@link PoolMetrics.unregister}, for `using metrics = registerPoolMetrics(...)`. */
  [Symbol.dispose](): void;
}

type Labels = Record<string, string>;
type NumberField = { [K in keyof PoolStats]: PoolStats[K] extends number ? K : never }[keyof PoolStats];

/** A metric family read from `stats()` at scrape time. */
interface StatFamily {
  readonly suffix: string;
  readonly kind: 'gauge' | 'counter';
  readonly help: string;
  readonly field: NumberField;
}

const STAT_FAMILIES: readonly StatFamily[] = [
  { suffix: 'resources', kind: 'gauge', field: 'size', help: 'Live resources: idle, in use and being created.' },
  { suffix: 'resources_idle', kind: 'gauge', field: 'idle', help: 'Idle resources ready to hand out.' },
  { suffix: 'resources_in_use', kind: 'gauge', field: 'borrowed', help: 'Resources held by callers, being validated for one, or being reset.' },
  { suffix: 'resources_creating', kind: 'gauge', field: 'creating', help: 'Resources being created (factory calls in flight or queued).' },
  { suffix: 'resources_max', kind: 'gauge', field: 'maxSize', help: 'Most live resources allowed (the maxSize option).' },
  { suffix: 'resources_idle_min', kind: 'gauge', field: 'minIdle', help: 'Idle resources kept ready (the minIdle option).' },
  { suffix: 'resources_idle_max', kind: 'gauge', field: 'maxIdle', help: 'Most idle resources kept (the maxIdle option).' },
  { suffix: 'acquires_pending', kind: 'gauge', field: 'pending', help: 'acquire() calls not settled yet.' },
  { suffix: 'acquires_total', kind: 'counter', field: 'acquired', help: 'Resources handed to callers.' },
  { suffix: 'acquire_timeouts_total', kind: 'counter', field: 'timedOut', help: 'acquire() calls rejected with AcquireTimeoutError.' },
  { suffix: 'acquires_aborted_total', kind: 'counter', field: 'aborted', help: 'acquire() calls cancelled by their AbortSignal.' },
  { suffix: 'releases_total', kind: 'counter', field: 'released', help: 'Resources given back with release().' },
  { suffix: 'resources_created_total', kind: 'counter', field: 'created', help: 'Resources created and entered into the pool.' },
  { suffix: 'resource_create_failures_total', kind: 'counter', field: 'createFailed', help: 'factory calls that threw, rejected, timed out or returned nothing.' },
  { suffix: 'resource_validation_failures_total', kind: 'counter', field: 'validationFailed', help: 'validate calls that found a resource unusable.' },
  { suffix: 'resource_destroy_failures_total', kind: 'counter', field: 'destroyFailed', help: 'releaser calls that threw, rejected or timed out.' },
  { suffix: 'resource_leaks_total', kind: 'counter', field: 'leaks', help: 'Borrows that outlived leakDetectionMs.' },
];

const REJECTIONS = [
  ['queue_full', 'rejectedQueueFull'],
  ['unavailable', 'rejectedUnavailable'],
  ['create_failed', 'rejectedCreateFailed'],
  ['budget_unavailable', 'rejectedBudgetUnavailable'],
] as const;

const DESTROY_REASONS: readonly DestroyReason[] = ['recycled', 'idle', 'invalid', 'overflow', 'destroyed', 'cleared', 'disposed', 'maxUses', 'retired', 'resized', 'revoked'];

const HISTOGRAMS = [
  ['acquire_wait_seconds', 'How long acquire() calls waited for a resource (0 when one was idle).'],
  ['resource_use_seconds', 'How long resources were borrowed, until release() or destroy().'],
  ['resource_create_seconds', 'How long factory calls took, for resources that entered the pool.'],
] as const;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED_LABELS = new Set([POOL_LABEL, 'reason', 'le', 'quantile']);

/** One registered pool. */
interface Member {
  readonly pool: AsyncPool<unknown>;
  readonly labels: Labels;
  /** `stats()` memoized for one scrape: every family's `collect()` runs in the same turn. */
  snapshot: PoolStats | undefined;
}

/** The metric families of one registry and prefix, and the pools reported in them. */
interface Family {
  readonly labelNames: readonly string[];
  readonly metrics: readonly (Gauge | Counter | Histogram)[];
  /** Their names, in the same order. */
  readonly names: readonly string[];
  readonly wait: Histogram;
  readonly use: Histogram;
  readonly create: Histogram;
  /** By the JSON of the label set: two pools with one label set would be one series. */
  readonly members: Map<string, Member>;
}

const families = new WeakMap<Registry, Map<string, Family>>();

function statsOf(member: Member): PoolStats {
  if (member.snapshot === undefined) {
    member.snapshot = member.pool.stats();
    queueMicrotask(() => (member.snapshot = undefined));
  }
  return member.snapshot;
}

/** The names of the families, in the order `createFamily` creates them. */
function metricNames(prefix: string): string[] {
  return [
    ...STAT_FAMILIES.map((f) => prefix + f.suffix),
    `${prefix}acquires_rejected_total`,
    `${prefix}resources_destroyed_total`,
    ...HISTOGRAMS.map(([suffix]) => prefix + suffix),
  ];
}

function createFamily(registry: Registry, prefix: string, labelNames: readonly string[]): Family {
  const members = new Map<string, Member>();
  const registers = [registry];
  const names = [...labelNames];
  const metrics: (Gauge | Counter | Histogram)[] = [];
  for (const f of STAT_FAMILIES) {
    const config = {
      name: prefix + f.suffix,
      help: f.help,
      labelNames: names,
      registers,
      // Read at scrape time: reset drops the series of pools unregistered since the last scrape.
      collect(this: Gauge | Counter) {
        this.reset();
        for (const m of members.values()) {
          const v = statsOf(m)[f.field];
          if (this instanceof Gauge) this.set(m.labels, v);
          else this.inc(m.labels, v);
        }
      },
    };
    metrics.push(f.kind === 'gauge' ? new Gauge(config) : new Counter(config));
  }
  metrics.push(
    new Counter({
      name: `${prefix}acquires_rejected_total`,
      help: 'acquire() calls rejected without a resource, by reason: queue_full (maxWaiters), unavailable (fail-fast), create_failed (the factory error).',
      labelNames: [...names, 'reason'],
      registers,
      collect() {
        this.reset();
        for (const m of members.values()) {
          const s = statsOf(m);
          for (const [reason, field] of REJECTIONS) this.inc({ ...m.labels, reason }, s[field]);
        }
      },
    }),
    new Counter({
      name: `${prefix}resources_destroyed_total`,
      help: 'Resources closed, by reason: recycled, idle, invalid, overflow, destroyed, cleared, disposed, maxUses, retired, resized, revoked.',
      labelNames: [...names, 'reason'],
      registers,
      collect() {
        this.reset();
        for (const m of members.values()) {
          const d = statsOf(m).destroyed;
          for (const reason of DESTROY_REASONS) this.inc({ ...m.labels, reason }, d[reason]);
        }
      },
    }),
  );
  const [wait, use, create] = HISTOGRAMS.map(
    ([suffix, help]) => new Histogram({ name: prefix + suffix, help, labelNames: names, buckets: [...DURATION_BUCKETS_SECONDS], registers }),
  ) as [Histogram, Histogram, Histogram];
  metrics.push(wait, use, create);
  return { labelNames, metrics, names: metricNames(prefix), wait, use, create, members };
}

/**
 * Puts back the family's metrics that the application removed from the registry since
 * (`registry.clear()`, `removeSingleMetric()`), so that the pools registered now, and those
 * registered before, are reported again. Checks every name before registering any.
 */
function restore(registry: Registry, family: Family): void {
  const missing: number[] = [];
  family.names.forEach((name, i) => {
    const found = registry.getSingleMetric(name);
    if (found === family.metrics[i]) return;
    if (found !== undefined) {
      throw new TypeError(`poolkeeper: registerPoolMetrics(): the registry already has a metric named ${show(name)}; choose another "prefix"`);
    }
    missing.push(i);
  });
  for (const i of missing) registry.registerMetric(family.metrics[i]!);
}

function checkLabels(labels: unknown): Labels {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw new TypeError(`poolkeeper: registerPoolMetrics() option "labels" must be an object of strings; got ${show(labels)}`);
  }
  const out: Labels = {};
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(key) || key.startsWith('__') || RESERVED_LABELS.has(key)) {
      throw new TypeError(`poolkeeper: registerPoolMetrics() option "labels" has an invalid or reserved label name ${show(key)}`);
    }
    if (typeof value !== 'string') {
      throw new TypeError(`poolkeeper: registerPoolMetrics() option "labels" value of ${show(key)} must be a string; got ${show(value)}`);
    }
    out[key] = value;
  }
  return out;
}

/**
 * Registers `pool`'s metrics into `registry`, every series labelled `pool` = the pool's name
 * (plus `labels`). With the default prefix `poolkeeper_`:
 *
 * | Metric | Type | From |
 * |---|---|---|
 * | `poolkeeper_resources`, `_resources_idle`, `_resources_in_use`, `_resources_creating` | gauge | `stats()`: `size`, `idle`, `borrowed`, `creating` |
 * | `poolkeeper_resources_max`, `_resources_idle_min`, `_resources_idle_max` | gauge | `maxSize`, `minIdle`, `maxIdle` |
 * | `poolkeeper_acquires_pending` | gauge | `pending` |
 * | `poolkeeper_acquires_total`, `_acquire_timeouts_total`, `_acquires_aborted_total`, `_releases_total` | counter | `acquired`, `timedOut`, `aborted`, `released` |
 * | `poolkeeper_acquires_rejected_total{reason}` | counter | `rejectedQueueFull`, `rejectedUnavailable`, `rejectedCreateFailed`, `rejectedBudgetUnavailable` |
 * | `poolkeeper_resources_created_total`, `_resource_create_failures_total` | counter | `created`, `createFailed` |
 * | `poolkeeper_resources_destroyed_total{reason}` | counter | `destroyed` |
 * | `poolkeeper_resource_validation_failures_total`, `_resource_destroy_failures_total`, `_resource_leaks_total` | counter | `validationFailed`, `destroyFailed`, `leaks` |
 * | `poolkeeper_acquire_wait_seconds` | histogram | `acquire` events |
 * | `poolkeeper_resource_use_seconds` | histogram | `release` events, `destroy()` of a borrowed resource |
 * | `poolkeeper_resource_create_seconds` | histogram | `create` events |
 *
 * Gauges and counters are read from `stats()` when the registry is scraped (one snapshot per
 * pool per scrape); counters count since the pool was created. Histograms (buckets
 * {@link DURATION_BUCKETS_SECONDS}) record from the moment of this call.
 *
 * Pools registered with the same registry and prefix share the metric families; each pool's
 * label set must be unique among them.
 *
 * @throws TypeError if an argument is not what it should be, if the pool's label set is already
 * registered, if the label names differ from those of the pools already registered with the
 * same registry and prefix, or if a metric of the same name that this function did not create
 * is in the registry.
 */
export function registerPoolMetrics<T>(pool: AsyncPool<T>, options: RegisterPoolMetricsOptions): PoolMetrics {
  checkPool('registerPoolMetrics', pool);
  checkOptions('registerPoolMetrics', options, ['registry', 'prefix', 'labels']);
  const { registry } = options;
  const r = registry as Partial<Record<keyof Registry, unknown>> | undefined;
  if (typeof r !== 'object' || r === null || typeof r.registerMetric !== 'function' || typeof r.getSingleMetric !== 'function') {
    throw new TypeError(`poolkeeper: registerPoolMetrics() option "registry" must be a prom-client Registry; got ${show(registry)}`);
  }
  const prefix = options.prefix ?? 'poolkeeper_';
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    throw new TypeError(`poolkeeper: registerPoolMetrics() option "prefix" must match ${METRIC_NAME.source} or be empty; got ${show(prefix)}`);
  }
  const labels: Labels = { [POOL_LABEL]: pool.stats().name, ...checkLabels(options.labels ?? {}) };
  const labelNames = Object.keys(labels).sort();
  const key = JSON.stringify(labelNames.map((k) => [k, labels[k]]));

  let byPrefix = families.get(registry);
  if (byPrefix === undefined) families.set(registry, (byPrefix = new Map()));
  let family = byPrefix.get(prefix);
  if (family === undefined) {
    for (const name of metricNames(prefix)) {
      if (registry.getSingleMetric(name) !== undefined) {
        throw new TypeError(`poolkeeper: registerPoolMetrics(): the registry already has a metric named ${show(name)}; choose another "prefix"`);
      }
    }
    family = createFamily(registry, prefix, labelNames);
    byPrefix.set(prefix, family);
  } else if (family.labelNames.join() !== labelNames.join()) {
    throw new TypeError(
      `poolkeeper: registerPoolMetrics() option "labels": pools sharing a registry and prefix must use the same label names; ` +
        `registered: ${family.labelNames.join(', ')}; got: ${labelNames.join(', ')}`,
    );
  } else {
    restore(registry, family);
  }
  if (family.members.has(key)) {
    throw new TypeError(
      `poolkeeper: registerPoolMetrics(): a pool with the labels ${key} is already registered with this registry and prefix; ` +
        'give each pool its own name (or a distinguishing label) so their series are not merged',
    );
  }
  const member: Member = { pool, labels, snapshot: undefined };
  family.members.set(key, member);
  const f = family;
  // A series per histogram from the start, so rate() sees the first observation.
  for (const h of [f.wait, f.use, f.create]) h.zero(labels);
  const wait = f.wait.labels(labels);
  const use = f.use.labels(labels);
  const create = f.create.labels(labels);

  const stopRecording = recordDurations(pool, {
    wait: (s) => wait.observe(s),
    create: (s) => create.observe(s),
    use: (s) => use.observe(s),
  });

  let done = false;
  const unregister = (): void => {
    if (done) return;
    done = true;
    stopRecording();
    f.members.delete(key);
    for (const h of [f.wait, f.use, f.create]) h.remove(labels);
    if (f.members.size === 0) {
      f.names.forEach((name, i) => {
        // Only ours: the application may have replaced it since.
        if (registry.getSingleMetric(name) === f.metrics[i]) registry.removeSingleMetric(name);
      });
      if (byPrefix!.get(prefix) === f) byPrefix!.delete(prefix);
    }
  };
  return { names: f.names, unregister, [Symbol.dispose]: unregister };
}
