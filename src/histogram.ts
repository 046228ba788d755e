/**
 * A fixed-size histogram of durations in milliseconds, for wait-time percentiles. Buckets grow
 * by a factor of 2^(1/4) (about 19 %) from 1 µs to about 12 days, so memory never grows with
 * traffic and recording is O(1). A percentile is reported as the upper bound of its bucket,
 * capped at the largest value seen: at most 19 % above the true value, never below it.
 *
 * @module
 */

const STEPS_PER_OCTAVE = 4;
const OCTAVES = 40; // 1 µs × 2^40 ≈ 1.1e9 ms
const BUCKETS = STEPS_PER_OCTAVE * OCTAVES + 2; // + the zero bucket + the overflow bucket
const MIN_MS = 0.001;

/** One bucket of a {@link HistogramSnapshot}: how many durations were at most `leMs`. */
export interface HistogramBucket {
  /** The bucket's upper bound in milliseconds: 0, then about 19 % apart from 0.001, then `Infinity`. */
  readonly leMs: number;
  /** Durations recorded that were at most `leMs` (cumulative, as Prometheus' `le` buckets). */
  readonly count: number;
}

/** Summary of recorded durations, in milliseconds. */
export interface HistogramSnapshot {
  /** Durations recorded. */
  readonly count: number;
  /** Their sum. */
  readonly sumMs: number;
  /** The largest one. */
  readonly maxMs: number;
  /** Median (upper bound of its bucket, capped at `maxMs`). */
  readonly p50Ms: number;
  /** 90th percentile (upper bound of its bucket, capped at `maxMs`). */
  readonly p90Ms: number;
  /** 99th percentile (upper bound of its bucket, capped at `maxMs`). */
  readonly p99Ms: number;
  /**
   * The whole distribution: cumulative counts at the upper bound of every non-empty bucket, in
   * ascending order (empty when nothing was recorded). The last entry's `count` equals `count`.
   * For exporters of your own; the shipped ones record their histograms from events instead.
   */
  readonly buckets: readonly HistogramBucket[];
}

export class DurationHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Records one duration. Non-finite and negative values count as zero. */
  record(ms: number): void {
    this.#count++;
    if (!(ms > 0)) {
      this.#counts[0]!++;
      return;
    }
    if (ms === Infinity) ms = Number.MAX_VALUE;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
    this.#counts[bucketOf(ms)]!++;
  }

  /** The value below which a fraction `q` (0 < q ≤ 1) of the recorded durations fall. */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(upperBound(i), this.#max);
    }
    return this.#max;
  }

  snapshot(): HistogramSnapshot {
    return Object.freeze({
      count: this.#count,
      sumMs: this.#sum,
      maxMs: this.#max,
      p50Ms: this.percentile(0.5),
      p90Ms: this.percentile(0.9),
      p99Ms: this.percentile(0.99),
      buckets: Object.freeze(this.cumulativeBuckets()),
    });
  }

  /** Upper bounds of the non-empty buckets with their cumulative counts (see {@link HistogramSnapshot.buckets}). */
  cumulativeBuckets(): HistogramBucket[] {
    const out: HistogramBucket[] = [];
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#counts[i] === 0) continue;
      seen += this.#counts[i]!;
      out.push(Object.freeze({ leMs: upperBound(i), count: seen }));
    }
    return out;
  }
}

// Bucket bounds within an octave, as multiples of its start: 2^(1/4), 2^(2/4), 2^(3/4).
const STEP_1 = 2 ** 0.25;
const STEP_2 = 2 ** 0.5;
const STEP_3 = 2 ** 0.75;
/** 2^-k for k < 32: a multiplication scales x into its octave exactly, where `2 ** k` calls Math.pow. */
const INVERSE_POWERS = Float64Array.from({ length: 32 }, (_, k) => 2 ** -k);

/**
 * The bucket of a duration > 0: 1 + ⌈4·log2(ms / 1 µs)⌉, capped. Below 2^31 µs (about 36 min),
 * which is every wait worth the name, the octave comes from `Math.clz32` and the quarter-octave
 * from three comparisons: `Math.log2` made this ~6 % of scenario 2 of bench/, this is ~1 %.
 */
export function bucketOf(ms: number): number {
  if (ms <= MIN_MS) return 1;
  const x = ms / MIN_MS; // > 1
  if (x >= 2_147_483_648) return bucketOfLong(x);
  const octave = 31 - Math.clz32(x); // ⌊log2 x⌋: x ≥ 1, so its integer part is ≥ 1
  const m = x * INVERSE_POWERS[octave]!; // in [1, 2), exactly
  const step = m === 1 ? 0 : m <= STEP_1 ? 1 : m <= STEP_2 ? 2 : m <= STEP_3 ? 3 : 4;
  return 1 + octave * STEPS_PER_OCTAVE + step;
}

/** The bucket of a duration of 2^31 µs or more, `x` in µs (kept apart so that {@link bucketOf} stays small enough to inline). */
function bucketOfLong(x: number): number {
  const index = 1 + Math.ceil(Math.log2(x) * STEPS_PER_OCTAVE);
  return index < BUCKETS ? index : BUCKETS - 1;
}

function upperBound(index: number): number {
  if (index === 0) return 0;
  if (index === BUCKETS - 1) return Infinity;
  return MIN_MS * 2 ** ((index - 1) / STEPS_PER_OCTAVE);
}
