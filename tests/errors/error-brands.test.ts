/**
 * Error identity: each class tests `instanceof` by a `Symbol.for` brand, so that errors from
 * another copy of the package (the other build, another version) match, while a subclass check
 * stays a subclass check and classes declared by users keep the ordinary prototype test.
 * tests/package/packed.test.ts checks the real ESM and CommonJS builds in one process.
 */
import * as api from '../../src/index.js';
import {
  AbortError,
  AcquireTimeoutError,
  CreateTimeoutError,
  NotBorrowedError,
  PoolDisposedError,
  PoolError,
  PoolQueueFullError,
  type PoolCounts,
} from '../../src/index.js';

const counts: PoolCounts = { size: 1, idle: 0, borrowed: 1, creating: 0, pending: 1, maxSize: 1 };

/** Every error class the package exports. */
type ErrorClass = (new (...args: never[]) => Error) & { readonly prototype: Error };
const exported = api as unknown as Record<string, unknown>;
const errorClasses = Object.entries(exported).filter(
  (entry): entry is [string, ErrorClass] => typeof entry[1] === 'function' && entry[1].prototype instanceof Error,
);
const classNamed = (name: string): ErrorClass => exported[name] as ErrorClass;

/**
 * What another copy of the package looks like to this one: a class of the same name, with no
 * relation to ours, whose instances carry the same brands (the brands live on the prototypes).
 */
function foreignCopy(name: string): Error {
  const chain: object[] = [];
  for (let p: object = classNamed(name).prototype; p !== Error.prototype; p = Object.getPrototypeOf(p)) chain.unshift(p);
  let proto: object = Error.prototype;
  for (const ours of chain) {
    const copy = Object.create(proto) as Record<symbol, unknown>;
    for (const key of Object.getOwnPropertySymbols(ours)) copy[key] = (ours as Record<symbol, unknown>)[key];
    proto = copy;
  }
  return Object.create(proto) as Error;
}

test('every exported error class carries a brand of its own', () => {
  expect(errorClasses.map(([name]) => name)).toEqual(
    expect.arrayContaining(['PoolError', 'AcquireTimeoutError', 'PoolDisposedError', 'NotBorrowedError', 'AbortError']),
  );
  for (const [name, cls] of errorClasses) {
    expect(Object.getOwnPropertySymbols(cls.prototype).map(String)).toEqual([`Symbol(poolkeeper.${name})`]);
  }
});

test("an error from another copy is instanceof exactly the classes its own copy says", () => {
  for (const [name] of errorClasses) {
    const foreign = foreignCopy(name);
    expect(Object.getPrototypeOf(foreign)).not.toBe(classNamed(name).prototype);
    for (const [other, cls] of errorClasses) {
      // Within one copy: the ordinary prototype relation between the two classes.
      const expected = cls === classNamed(name) || Object.prototype.isPrototypeOf.call(cls.prototype, classNamed(name).prototype);
      expect({ name, other, is: foreign instanceof cls }).toEqual({ name, other, is: expected });
    }
  }
});

test('a subclass check stays a subclass check', () => {
  const disposed = new PoolDisposedError('acquire()');
  expect(disposed).toBeInstanceOf(PoolDisposedError);
  expect(disposed).toBeInstanceOf(PoolError);
  expect(disposed).toBeInstanceOf(Error);
  expect(disposed instanceof AcquireTimeoutError).toBe(false);
  expect(new AcquireTimeoutError(1, counts) instanceof PoolDisposedError).toBe(false);
  expect(new AbortError() instanceof PoolError).toBe(false);
  expect(new NotBorrowedError('release()', 'foreign')).toBeInstanceOf(PoolError);
});

test("a user's subclass keeps the ordinary prototype test, and its instances pass ours", () => {
  class RetryableTimeout extends AcquireTimeoutError {}
  class Unrelated extends PoolError {}
  const mine = new RetryableTimeout(5, counts);
  expect(mine).toBeInstanceOf(RetryableTimeout);
  expect(mine).toBeInstanceOf(AcquireTimeoutError);
  expect(mine).toBeInstanceOf(PoolError);
  expect(mine.name).toBe('RetryableTimeout');
  // Our own instance is not an instance of a user's subclass, though it carries every brand the
  // subclass inherits.
  expect(new AcquireTimeoutError(5, counts) instanceof RetryableTimeout).toBe(false);
  expect(mine instanceof Unrelated).toBe(false);
  expect(new Unrelated('ERR_POOL_DISPOSED', 'x')).toBeInstanceOf(PoolError);
});

test('values that are not objects, or carry no brand, are not instances', () => {
  for (const value of [undefined, null, 0, 'PoolError', Symbol('x'), true, {}, new Error('plain'), Object.create(null)]) {
    expect(value instanceof PoolError).toBe(false);
    expect(value instanceof CreateTimeoutError).toBe(false);
    expect(value instanceof AbortError).toBe(false);
  }
  expect((() => {}) instanceof PoolError).toBe(false);
  // A brand that is not exactly `true` does not count.
  expect({ [Symbol.for('poolkeeper.PoolError')]: 1 } instanceof PoolError).toBe(false);
});

test('codes and names are unchanged by the brands', () => {
  const full = new PoolQueueFullError(3, counts);
  expect(full.code).toBe('ERR_POOL_QUEUE_FULL');
  expect(full.name).toBe('PoolQueueFullError');
  expect(new AbortError().code).toBe('ABORT_ERR');
  expect(Object.keys(full)).not.toContain(String(Symbol.for('poolkeeper.PoolError')));
  expect(JSON.stringify(Object.getOwnPropertySymbols(full))).toBe('[]');
});
