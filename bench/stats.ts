/** The few statistics the bench reports: percentiles and bootstrap intervals over rounds. */

/** The p-th percentile (nearest rank) of `values`; NaN when there are none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

export function median(values: ArrayLike<number>): number {
  return percentile(values, 50);
}

/** A value with its 95% confidence interval. */
export interface Estimate {
  value: number;
  interval: [number, number];
}

/** A seeded generator, so the same rounds always give the same interval. */
function seededRandom(seed = 0x2545f491): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/**
 * `statistic` over all `n` rounds, and a 95% interval from resampling whole rounds
 * (the percentile bootstrap). Each resample keeps a round's runs together, so the pairing
 * of servers measured back to back in one round survives.
 */
export function bootstrap(n: number, statistic: (rounds: readonly number[]) => number, resamples = 400): Estimate {
  const all = Array.from({ length: n }, (_, i) => i);
  const value = statistic(all);
  if (n < 2) return { value, interval: [value, value] };
  const random = seededRandom();
  const values = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) values[b] = statistic(all.map(() => Math.floor(random() * n)));
  values.sort();
  const at = (q: number) => values[Math.min(resamples - 1, Math.floor(q * resamples))] ?? Number.NaN;
  return { value, interval: [at(0.025), at(0.975)] };
}

/**
 * The ratios of paired measurements: `mine[start][round] / theirs[start][round]` for every
 * round both have, in the starts picked (a start may be picked more than once, as a resample
 * does). Windows of one round were measured moments apart, so whatever slowed the machine
 * then slowed both, and their ratio keeps only what differs between the servers.
 */
export function pairedRatios(mine: readonly (readonly number[])[], theirs: readonly (readonly number[])[], starts: readonly number[]): number[] {
  const ratios: number[] = [];
  for (const start of starts) {
    const a = mine[start] ?? [];
    const b = theirs[start] ?? [];
    for (let round = 0; round < Math.min(a.length, b.length); round++) ratios.push((a[round] ?? NaN) / (b[round] ?? NaN));
  }
  return ratios;
}

/**
 * The median of the paired ratios over every round of every start, with a 95% interval from
 * resampling whole starts: the rounds of one start share its processes (their JIT's choices,
 * their memory), so they are not counted as independent.
 */
export function pairedEstimate(mine: readonly (readonly number[])[], theirs: readonly (readonly number[])[]): Estimate {
  return bootstrap(Math.min(mine.length, theirs.length), (starts) => median(pairedRatios(mine, theirs, starts)));
}
