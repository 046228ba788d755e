/**
 * The full soak: `npm run soak` (builds, then runs this with `node --expose-gc`).
 *
 * 10 million acquire/release cycles by 1 000 concurrent callers over two long-lived pools, with
 * random faults (see soak-core.ts). Prints the heap after a forced GC before, halfway through
 * and after the measured cycles; fails (exit code 1) if an invariant broke or the heap grew by
 * 5 MB or more (half a byte per cycle).
 *
 * Options: `--cycles=N` (default 10 000 000), `--warmup=N` (default 100 000), `--callers=N`
 * (default 1 000), `--seed=N` (default 1; the seed is printed so that a failure can be replayed).
 */
import * as poolkeeper from 'poolkeeper';
import { allowedGrowth, formatReport, runSoak } from './soak-core.js';

function option(name: string, fallback: number): number {
  const prefix = `--${name}=`;
  const arg = process.argv.slice(2).find((a) => a.startsWith(prefix));
  if (arg === undefined) return fallback;
  const value = Number(arg.slice(prefix.length));
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`soak: ${prefix}<non-negative integer>; got ${arg}`);
  return value;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('soak: run with node --expose-gc (npm run soak does)\n');
  process.exit(2);
}

const cycles = option('cycles', 10_000_000);
const warmupCycles = option('warmup', 100_000);
const callers = option('callers', 1_000);
const seed = option('seed', 1);

process.stdout.write(`soak: ${cycles.toLocaleString('en')} cycles, ${callers} callers, seed ${seed}\n`);
const started = performance.now();
const report = await runSoak(poolkeeper, {
  cycles,
  warmupCycles,
  callers,
  seed,
  gc,
  onProgress: (done, total) => {
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    process.stdout.write(`  ${((100 * done) / total).toFixed(0).padStart(3)} %  ${done.toLocaleString('en')} cycles  ${seconds} s\n`);
  },
});
process.stdout.write(`${formatReport(report)}\n`);

const limit = allowedGrowth(cycles);
const failures = [...report.violations];
if (report.heap.growth >= limit) failures.push(`heap grew by ${report.heap.growth} bytes (limit ${limit})`);
if (failures.length > 0) {
  process.stdout.write(`FAIL\n  ${failures.join('\n  ')}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write('PASS\n');
}
