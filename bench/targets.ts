/**
 * The targets poolkeeper is held to, judged on ratios from the same run. Costs use the median of
 * per-round ratios to the floor (or, against lightning-pool, of per-round ratios between the
 * two); correctness (every waiter timed out, none held back) must hold in every round.
 */
import { FLOOR, LIGHTNING, SUBJECT } from './contenders.js';
import { median, medianOf, medianRatio, type ScenarioResult } from './harness.js';
import { formatValue } from './report.js';

export interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** Timer resolution: Node fires timers on whole milliseconds. */
const TIMER_TICK_MS = 1;

export function judge(results: readonly ScenarioResult[]): Verdict[] {
  /** The result of the scenario `id` that measured `metric`, if it ran. */
  const find = (id: string, metric: string): ScenarioResult | undefined =>
    results.find((r) => r.scenario.id === id && r.samples[metric] !== undefined);
  const mine = (result: ScenarioResult, metric: string): number[] => result.samples[metric]?.[SUBJECT] ?? [];
  const medianMine = (result: ScenarioResult, metric: string): number => medianOf(result.samples, metric, SUBJECT);
  const verdicts: Verdict[] = [];

  /** The median over rounds of `pool`'s ops/s divided by ours (`metric` is a cost per op). */
  const speedupOver = (result: ScenarioResult, metric: string, pool: string): number => {
    const theirs = result.samples[metric]?.[pool] ?? [];
    const ours = mine(result, metric);
    return median(theirs.map((ns, round) => ns / ours[round]!));
  };
  const againstFloor = (result: ScenarioResult, metric: string, label: string, limit: number): void => {
    const ratio = medianRatio(result, metric, SUBJECT);
    verdicts.push({
      target: `${label} ≤ ${limit}× the floor's`,
      measured: `${ratio.toFixed(2)}× (${formatValue(medianMine(result, metric), 'ns')})`,
      met: ratio <= limit,
    });
  };

  const sequential = find('1', 'ns');
  if (sequential !== undefined) againstFloor(sequential, 'ns', '1. cost per op', 1.5);
  const contended = find('2', 'ns');
  if (contended !== undefined) {
    againstFloor(contended, 'ns', '2. cost per op', 2);
    if (contended.samples.ns?.[LIGHTNING] !== undefined) {
      const speedup = speedupOver(contended, 'ns', LIGHTNING);
      verdicts.push({ target: `2. ≥ 1.5× ${LIGHTNING}'s ops/s`, measured: `${speedup.toFixed(2)}×`, met: speedup >= 1.5 });
    }
  }

  const burst = find('3', 'growth');
  if (burst !== undefined) {
    againstFloor(burst, 'enqLarge', '3. enqueue per acquire, larger burst,', 1.5);
    againstFloor(burst, 'nsLarge', '3. drain per hand-over, larger burst,', 3);
    const drainGrowth = medianMine(burst, 'growth');
    verdicts.push({
      target: '3. drain cost per op flat when waiters grow 10× (≤ 1.3×)',
      measured: `${drainGrowth.toFixed(2)}× (${formatValue(medianMine(burst, 'nsSmall'), 'ns')} → ${formatValue(medianMine(burst, 'nsLarge'), 'ns')})`,
      met: drainGrowth <= 1.3,
    });
    // Every pool's enqueue grows with the burst, the floor's too: a 10k burst fits in the young
    // generation, while a 100k one keeps 100k promises alive that scavenges must copy (100-190 ns
    // per acquire on a 2-core machine, more than the pool's own work). So the verdict takes the
    // GC pauses out: what is left is the pool's own cost, which a queue that is not O(1) would grow.
    const netGrowth = medianMine(burst, 'enqNetGrowth');
    verdicts.push({
      target: '3. enqueue cost per op flat when waiters grow 10×, GC pauses excluded (≤ 1.3×)',
      measured:
        `${netGrowth.toFixed(2)}× (${formatValue(medianMine(burst, 'enqNetSmall'), 'ns')} → ${formatValue(medianMine(burst, 'enqNetLarge'), 'ns')}); ` +
        `with GC pauses ${medianMine(burst, 'enqGrowth').toFixed(2)}×, the floor's ${medianOf(burst.samples, 'enqGrowth', FLOOR).toFixed(2)}×`,
      met: netGrowth <= 1.3,
    });
  }
  const memory = find('3', 'bytes');
  if (memory !== undefined) {
    const bytes = medianMine(memory, 'bytes');
    verdicts.push({ target: '3. memory per waiting acquire ≤ 350 B', measured: formatValue(bytes, 'B'), met: bytes <= 350 });
  }

  const timeouts = find('4', 'timers');
  if (timeouts !== undefined) {
    const peak = Math.max(...mine(timeouts, 'timers')); // NaN if the peak was missed
    verdicts.push({
      target: '4. O(1) timers armed for 10k waiters sharing acquireTimeoutMs (≤ 2)',
      measured: `${peak} at most`,
      met: peak <= 2,
    });
    const timedOut = Math.min(...mine(timeouts, 'timedOut'));
    verdicts.push({
      target: '4. every waiter rejected with AcquireTimeoutError',
      measured: `${formatValue(timedOut, 'count')} of 10 000 in the worst round`,
      met: timedOut === 10_000,
    });
    // Timers have ms resolution: a rejection may come up to a tick early. Late is judged by the
    // probe (see scenarios/timeouts.ts): no waiter may still be pending a tick past its deadline
    // while the event loop was free to run timers.
    const earliest = Math.min(...mine(timeouts, 'earliest'));
    const misses = Math.max(...mine(timeouts, 'misses'));
    verdicts.push({
      target: `4. every waiter rejected within one timer tick (${TIMER_TICK_MS} ms) of its deadline`,
      measured: `earliest ${formatValue(earliest, 'ms')}; ${misses} held back past a tick (worst round)`,
      met: earliest >= -TIMER_TICK_MS && misses === 0,
    });
    const recovery = Math.max(...mine(timeouts, 'recovery'));
    verdicts.push({
      target: '4. pool recovers at once (next acquire within a tick)',
      measured: `${formatValue(recovery, 'ms')} (worst round)`,
      met: recovery <= TIMER_TICK_MS,
    });
  }

  const echo = find('6', 'tripsPerSec');
  if (echo !== undefined) {
    const ratio = medianRatio(echo, 'tripsPerSec', SUBJECT);
    verdicts.push({ target: "6. ≥ 0.95× the floor's round trips/s", measured: `${ratio.toFixed(2)}×`, met: ratio >= 0.95 });
  }
  return verdicts;
}
