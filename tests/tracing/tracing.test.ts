/**
 * diagnostics_channel tracing: tracingChannel('poolkeeper:acquire') and ('poolkeeper:create')
 * publish start/end/asyncStart/asyncEnd/error with context { pool: name }. With no subscriber,
 * the pool does not touch the channels at all.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { jest } from '@jest/globals';
import { AcquireTimeoutError, AsyncPool, PoolDisposedError, acquireChannel, createChannel, type TraceContext } from '../../src/index.js';
import { outcome } from '../helpers.js';
import { switchableFactory, tick, useFakeClock } from '../support.js';

useFakeClock();

type Phase = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';
const PHASES: Phase[] = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'];

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  jest.restoreAllMocks();
});

/** Subscribes to `tracing:<name>:<phase>` by channel name, as an APM tool would. */
function trace(name: string): { phase: Phase; context: TraceContext }[] {
  const seen: { phase: Phase; context: TraceContext }[] = [];
  for (const phase of PHASES) {
    const listener = (message: unknown): void => void seen.push({ phase, context: message as TraceContext });
    diagnosticsChannel.subscribe(`tracing:${name}:${phase}`, listener);
    cleanups.push(() => diagnosticsChannel.unsubscribe(`tracing:${name}:${phase}`, listener));
  }
  return seen;
}

function phases(seen: { phase: Phase }[]): Phase[] {
  return seen.map((s) => s.phase);
}

test('the exported channels are named under the package name', () => {
  for (const phase of PHASES) {
    expect(acquireChannel[phase].name).toBe(`tracing:poolkeeper:acquire:${phase}`);
    expect(createChannel[phase].name).toBe(`tracing:poolkeeper:create:${phase}`);
  }
});

test('an acquire served from idle: start, end, asyncStart, asyncEnd, one context carrying the resource', async () => {
  const f = switchableFactory();
  const pool = new AsyncPool({ factory: f.factory, name: 'traced' });
  await pool.prefill(1);
  const seen = trace('poolkeeper:acquire');
  const r = await pool.acquire();
  expect(phases(seen)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
  const context = seen[0]!.context;
  expect(seen.every((s) => s.context === context)).toBe(true);
  expect(context.pool).toBe('traced');
  expect(context.result).toBe(r);
  pool.release(r);
  await pool.dispose();
});

test('an acquire that waits: start and end at the call, asyncStart/asyncEnd when it is served', async () => {
  const f = switchableFactory();
  const pool = new AsyncPool({ factory: f.factory, maxSize: 1, name: 'traced' });
  const held = await pool.acquire();
  const seen = trace('poolkeeper:acquire');
  const waiting = pool.acquire();
  expect(phases(seen)).toEqual(['start', 'end']);
  await tick(100);
  expect(phases(seen)).toEqual(['start', 'end']);
  pool.release(held);
  expect(await waiting).toBe(held);
  expect(phases(seen)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
  expect(seen[3]!.context.result).toBe(held);
  pool.release(held);
  await pool.dispose();
});

test('the error path: a timed-out acquire publishes error with the AcquireTimeoutError', async () => {
  const f = switchableFactory();
  const pool = new AsyncPool({ factory: f.factory, maxSize: 1, acquireTimeoutMs: 500, name: 'traced' });
  const held = await pool.acquire();
  const seen = trace('poolkeeper:acquire');
  const result = outcome(pool.acquire());
  await tick(500);
  const r = await result;
  expect(!r.ok && r.error).toBeInstanceOf(AcquireTimeoutError);
  expect(phases(seen)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
  expect(seen[2]!.context.error).toBe(!r.ok && r.error);
  expect(seen[2]!.context.pool).toBe('traced');
  pool.release(held);
  await pool.dispose();
});

test('the error path: an acquire on a disposed pool', async () => {
  const pool = new AsyncPool({ factory: () => ({}) });
  await pool.dispose();
  const seen = trace('poolkeeper:acquire');
  const r = await outcome(pool.acquire());
  expect(!r.ok && r.error).toBeInstanceOf(PoolDisposedError);
  expect(phases(seen)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
});

test('each factory call is traced on poolkeeper:create, failures included', async () => {
  const f = switchableFactory();
  const pool = new AsyncPool({ factory: f.factory, name: 'traced' });
  const seen = trace('poolkeeper:create');
  const r = await pool.acquire();
  expect(phases(seen)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
  expect(seen[0]!.context.pool).toBe('traced');
  expect(seen[0]!.context.result).toBe(r);
  f.failing = true;
  seen.length = 0;
  const failed = await outcome(pool.acquire());
  expect(failed.ok).toBe(false);
  expect(phases(seen)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
  expect(seen[2]!.context.error).toBe(f.errors[0]);
  pool.release(r);
  await pool.dispose();
});

test('with no subscriber, nothing is traced: the channels are never called into', async () => {
  const acquireTrace = jest.spyOn(acquireChannel, 'tracePromise');
  const createTrace = jest.spyOn(createChannel, 'tracePromise');
  const f = switchableFactory();
  const pool = new AsyncPool({ factory: f.factory, maxSize: 2 });
  const run = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
      pool.release(a);
      await pool.destroy(b); // so that creations keep happening
    }
  };
  await run();
  expect(acquireTrace).not.toHaveBeenCalled();
  expect(createTrace).not.toHaveBeenCalled();
  // Subscribed: once per acquire and per factory call...
  const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
  acquireChannel.subscribe(handlers);
  createChannel.subscribe(handlers);
  const createdBefore = f.calls;
  await run();
  expect(acquireTrace).toHaveBeenCalledTimes(40);
  expect(createTrace).toHaveBeenCalledTimes(f.calls - createdBefore);
  // ...and back to nothing once unsubscribed.
  acquireChannel.unsubscribe(handlers);
  createChannel.unsubscribe(handlers);
  acquireTrace.mockClear();
  createTrace.mockClear();
  await run();
  expect(acquireTrace).not.toHaveBeenCalled();
  expect(createTrace).not.toHaveBeenCalled();
  await pool.dispose();
});
