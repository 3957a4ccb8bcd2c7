import { boundedText } from './bounded-text.js';

/** The label value that stands for every value past the cap. */
export const OVERFLOW_LABEL = 'other';

/**
 * Bounds the distinct values of a label chosen by clients (client names, tool names):
 * the first `limit` distinct values pass as they are, every later one becomes `other`.
 * A value once admitted stays admitted, so a gauge incremented under a label is
 * decremented under the same one. Admitted values are kept as copies of their own, and
 * handed back as such, so a label value never pins the request it came in.
 */
export class LabelCap {
  private readonly admitted = new Map<string, string>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`LabelCap limit must be a whole number >= 0, got ${String(limit)}`);
    }
  }

  map(value: string): string {
    const kept = this.admitted.get(value);
    if (kept !== undefined) return kept;
    if (this.admitted.size >= this.limit) return OVERFLOW_LABEL;
    const copy = boundedText(value, value.length);
    this.admitted.set(copy, copy);
    return copy;
  }

  /** Distinct values admitted so far. */
  get size(): number {
    return this.admitted.size;
  }
}
