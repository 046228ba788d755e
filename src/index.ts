/**
 * poolkeeper: a bounded, fair, observable resource pool for Node.js.
 *
 * @packageDocumentation
 */
export { AsyncPool, type DisposeOptions, type ResizeOptions } from './async-pool.js';
export { ObjectPool, type ObjectPoolOptions } from './object-pool.js';
export { Lease, SyncLease } from './lease.js';
export { defaults, type AsyncPoolOptions, type AcquireOptions, type CreateRetryOptions, type IdleStrategy, type CreateErrorPolicy, type UseErrorPolicy } from './options.js';
export {
  PoolError,
  AcquireTimeoutError,
  PoolDisposedError,
  PoolQueueFullError,
  NotBorrowedError,
  CreateTimeoutError,
  PoolUnavailableError,
  DestroyTimeoutError,
  ValidateTimeoutError,
  ResetTimeoutError,
  BudgetUnavailableError,
  AbortError,
  type PoolErrorCode,
  type PoolCounts,
} from './errors.js';
export { LocalBudget, type Budget, type BudgetPermit, type BudgetAcquireOptions } from './budget.js';
export type { PoolEvents, PoolListener, DestroyReason, PoolOperation } from './events.js';
export type { PoolStats, DestroyedCounts } from './stats.js';
export type { HistogramSnapshot, HistogramBucket } from './histogram.js';
export { acquireChannel, createChannel, type TraceContext } from './tracing.js';
