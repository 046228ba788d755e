/** A stand-in for `pg.Client` with the surface pg-pool and poolkeeper/pg use, driven by the test. */
import { EventEmitter } from 'node:events';

export interface FakeBehaviour {
  /** Milliseconds before connect() calls back; `Infinity` never does. */
  connectDelayMs: number;
  /** When set, connect() fails with it. */
  connectError: Error | undefined;
  /** Called for every query; its return value is the result (a throw fails the query). */
  onQuery: (client: FakeClient, text: unknown, values: unknown) => unknown;
}

/** Every fake client made, in order, and the knobs of the next ones. */
export const fakes = {
  made: [] as FakeClient[],
  behaviour: { connectDelayMs: 0, connectError: undefined, onQuery: () => ({ rows: [] }) } as FakeBehaviour,
  reset(): void {
    this.made = [];
    this.behaviour = { connectDelayMs: 0, connectError: undefined, onQuery: () => ({ rows: [] }) };
  },
};

let nextId = 0;

export class FakeClient extends EventEmitter {
  readonly id = ++nextId;
  readonly config: Record<string, unknown>;
  readonly queries: string[] = [];
  connected = false;
  connectCalls = 0;
  endCalls = 0;
  refs = 0;
  unrefs = 0;
  _ending = false;
  _queryable = true;
  txStatus: 'I' | 'T' | 'E' = 'I';
  release?: (err?: unknown) => void;

  constructor(config: Record<string, unknown>) {
    super();
    this.config = config;
    fakes.made.push(this);
  }

  connect(callback: (err?: Error) => void): void {
    this.connectCalls++;
    const { connectDelayMs, connectError } = fakes.behaviour;
    if (connectDelayMs === Infinity) return;
    setTimeout(() => {
      if (this._ending) return callback(new Error('Connection terminated'));
      if (connectError) return callback(connectError);
      this.connected = true;
      callback();
    }, connectDelayMs);
  }

  query(text: unknown, values?: unknown, callback?: (err: Error | undefined, res?: unknown) => void): void | Promise<unknown> {
    if (callback === undefined) {
      return new Promise((resolve, reject) => this.query(text, values, (err, res) => (err ? reject(err) : resolve(res))));
    }
    if (text === null || text === undefined) throw new TypeError('Client was passed a null or undefined query');
    this.queries.push(String(typeof text === 'object' ? (text as { text: string }).text : text));
    if (text === 'ROLLBACK' || text === 'COMMIT') this.txStatus = 'I';
    if (text === 'BEGIN') this.txStatus = 'T';
    let result: unknown;
    try {
      result = fakes.behaviour.onQuery(this, text, values);
    } catch (error) {
      setImmediate(() => callback(error as Error));
      return undefined;
    }
    setImmediate(() => callback(undefined, result));
    return undefined;
  }

  getTransactionStatus(): string {
    return this.txStatus;
  }

  end(callback?: () => void): void {
    this.endCalls++;
    const wasEnding = this._ending;
    this._ending = true;
    this._queryable = false;
    setImmediate(() => {
      if (!wasEnding && this.connected) {
        this.connected = false;
        this.emit('end');
      }
      callback?.();
    });
  }

  ref(): void {
    this.refs++;
  }

  unref(): void {
    this.unrefs++;
  }

  /** The server went away: what pg does when the socket closes unexpectedly. */
  die(message = 'Connection terminated unexpectedly'): void {
    this._queryable = false;
    this.connected = false;
    this.emit('error', new Error(message));
    this.emit('end');
  }
}
