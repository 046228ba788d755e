/**
 * `diagnostics_channel` tracing, the way APM tools (OpenTelemetry and others) subscribe to
 * undici and pg: `tracingChannel('poolkeeper:acquire')` and `tracingChannel('poolkeeper:create')`
 * publish start/end/asyncStart/asyncEnd/error. With no subscriber the cost is one boolean check.
 *
 * @module
 */
// Named imports: a default import would reach the emitted declarations and break consumers
// compiling with `esModuleInterop: false`.
import { tracingChannel } from 'node:diagnostics_channel';
import type { TracingChannel } from 'node:diagnostics_channel';

/** Context object published on the tracing channels. `result`/`error` are filled in by Node. */
export interface TraceContext {
  /** The pool's `name` option. */
  readonly pool: string;
  /** Set by Node when the traced call resolves: the resource. */
  result?: unknown;
  /** Set by Node when the traced call rejects: the error. */
  error?: unknown;
}

/** Traces every `acquire()` from call to settlement. */
export const acquireChannel: TracingChannel<unknown, TraceContext> = tracingChannel('poolkeeper:acquire');
/** Traces every `factory` call. */
export const createChannel: TracingChannel<unknown, TraceContext> = tracingChannel('poolkeeper:create');
