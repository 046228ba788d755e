/**
 * The pool's record of one live resource: its state and the times that decide its fate.
 *
 * @internal
 */
import type { BudgetPermit } from './budget.js';
import type { DestroyReason } from './events.js';

/**
 * A permit from the pool's budget, from the request until it is given back. It outlives a
 * creation that timed out (the factory may still deliver) and follows the resource's record.
 */
export class PermitSlot<T> {
  permit: BudgetPermit | undefined = undefined;
  /** The record of the resource created under it, once there is one. */
  record: ResourceRecord<T> | undefined = undefined;
  /** The budget reported it lost: it is not given back, and its resource is retired. */
  lost = false;
  /** Given back (or dropped as lost): never again. */
  done = false;
}

/**
 * - `idle`: in the idle store, ready to hand out.
 * - `borrowed`: held by a caller.
 * - `validating`: taken for a caller and being checked by `validate`.
 * - `returning`: on its way into the idle store (or to a waiter): just released (the `release`
 *   event, then `reset`), or just created (the `create` event). Nobody holds it, so `release()` and
 *   `destroy()` of it throw `NotBorrowedError`.
 * - `closing`: taken out of the idle store with others to be closed one after the other (`clear()`,
 *   `dispose()`, lifetimes that ended together), and counted in `borrowed` until its turn: user
 *   code that runs in between sees it neither idle nor closed, and cannot take it or close it twice.
 * - `closed`: out of the pool; its releaser has been called or queued.
 */
export type ResourceState = 'idle' | 'borrowed' | 'validating' | 'returning' | 'closing' | 'closed';

export class ResourceRecord<T> {
  state: ResourceState = 'borrowed'; // a fresh record is outside the idle store until placed
  /**
   * Set when the resource must not be reused (its lifetime passed, or `clear()` was called
   * while it was out): it is closed for this reason when it comes back.
   */
  retired: DestroyReason | undefined = undefined;
  /** Clock reading when it last became idle; kept only when an option needs it. */
  idleSince: number;
  /**
   * Clock reading when it was last handed out; taken only with leak detection or a `release` or
   * `destroy` listener. Valid for the current borrow only while `stampedUse === uses`.
   */
  borrowedAt = 0;
  /** The value of `uses` when `borrowedAt` was taken. */
  stampedUse = -1;
  /** Where it was acquired; captured only with leak detection. */
  acquireStack: Error | undefined = undefined;
  leakReported = false;
  /** Times handed out. */
  uses = 0;
  /** The budget permit it was created under, if the pool has a budget. */
  permit: PermitSlot<T> | undefined = undefined;
  /** Idle only because it was kept back for callers being validated, fresh: handed out unvalidated. */
  fresh = false;

  constructor(
    readonly resource: T,
    readonly createdAt: number,
    /** Clock reading at which its lifetime (`recycleMs`, jittered) ends. */
    readonly expiresAt: number,
  ) {
    this.idleSince = createdAt;
  }
}
