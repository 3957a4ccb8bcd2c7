/** Series by their label values, a Map level per label, and in the order they were first seen. */
export class SeriesTree<S> {
  private readonly root = new Map<string, unknown>();
  readonly ordered: S[] = [];

  /** The series at `path` (one value per label), made by `make` the first time. */
  at(path: readonly [string, string] | readonly [string, string, string, string], make: () => S): S {
    let level = this.root;
    const last = path.length - 1;
    for (let i = 0; i < last; i++) level = this.below(level, path[i] as string);
    const key = path[last] as string;
    let series = level.get(key) as S | undefined;
    if (series === undefined) {
      series = make();
      level.set(key, series);
      this.ordered.push(series);
    }
    return series;
  }

  /** The series of two label values, if there is one (the hot path: no array, no closure). */
  get2(a: string, b: string): S | undefined {
    return (this.root.get(a) as Map<string, S> | undefined)?.get(b);
  }

  /** The series of four label values, if there is one. */
  get4(a: string, b: string, c: string, d: string): S | undefined {
    const level = (this.root.get(a) as Map<string, Map<string, Map<string, S>>> | undefined)?.get(b)?.get(c);
    return level?.get(d);
  }

  /** Adds the series of `path`, seen for the first time. */
  add(path: readonly string[], series: S): S {
    let level = this.root;
    const last = path.length - 1;
    for (let i = 0; i < last; i++) level = this.below(level, path[i] as string);
    level.set(path[last] as string, series);
    this.ordered.push(series);
    return series;
  }

  clear(): void {
    this.root.clear();
    this.ordered.length = 0;
  }

  private below(level: Map<string, unknown>, key: string): Map<string, unknown> {
    let next = level.get(key) as Map<string, unknown> | undefined;
    if (next === undefined) {
      next = new Map();
      level.set(key, next);
    }
    return next;
  }
}
