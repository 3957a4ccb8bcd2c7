import { describe, expect, it } from 'vitest';
import { LabelCap, OVERFLOW_LABEL } from '../../src/core/label-cap.js';

describe('LabelCap', () => {
  it('names the overflow value other', () => {
    expect(OVERFLOW_LABEL).toBe('other');
  });

  it('passes the first N distinct values and maps the rest to other', () => {
    const cap = new LabelCap(3);
    expect(['a', 'b', 'a', 'c', 'd', 'e', 'b', 'd'].map((v) => cap.map(v))).toEqual(['a', 'b', 'a', 'c', 'other', 'other', 'b', 'other']);
    expect(cap.size).toBe(3);
  });

  it('keeps admitted values admitted after the cap is reached', () => {
    const cap = new LabelCap(2);
    cap.map('x');
    cap.map('y');
    for (let i = 0; i < 1000; i++) expect(cap.map(`z${i}`)).toBe('other');
    expect(cap.map('x')).toBe('x');
    expect(cap.map('y')).toBe('y');
    expect(cap.size).toBe(2);
  });

  it('treats a literal "other" like any other value', () => {
    const cap = new LabelCap(1);
    expect(cap.map('other')).toBe('other');
    expect(cap.map('a')).toBe('other');
    expect(cap.size).toBe(1);
  });

  it('with limit 0 maps everything to other', () => {
    const cap = new LabelCap(0);
    expect(cap.map('a')).toBe('other');
    expect(cap.map('')).toBe('other');
    expect(cap.size).toBe(0);
  });

  it('two caps share nothing', () => {
    const one = new LabelCap(1);
    const two = new LabelCap(1);
    expect(one.map('a')).toBe('a');
    expect(two.map('b')).toBe('b');
    expect(one.map('b')).toBe('other');
    expect(two.map('a')).toBe('other');
  });

  it.each([
    [-1, 'LabelCap limit must be a whole number >= 0, got -1'],
    [1.5, 'LabelCap limit must be a whole number >= 0, got 1.5'],
    [Number.NaN, 'LabelCap limit must be a whole number >= 0, got NaN'],
    [Number.POSITIVE_INFINITY, 'LabelCap limit must be a whole number >= 0, got Infinity'],
  ])('rejects limit %s with a RangeError', (limit, message) => {
    expect(() => new LabelCap(limit)).toThrow(RangeError);
    expect(() => new LabelCap(limit)).toThrow(message);
  });
});
