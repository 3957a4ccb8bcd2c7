import { Counter, Gauge, Histogram, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration, type LabelValues, type MetricType } from 'prom-client';
import type { TraceRef } from '../core/trace-context.js';
import { ExemplarTable } from './exemplars.js';
import { SeriesTree } from './series-tree.js';

/**
 * prom-client metrics for the paths every request takes. prom-client's own observe() and
 * inc() check every label and build a hash string on every call, about 1% of a tools/call's
 * CPU: these find a series by its label values one Map level at a time (the values are
 * canonical strings whose hashes V8 keeps, so no key is built), and hand prom-client the
 * same values through the metric's public get(), so the registry writes the same
 * exposition. Label values are given once per series, when it is first seen.
 */

/** prom-client's types declare `type` an enum its code does not export; at run time it is the string. */
const typeOf = (type: 'counter' | 'gauge' | 'histogram'): MetricType => type as unknown as MetricType;

interface HistogramSeries<T extends string> {
  labels: LabelValues<T>;
  buckets: Float64Array;
  sum: number;
  count: number;
}

interface ExportedValue<T extends string> {
  labels: LabelValues<T> | { le: number | string };
  sharedLabels?: LabelValues<T>;
  value: number;
  metricName: string;
  /** prom-client writes null for a bucket without an exemplar (the OpenMetrics exposition adds ours: see exemplars.ts). */
  exemplar?: null;
}

/** A histogram whose hot path is `record(key, labels, value)`. */
export class LeanHistogram<T extends string> extends Histogram<T> {
  private readonly series = new SeriesTree<HistogramSeries<T>>();
  private readonly bounds: readonly number[];
  /** The traced observations, for the OpenMetrics exposition. */
  readonly exemplars: ExemplarTable;

  private readonly labelNames: readonly string[];

  constructor(config: HistogramConfiguration<T> & { buckets: number[] }) {
    super(config);
    this.labelNames = config.labelNames ?? [];
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.exemplars = new ExemplarTable(config.name, this.bounds);
  }

  /**
   * Observes `value` in the series of these four label values (in the order of the labels'
   * names). With `trace`, the observation becomes its bucket's exemplar.
   */
  record(a: string, b: string, c: string, d: string, value: number, trace?: TraceRef): void {
    this.observeIn(this.series.get4(a, b, c, d) ?? this.series.add([a, b, c, d], this.newSeries([a, b, c, d])), value);
    if (trace !== undefined) this.exemplars.record(a, b, c, d, () => this.labelsOf([a, b, c, d]) as Record<string, string>, value, trace);
  }

  /** Observes `value` in the series of these two label values, for a histogram of two labels (no exemplar). */
  record2(a: string, b: string, value: number): void {
    this.observeIn(this.series.get2(a, b) ?? this.series.add([a, b], this.newSeries([a, b])), value);
  }

  private newSeries(values: readonly string[]): HistogramSeries<T> {
    return { labels: this.labelsOf(values), buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
  }

  private observeIn(series: HistogramSeries<T>, value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) series.buckets[i] = (series.buckets[i] as number) + 1;
    series.sum += value;
    series.count += 1;
  }

  /** The label values, named (in the order the labels were declared). */
  private labelsOf(values: readonly string[]): LabelValues<T> {
    const labels: Record<string, string> = {};
    this.labelNames.forEach((name, i) => (labels[name] = values[i] as string));
    return labels as LabelValues<T>;
  }

  /** The values as prom-client's Histogram exports them: cumulative buckets, +Inf, sum, count. */
  private values(): ExportedValue<T>[] {
    const name = (this as unknown as { name: string }).name;
    const out: ExportedValue<T>[] = [];
    for (const series of this.series.ordered) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += series.buckets[i] as number;
        out.push({ labels: { le }, sharedLabels: series.labels, value: acc, metricName: `${name}_bucket`, exemplar: null });
      });
      out.push({ labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count, metricName: `${name}_bucket`, exemplar: null });
      out.push({ labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${name}_sum` });
      out.push({ labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${name}_count` });
    }
    return out;
  }

  /** What the registry writes (prom-client 15 asks for this first). */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: ExportedValue<T>[]; aggregator: 'sum' }> {
    const self = this as unknown as { name: string; help: string };
    return { name: self.name, help: self.help, type: 'histogram', values: this.values(), aggregator: 'sum' };
  }

  override async get(): ReturnType<Histogram<T>['get']> {
    const data = await this.getForPromString();
    const values = data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } as LabelValues<T> }));
    // prom-client's own get() gives no collect hook either (its type says one).
    return { ...data, type: typeOf('histogram'), values } as Awaited<ReturnType<Histogram<T>['get']>>;
  }

  override reset(): void {
    // The base class resets in its constructor, before this class's fields exist.
    (this.series as typeof this.series | undefined)?.clear();
    super.reset();
  }
}

/** Series of two labels that add up: what a lean counter and a lean gauge keep. */
class Sums<T extends string> {
  private readonly series = new SeriesTree<{ labels: LabelValues<T>; value: number }>();

  constructor(private readonly labelNames: readonly string[]) {}

  /** Adds `by` to the series of these two label values (in the order of the labels' names). */
  add(a: string, b: string, by: number): void {
    const series = this.series.get2(a, b) ?? this.series.add([a, b], { labels: { [this.labelNames[0] as string]: a, [this.labelNames[1] as string]: b } as LabelValues<T>, value: 0 });
    series.value += by;
  }

  /** What the registry writes (prom-client 15 asks for this first), for a metric of this type. */
  promString<K extends 'counter' | 'gauge'>(metric: object, type: K): { name: string; help: string; type: K; values: { labels: LabelValues<T>; value: number }[]; aggregator: 'sum' } {
    const { name, help } = metric as { name: string; help: string };
    return { name, help, type, values: this.series.ordered.map(({ labels, value }) => ({ labels, value })), aggregator: 'sum' };
  }

  clear(): void {
    this.series.clear();
  }
}

/** A counter whose hot path is `add(a, b, by)`. */
export class LeanCounter<T extends string> extends Counter<T> {
  private readonly sums: Sums<T>;

  constructor(config: CounterConfiguration<T>) {
    super(config);
    this.sums = new Sums(config.labelNames ?? []);
  }

  /** Adds `by` to the series of these two label values (in the order of the labels' names). */
  add(a: string, b: string, by = 1): void {
    this.sums.add(a, b, by);
  }

  async getForPromString(): Promise<ReturnType<Sums<T>['promString']>> {
    return this.sums.promString(this, 'counter');
  }

  override async get(): ReturnType<Counter<T>['get']> {
    return { ...(await this.getForPromString()), type: typeOf('counter') } as Awaited<ReturnType<Counter<T>['get']>>;
  }

  override reset(): void {
    // The base class resets in its constructor, before this class's fields exist.
    (this.sums as Sums<T> | undefined)?.clear();
    super.reset();
  }
}

/** A gauge whose hot path is `add(a, b, by)` (by -1 to take one away). */
export class LeanGauge<T extends string> extends Gauge<T> {
  private readonly sums: Sums<T>;

  constructor(config: GaugeConfiguration<T>) {
    super(config);
    this.sums = new Sums(config.labelNames ?? []);
  }

  /** Adds `by` to the series of these two label values (in the order of the labels' names). */
  add(a: string, b: string, by: number): void {
    this.sums.add(a, b, by);
  }

  async getForPromString(): Promise<ReturnType<Sums<T>['promString']>> {
    return this.sums.promString(this, 'gauge');
  }

  override async get(): ReturnType<Gauge<T>['get']> {
    return { ...(await this.getForPromString()), type: typeOf('gauge') } as Awaited<ReturnType<Gauge<T>['get']>>;
  }

  override reset(): void {
    (this.sums as Sums<T> | undefined)?.clear();
    super.reset();
  }
}
