/**
 * Scenario 4: 10k acquires wait on a pool whose only resource is held, all with the pool's
 * acquire timeout, and all time out. Measured: timers armed while they all wait; whether every
 * waiter was rejected on time and with the pool's timeout error; whether the pool serves the next
 * acquire at once afterwards.
 *
 * "On time" is judged by a probe: a bare 1 ms timer re-armed each time it runs. Node runs due
 * timers in order of expiry, and promise callbacks between timers, so when the probe runs, every
 * waiter whose deadline passed before the probe was armed (by more than a tick, plus a tick of
 * rounding) must already have seen its rejection; one that has not was held back by the pool (a
 * miss). Rejection handlers running late because the machine is busy (another process has the
 * CPU, or rejecting thousands of waiters takes a while: an Error costs microseconds) is not a
 * miss, as the probe is late too. Raw lateness is reported as well.
 */
import { setTimeout as unwatchedSetTimeout } from 'node:timers';
import { FLOOR, type PoolUnderTest } from '../contenders.js';
import { now, thingFactory, type Scenario, type Thing } from '../harness.js';
import { TimerCensus } from '../timer-census.js';

const WAITERS = 10_000;
const TIMEOUT_MS = 500;
// Arrivals come in 100 batches 2 ms apart (~200 ms in all, under the timeout, so all 10k wait
// at the peak), at a rate at which the event loop can keep up with their rejections.
const BATCHES = 100;
const PER_BATCH = WAITERS / BATCHES;
const BATCH_GAP_MS = 2;
/** Timers fire on whole milliseconds; one tick of rounding either side. */
const TICK_MS = 1;

/** The bench's own timers go around the census, so that it counts only the pool's. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => unwatchedSetTimeout(resolve, ms));

/**
 * The waiters in arrival order (deadlines ascend), and what became of each. The pool reads its
 * clock inside acquire(), so its deadline for a waiter lies between the bench's readings just
 * before and just after the call (usually a microsecond apart, but the process may be paused in
 * between): early is judged against the earliest deadline it can have, late against the latest.
 */
class Waiters {
  /** Latest possible deadline: clock after acquire() + timeout. */
  readonly deadline = new Float64Array(WAITERS);
  /** Rejection handler time minus the latest possible deadline, in ms; NaN if it was served instead. */
  readonly lateness = new Float64Array(WAITERS);
  /** Rejection handler time minus the earliest possible deadline (clock before acquire()), in ms. */
  readonly sinceEarliest = new Float64Array(WAITERS);
  readonly settled = new Uint8Array(WAITERS);
  readonly missed = new Uint8Array(WAITERS);
  issued = 0;
  timedOut = 0;
  settledCount = 0;
  misses = 0;
  #oldestPending = 0;

  constructor(readonly onAllSettled: () => void) {}

  issue(pool: PoolUnderTest<Thing>, isTimeout: (error: unknown) => boolean): void {
    const index = this.issued++;
    const before = now();
    pool.acquire().then(
      (resource) => {
        pool.release(resource);
        this.#settle(index, NaN, NaN);
      },
      (error: unknown) => {
        if (isTimeout(error)) this.timedOut++;
        const t = now();
        this.#settle(index, t - this.deadline[index]!, t - before - TIMEOUT_MS);
      },
    );
    this.deadline[index] = now() + TIMEOUT_MS;
  }

  /**
   * The probe ran: count the waiters still pending whose (latest possible) deadline passed more
   * than a tick, plus a tick of rounding, before the probe was armed at `armedAt`.
   */
  probe(armedAt: number): void {
    while (this.#oldestPending < this.issued && this.settled[this.#oldestPending] === 1) this.#oldestPending++;
    for (let i = this.#oldestPending; i < this.issued && this.deadline[i]! < armedAt - 2 * TICK_MS; i++) {
      if (this.settled[i] === 0 && this.missed[i] === 0) {
        this.missed[i] = 1;
        this.misses++;
      }
    }
  }

  #settle(index: number, lateness: number, sinceEarliest: number): void {
    this.settled[index] = 1;
    this.lateness[index] = lateness;
    this.sinceEarliest[index] = sinceEarliest;
    if (++this.settledCount === WAITERS) this.onAllSettled();
  }
}

/**
 * Runs the probe until stopped; returns the event loop's worst lateness meanwhile. It re-arms
 * from `setImmediate`, where Node's loop time is fresh: armed from within a long run of timer
 * callbacks, its timer would count from a stale loop time and could run ahead of timers that
 * are due before it.
 */
function startProbe(waiters: Waiters): { stop(): number } {
  let worstLag = 0;
  let stopped = false;
  const tick = (armedAt: number): void => {
    worstLag = Math.max(worstLag, now() - armedAt - 1);
    waiters.probe(armedAt);
    if (!stopped) setImmediate(arm);
  };
  const arm = (): void => void unwatchedSetTimeout(tick, 1, now());
  arm();
  return {
    stop: () => {
      stopped = true;
      return worstLag;
    },
  };
}

export const timeouts: Scenario = {
  id: '4',
  title: () => `max 1 (held), ${WAITERS / 1000}k waiters time out after ${TIMEOUT_MS} ms`,
  summary:
    `One held resource; ${WAITERS / 1000}k acquires with a ${TIMEOUT_MS} ms acquire timeout arrive over ~${(BATCHES * BATCH_GAP_MS)} ms and all time out. ` +
    'Timers armed at the peak are counted by wrapping `setTimeout`/`clearTimeout` (`process.getActiveResourcesInfo()` does not list `unref()`ed timers). ' +
    'On time: a bare 1 ms timer probes all along; Node runs due timers in expiry order and promise callbacks in between, so a waiter still pending when the probe runs, with its deadline more than a tick (plus a tick of rounding) before the probe was armed, was held back by the pool. ' +
    'Raw lateness (deadline to rejection handler) is shown too: on a busy machine it follows the event loop\'s own lag. Then the pool must serve the next acquire at once.',
  // The floor has no timeouts. lightning-pool 4 keeps timed-out requests queued, and the next
  // release overflows the stack once there are a few thousand (its error is swallowed): the pool
  // wedges and this scenario could not finish.
  skip: [FLOOR, 'lightning-pool'],
  metrics: [
    { key: 'timers', label: 'timers armed at peak', unit: 'count' },
    { key: 'timedOut', label: 'waiters rejected with the timeout error', unit: 'count' },
    { key: 'misses', label: 'waiters still pending a tick past deadline', unit: 'count' },
    { key: 'earliest', label: 'earliest rejection vs deadline', unit: 'ms' },
    { key: 'p99', label: 'p99 rejection vs deadline', unit: 'ms' },
    { key: 'latest', label: 'latest rejection vs deadline', unit: 'ms' },
    { key: 'lag', label: 'event-loop lag meanwhile (bare 1 ms timer, max)', unit: 'ms' },
    { key: 'recovery', label: 'next acquire after release', unit: 'ms' },
  ],
  // Nothing here depends on a warm JIT, and each run takes ~0.8 s.
  warmUp: async () => undefined,
  async measure(contender) {
    // Installed first, so timers the pool arms while it is created and served count too.
    const census = new TimerCensus();
    census.install();
    const pool = contender.make({ max: 1, create: thingFactory(), acquireTimeoutMs: TIMEOUT_MS });
    let result;
    let held;
    try {
      held = await pool.acquire();
      let allSettled!: () => void;
      const done = new Promise<void>((resolve) => (allSettled = resolve));
      const waiters = new Waiters(allSettled);
      const probe = startProbe(waiters);
      const started = now();
      for (let batch = 0; batch < BATCHES; batch++) {
        for (let i = 0; i < PER_BATCH; i++) waiters.issue(pool, contender.isTimeout!);
        if (batch < BATCHES - 1) await pause(BATCH_GAP_MS);
      }
      // Past the first deadline, some have left already: that would not be the peak.
      const timers = now() - started < TIMEOUT_MS ? census.armed : NaN;
      await done;
      const sorted = Float64Array.from(waiters.lateness).sort(); // NaN (served) sorts last
      result = {
        timers,
        timedOut: waiters.timedOut,
        misses: waiters.misses,
        earliest: Math.min(...waiters.sinceEarliest),
        p99: sorted[Math.ceil(0.99 * WAITERS) - 1]!,
        latest: sorted[WAITERS - 1]!,
        lag: probe.stop(),
      };
    } finally {
      census.uninstall();
    }
    pool.release(held);
    const started = now();
    pool.release(await pool.acquire());
    const recovery = now() - started;
    await pool.close();
    return { ...result, recovery };
  },
};
