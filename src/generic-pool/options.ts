/**
 * generic-pool 3's options, read the way generic-pool reads them, so a configuration that worked
 * there works here unchanged (numeric strings are parsed, malformed values fall back to the
 * default, `min` is capped at `max`). The core's strict checks apply to what this produces.
 *
 * @module
 */

import { MAX_PRIORITIES } from '../options.js';

/** The resource factory of generic-pool 3. */
export interface Factory<T> {
  /** Creates a resource. A rejection is reported as `factoryCreateError` and the creation is retried. */
  create(): Promise<T>;
  /** Closes a resource. A rejection (or a `destroyTimeoutMillis` timeout) is reported as `factoryDestroyError`. */
  destroy(client: T): Promise<void>;
  /** With `testOnBorrow`, checked before each hand-out; only `false` fails it. */
  validate?(client: T): Promise<boolean>;
}

/** generic-pool 3's options. Times are in milliseconds. */
export interface Options {
  /** Cap on live resources. @defaultValue 1 */
  max?: number;
  /** Live resources kept at all times (capped at `max`). @defaultValue 0 */
  min?: number;
  /** Most callers queued; the next is rejected with "max waitingClients count exceeded". @defaultValue unlimited */
  maxWaitingClients?: number;
  /** Run `factory.validate` before each hand-out. @defaultValue false */
  testOnBorrow?: boolean;
  /** Accepted and ignored, as generic-pool 3 does. */
  testOnReturn?: boolean;
  /** How long `acquire()` waits before rejecting with "ResourceRequest timed out". @defaultValue unlimited */
  acquireTimeoutMillis?: number;
  /** How long `factory.destroy` may take before it is reported as "destroy timed out". @defaultValue unlimited */
  destroyTimeoutMillis?: number;
  /** `true` hands out the resource idle longest; `false` the most recently returned. @defaultValue true */
  fifo?: boolean;
  /** Number of priority levels of `acquire(priority)`; 0 is the highest. @defaultValue 1 */
  priorityRange?: number;
  /** Create `min` resources at construction; otherwise at the first `acquire()` or `start()`. @defaultValue true */
  autostart?: boolean;
  /** Idle eviction is on when this is > 0; eviction then happens at each resource's own deadline. @defaultValue 0 */
  evictionRunIntervalMillis?: number;
  /** Accepted and ignored: every idle resource is checked at its own deadline. @defaultValue 3 */
  numTestsPerEvictionRun?: number;
  /** With eviction on, close resources idle this long while more than `min` are idle. @defaultValue -1 (off) */
  softIdleTimeoutMillis?: number;
  /** With eviction on, close resources idle this long, then create up to `min` again. @defaultValue 30 000 */
  idleTimeoutMillis?: number;
  /** Accepted and ignored: native promises are returned. */
  Promise?: unknown;
}

/** @internal Options as generic-pool 3 resolves them. */
export interface ParsedOptions {
  readonly max: number;
  readonly min: number;
  /** `Infinity` when unlimited. */
  readonly maxWaitingClients: number;
  readonly testOnBorrow: boolean;
  /** `Infinity` when unset. */
  readonly acquireTimeoutMillis: number;
  /** `Infinity` when unset. */
  readonly destroyTimeoutMillis: number;
  readonly fifo: boolean;
  readonly priorityRange: number;
  readonly autostart: boolean;
  readonly evictionRunIntervalMillis: number;
  readonly softIdleTimeoutMillis: number;
  readonly idleTimeoutMillis: number;
}

/** `parseInt(value, 10)` as generic-pool applies it to any value. */
function int(value: unknown): number {
  return parseInt(String(value), 10);
}

/** A positive time from an option generic-pool reads with `parseInt` when truthy; `Infinity` when unset. */
function millis(value: unknown): number {
  if (!value) return Infinity;
  const parsed = int(value);
  // generic-pool would arm a timer with NaN or a negative delay (it fires at once); such a value
  // is a configuration mistake, and the least surprising reading is "not set".
  return parsed > 0 ? parsed : Infinity;
}

/**
 * A time option generic-pool reads with `||` and no parsing: `setTimeout` and its comparisons
 * then read a numeric string (a setting from the environment) as its number. So does this.
 */
function orDefault(value: unknown, fallback: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && n !== 0 && !Number.isNaN(n) ? n : fallback;
}

/** @internal Reads options as generic-pool 3.9's `PoolOptions` does. */
export function parseOptions(opts: Options | undefined): ParsedOptions {
  const o: Options = opts ?? {};
  const parsedMax = int(o.max);
  const max = Math.max(Number.isNaN(parsedMax) ? 1 : parsedMax, 1);
  const parsedMin = int(o.min);
  const min = Math.max(0, Math.min(Number.isNaN(parsedMin) ? 0 : parsedMin, max));
  let maxWaitingClients = Infinity;
  if (o.maxWaitingClients !== undefined) {
    const parsed = int(o.maxWaitingClients);
    // generic-pool compares the queue length with NaN (never true: unlimited) or with a
    // negative number (always true: nobody may wait).
    maxWaitingClients = Number.isNaN(parsed) ? Infinity : Math.max(parsed, 0);
  }
  // Capped at the core's limit: priorities beyond it are served as the lowest level.
  const priorityRange = Math.min(Math.max(Number(o.priorityRange || 1) | 0, 1), MAX_PRIORITIES);
  return {
    max,
    min,
    maxWaitingClients,
    testOnBorrow: typeof o.testOnBorrow === 'boolean' ? o.testOnBorrow : false,
    acquireTimeoutMillis: millis(o.acquireTimeoutMillis),
    destroyTimeoutMillis: millis(o.destroyTimeoutMillis),
    fifo: typeof o.fifo === 'boolean' ? o.fifo : true,
    priorityRange,
    autostart: typeof o.autostart === 'boolean' ? o.autostart : true,
    evictionRunIntervalMillis: orDefault(o.evictionRunIntervalMillis, 0),
    softIdleTimeoutMillis: orDefault(o.softIdleTimeoutMillis, -1),
    idleTimeoutMillis: orDefault(o.idleTimeoutMillis, 30_000),
  };
}

/** @internal Clamps a priority as generic-pool's queue does: non-numbers are 0, out of range is the lowest. */
export function clampPriority(priority: unknown, levels: number): number {
  const p = priority ? Number(priority) | 0 : 0;
  return p < 0 || p >= levels ? levels - 1 : p;
}
