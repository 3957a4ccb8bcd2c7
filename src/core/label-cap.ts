/** The label value that stands for every value past the cap. */
export const OVERFLOW_LABEL = 'other';

/**
 * Bounds the distinct values of a label chosen by clients (client names, tool names):
 * the first `limit` distinct values pass as they are, every later one becomes `other`.
 * A value once admitted stays admitted, so a gauge incremented under a label is
 * decremented under the same one.
 */
export class LabelCap {
  private readonly admitted = new Set<string>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`LabelCap limit must be a whole number >= 0, got ${String(limit)}`);
    }
  }

  map(value: string): string {
    if (this.admitted.has(value)) return value;
    if (this.admitted.size >= this.limit) return OVERFLOW_LABEL;
    this.admitted.add(value);
    return value;
  }

  /** Distinct values admitted so far. */
  get size(): number {
    return this.admitted.size;
  }
}
