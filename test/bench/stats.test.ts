import { describe, expect, it } from 'vitest';
import { bootstrap, median, pairedEstimate, pairedRatios, percentile } from '../../bench/stats.js';

describe('bench statistics', () => {
  it('takes percentiles by nearest rank, whatever the order', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 1)).toBe(1);
    expect(median(values)).toBe(50);
    expect(median([3, 1, 2])).toBe(2);
    expect(percentile([], 50)).toBeNaN();
  });

  it('gives a statistic over every round and an interval that holds it, the same each time', () => {
    const rounds = [1, 1.1, 0.9, 1.05, 0.95, 1.2, 0.8, 1, 1.02, 0.98];
    const mean = (picks: readonly number[]) => picks.reduce((sum, i) => sum + (rounds[i] ?? NaN), 0) / picks.length;
    const estimate = bootstrap(rounds.length, mean);
    expect(estimate.value).toBeCloseTo(1, 12);
    const [low, high] = estimate.interval;
    expect(low).toBeLessThan(1);
    expect(high).toBeGreaterThan(1);
    expect(low).toBeGreaterThan(0.9);
    expect(high).toBeLessThan(1.1);
    expect(bootstrap(rounds.length, mean)).toEqual(estimate); // seeded
  });

  it('has nothing to resample in a constant or single round', () => {
    expect(bootstrap(5, () => 2)).toEqual({ value: 2, interval: [2, 2] });
    expect(bootstrap(1, (picks) => picks.length)).toEqual({ value: 1, interval: [1, 1] });
  });

  it('pairs each window with the one of the same start and round, so a slow spell both shared drops out', () => {
    // Rounds 1 and 2 of start 0 ran at half speed for both servers: 400 µs a call instead of 200.
    const bare = [
      [200, 400, 400, 200],
      [210, 205],
    ];
    const mine = [
      [204, 408, 408, 204],
      [214.2, 209.1, 999], // a round the other has not: left out
    ];
    expect(pairedRatios(mine, bare, [0, 1]).map((r) => Number(r.toFixed(6)))).toEqual([1.02, 1.02, 1.02, 1.02, 1.02, 1.02]);
    expect(pairedRatios(mine, bare, [1, 1])).toHaveLength(4); // a start picked twice, as a resample may
    const estimate = pairedEstimate(mine, bare);
    expect(estimate.value).toBeCloseTo(1.02, 12);
    expect(estimate.interval.map((v) => Number(v.toFixed(6)))).toEqual([1.02, 1.02]);
  });

  it('resamples whole starts: a start whose processes ran differently widens the interval', () => {
    const bare = [[100, 100, 100], [100, 100, 100], [100, 100, 100], [100, 100, 100]];
    const mine = [[101, 101, 101], [101, 101, 101], [101, 101, 101], [110, 110, 110]];
    const estimate = pairedEstimate(mine, bare);
    expect(estimate.value).toBeCloseTo(1.01, 12);
    expect(estimate.interval[0]).toBeCloseTo(1.01, 12);
    expect(estimate.interval[1]).toBeCloseTo(1.1, 12);
  });
});
