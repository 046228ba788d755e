/**
 * The targets poolkeeper is held to, judged on ratios from the same run. Costs use the median of
 * per-round ratios to the floor; correctness (every waiter timed out, none held back) must hold
 * in every round.
 */
import { SUBJECT } from './contenders.js';
import { medianOf, medianRatio, type ScenarioResult } from './harness.js';
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

  for (const id of ['1', '2']) {
    const result = find(id, 'ns');
    if (result === undefined) continue;
    const ratio = medianRatio(result, 'ns', SUBJECT);
    verdicts.push({
      target: `${id}. cost per op ≤ 2× the floor's`,
      measured: `${ratio.toFixed(2)}× (${formatValue(medianMine(result, 'ns'), 'ns')})`,
      met: ratio <= 2,
    });
  }

  const burst = find('3', 'growth');
  if (burst !== undefined) {
    const growth = medianMine(burst, 'growth');
    const small = formatValue(medianMine(burst, 'nsSmall'), 'ns');
    const large = formatValue(medianMine(burst, 'nsLarge'), 'ns');
    verdicts.push({
      target: '3. per-op cost flat when waiters grow 10× (≤ 1.3×)',
      measured: `${growth.toFixed(2)}× (${small} → ${large})`,
      met: growth <= 1.3,
    });
  }
  const memory = find('3', 'bytes');
  if (memory !== undefined) {
    const bytes = medianMine(memory, 'bytes');
    verdicts.push({ target: '3. heap per waiting acquire ≤ 400 B', measured: formatValue(bytes, 'B'), met: bytes <= 400 });
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
