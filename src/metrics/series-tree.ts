/** Series by their label values, a Map level per label, and in the order they were first seen. */
export class SeriesTree<S> {
  private readonly root = new Map<string, unknown>();
  readonly ordered: S[] = [];

  /** The series at `path` (one value per label), made by `make` the first time. */
  at(path: readonly [string, string] | readonly [string, string, string, string], make: () => S): S {
    let level = this.root;
    const last = path.length - 1;
    for (let i = 0; i < last; i++) {
      const key = path[i] as string;
      let next = level.get(key) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const key = path[last] as string;
    let series = level.get(key) as S | undefined;
    if (series === undefined) {
      series = make();
      level.set(key, series);
      this.ordered.push(series);
    }
    return series;
  }

  clear(): void {
    this.root.clear();
    this.ordered.length = 0;
  }
}
