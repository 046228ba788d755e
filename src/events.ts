/**
 * Typed events. An event nobody listens to costs one property check; a listener that throws
 * never breaks the pool (its exception is re-thrown on a fresh stack, as `EventTarget` does).
 * Unlike Node's `EventEmitter`, an `error` event with no listener is simply dropped.
 *
 * @module
 */
import { show } from './options.js';

/** Why a resource left the pool. */
export type DestroyReason =
  /** Its lifetime (`recycleMs`) ended. */
  | 'recycled'
  /** Idle longer than `idleTimeoutMs`. */
  | 'idle'
  /** `validate` returned false, threw or timed out, or `reset` failed. */
  | 'invalid'
  /** Released while `maxIdle` resources were already idle. */
  | 'overflow'
  /** `destroy()` was called on it. */
  | 'destroyed'
  /** `clear()` retired it. */
  | 'cleared'
  /** The pool was disposed. */
  | 'disposed'
  /** It came back from its `maxUses`-th borrow. */
  | 'maxUses'
  /** `retire()` was called on it. */
  | 'retired'
  /** `resize()` lowered `maxSize` or `maxIdle` below what the pool held. */
  | 'resized'
  /** The `budget` lost the permit it was created under (e.g. its lease expired). */
  | 'revoked';

/**
 * What failed, for an `error` event. `'retire'`: the error given to `retire()` (say, an idle
 * connection that broke), reported when the pool took the resource out. `'budget'`: a budget
 * permit whose `release()` failed, or a budget that granted no permit with no caller to tell.
 */
export type PoolOperation = 'create' | 'destroy' | 'validate' | 'reset' | 'retire' | 'budget';

/** Payloads of the pool's events, by event name. */
export interface PoolEvents<T> {
  /** A resource was created and entered the pool. */
  create: {
    /** The new resource. */
    readonly resource: T;
    /** How long the `factory` call took, in milliseconds. */
    readonly durationMs: number;
  };
  /** A resource left the pool; its releaser runs next. */
  destroy: {
    /** The resource leaving the pool. */
    readonly resource: T;
    /** Why it left. */
    readonly reason: DestroyReason;
    /**
     * For a resource closed by `destroy()` while borrowed: how long it had been borrowed, in
     * milliseconds. `undefined` otherwise, and when the borrow began while the pool had no
     * `release` or `destroy` listener and no leak detection (the borrow time was not taken).
     */
    readonly heldMs: number | undefined;
  };
  /** A resource was handed to a caller. `waitedMs` is 0 when it was handed out without waiting. */
  acquire: {
    /** The resource handed out. */
    readonly resource: T;
    /** How long the caller waited, in milliseconds. */
    readonly waitedMs: number;
  };
  /** A caller gave a resource back. */
  release: {
    /** The resource given back. */
    readonly resource: T;
    /**
     * How long it was borrowed, in milliseconds. `undefined` when the borrow began while the
     * pool had no `release` or `destroy` listener and no leak detection: the borrow time is taken
     * only when something will read it, so an unobserved pool reads no clock per acquire.
     */
    readonly heldMs: number | undefined;
  };
  /**
   * A failure no caller saw: a releaser that threw, rejected or hung, a `validate`/`reset` that
   * threw (or a `validate` that returned something other than a boolean), a background creation
   * that failed, the error given to `retire()`. `resource` is set when one was involved.
   */
  error: {
    /** What was thrown or rejected with, or the pool's timeout error. */
    readonly error: unknown;
    /** Which user callback failed. */
    readonly operation: PoolOperation;
    /** The resource involved; `undefined` for a failed creation. */
    readonly resource: T | undefined;
  };
  /** A resource has been borrowed longer than `leakDetectionMs`. `stack` is where it was acquired. */
  leak: {
    /** The resource still borrowed. */
    readonly resource: T;
    /** How long it has been borrowed, in milliseconds. */
    readonly borrowedMs: number;
    /** The stack of the `acquire()` call that borrowed it. */
    readonly stack: string | undefined;
  };
}

/** A listener of event `K`. */
export type PoolListener<T, K extends keyof PoolEvents<T>> = (event: PoolEvents<T>[K]) => void;

/** The listener once() registers: it carries the user's function so off() can find it. */
type OnceWrapper<V> = ((event: V) => void) & { listener?: (event: V) => void };

type ListenerTable<E> = { [K in keyof E]: ((event: E[K]) => void)[] | undefined };

/** @internal A minimal typed emitter. */
export class Emitter<E> {
  /** Listener arrays by event name; `undefined` when none, so the pool can test presence cheaply. */
  readonly listeners: ListenerTable<E>;

  constructor(names: readonly (keyof E)[]) {
    const table = {} as ListenerTable<E>;
    for (const name of names) table[name] = undefined; // a fixed shape keeps property access monomorphic
    this.listeners = table;
  }

  on<K extends keyof E>(name: K, listener: (event: E[K]) => void): void {
    if (!(name in this.listeners)) {
      throw new TypeError(`poolkeeper: unknown event ${JSON.stringify(String(name))} (expected ${Object.keys(this.listeners).join(', ')})`);
    }
    if (typeof listener !== 'function') throw new TypeError(`poolkeeper: on() argument "listener" must be a function; got ${show(listener)}`);
    // Copy on write: a listener that removes itself while the event is being emitted is safe.
    this.listeners[name] = [...(this.listeners[name] ?? []), listener];
  }

  /** Like {@link Emitter.on}, but the listener runs for the first emission only. */
  once<K extends keyof E>(name: K, listener: (event: E[K]) => void): void {
    // An unknown name is refused by on() below, with the same message as on()'s.
    if (name in this.listeners && typeof listener !== 'function') {
      throw new TypeError(`poolkeeper: once() argument "listener" must be a function; got ${show(listener)}`);
    }
    let fired = false;
    const wrapper: OnceWrapper<E[K]> = (event) => {
      // A nested emission of the same event runs from the snapshot taken by the outer one: the
      // flag keeps the listener to one call even then.
      if (fired) return;
      fired = true;
      this.off(name, wrapper);
      listener(event);
    };
    wrapper.listener = listener;
    this.on(name, wrapper);
  }

  off<K extends keyof E>(name: K, listener: (event: E[K]) => void): void {
    const current = this.listeners[name];
    if (current === undefined) return;
    // A listener added with once() is found by the function given to once(), as Node's emitters do.
    let index = -1;
    for (let i = 0; i < current.length; i++) {
      const candidate = current[i] as OnceWrapper<E[K]>;
      if (candidate === listener || candidate.listener === listener) {
        index = i;
        break;
      }
    }
    if (index === -1) return;
    const next = current.filter((_, i) => i !== index);
    this.listeners[name] = next.length === 0 ? undefined : next;
  }

  emit<K extends keyof E>(name: K, event: E[K]): void {
    const current = this.listeners[name];
    if (current === undefined) return;
    for (const listener of current) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
