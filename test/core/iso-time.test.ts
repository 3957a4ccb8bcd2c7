import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/core/iso-time.js';

/** What Date says of a time: its text, or the name of what it throws. */
const byDate = (ms: number): string => {
  try {
    return new Date(ms).toISOString();
  } catch (error) {
    return (error as Error).name;
  }
};
const byIsoTime = (ms: number): string => {
  try {
    return isoTime(ms);
  } catch (error) {
    return (error as Error).name;
  }
};

describe('isoTime', () => {
  it('writes the text Date writes at the edges: days, years 0000 and 9999, fractions, and times that are no date', () => {
    const edges = [
      0, -0, 0.9, -0.5, -1.5, 86_399_999, 86_400_000, -86_400_000.5, 951_782_400_000 /* 2000-02-29 */, 1_000_000_000_000.999,
      253_402_300_799_999, 253_402_300_800_000 /* +010000 */, -62_167_219_200_000 /* 0000-01-01 */, -62_167_219_200_001,
      8.64e15, -8.64e15, 8.64e15 + 1, Number.NaN, Number.POSITIVE_INFINITY,
    ];
    expect(edges.map(byIsoTime)).toEqual(edges.map(byDate));
    expect([isoTime(951_782_400_000), isoTime(253_402_300_800_000), byIsoTime(Number.NaN)]).toEqual([
      '2000-02-29T00:00:00.000Z',
      '+010000-01-01T00:00:00.000Z',
      'RangeError',
    ]);
  });

  it('writes the text Date writes for 200,000 times across 250 years, in order and out of order', () => {
    const times: number[] = [];
    let ms = -1_000_000_000_000;
    for (let i = 0; i < 100_000; i++) times.push((ms += 78_901_234 + (i % 977)));
    for (let i = 0; i < 100_000; i++) times.push((i * 2_654_435_761) % 8_000_000_000_000 - 1_000_000_000_000);
    const mismatches = times.filter((t) => isoTime(t) !== new Date(t).toISOString());
    expect(mismatches).toEqual([]);
  });
});
