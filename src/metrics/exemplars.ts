import type { TraceRef } from '../core/trace-context.js';
import { SeriesTree } from './series-tree.js';

/** An OpenMetrics exemplar: the trace of one observation in a bucket. */
interface BucketExemplar {
  trace: TraceRef;
  value: number;
  /** Unix seconds. */
  timestamp: number;
}

interface Series {
  labels: Record<string, string>;
  /** By bucket, +Inf last. */
  exemplars: (BucketExemplar | undefined)[];
}

/** A sample's name and labels as one key, whatever order the labels were written in. */
function sampleKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((label) => `${label}=${JSON.stringify(labels[label])}`)
    .join(',')}}`;
}

const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const unescape = (value: string): string => value.replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));

/**
 * The latest traced observation of each bucket of one histogram, by series: what the
 * OpenMetrics exposition writes after the bucket's sample. Only traced observations reach
 * it; its size is bounded by the histogram's series (their labels are capped).
 */
export class ExemplarTable {
  private readonly series = new SeriesTree<Series>();
  /** The series' label names and `le`: a sample's other labels (OpenTelemetry's otel_scope_*) are not part of its key. */
  readonly keyLabels = new Set<string>(['le']);

  constructor(
    /** The histogram's name, as exposed (its samples are `<name>_bucket`). */
    readonly name: string,
    private readonly bounds: readonly number[],
  ) {}

  /** Keeps `value` with its trace as the exemplar of the bucket it falls in, in the series of these four label values. */
  record(a: string, b: string, c: string, d: string, labels: () => Record<string, string>, value: number, trace: TraceRef): void {
    const series = this.series.at([a, b, c, d], () => {
      const named = labels();
      for (const name of Object.keys(named)) this.keyLabels.add(name);
      return { labels: named, exemplars: new Array<BucketExemplar | undefined>(this.bounds.length + 1) };
    });
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    series.exemplars[i] = { trace, value, timestamp: Date.now() / 1000 };
  }

  /** Adds what follows each bucket sample that has an exemplar, by sample key. */
  suffixes(into: Map<string, string>): void {
    for (const series of this.series.ordered) {
      series.exemplars.forEach((exemplar, i) => {
        if (exemplar === undefined) return;
        const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
        into.set(
          sampleKey(`${this.name}_bucket`, { ...series.labels, le }),
          ` # {trace_id="${exemplar.trace.traceId}",span_id="${exemplar.trace.spanId}"} ${exemplar.value} ${exemplar.timestamp.toFixed(3)}`,
        );
      });
    }
  }
}

/**
 * Appends each exemplar to its bucket sample in OpenMetrics text, matching samples by name
 * and labels in any order (prom-client and OpenTelemetry write `le` in different places).
 * The 0.0.4 text format has no exemplars: give it only OpenMetrics.
 */
export function withExemplars(openMetrics: string, tables: readonly ExemplarTable[]): string {
  const suffixes = new Map<string, string>();
  for (const table of tables) table.suffixes(suffixes);
  if (suffixes.size === 0) return openMetrics;
  return openMetrics
    .split('\n')
    .map((line) => {
      const table = tables.find((candidate) => line.startsWith(`${candidate.name}_bucket{`));
      if (table === undefined) return line;
      const open = line.indexOf('{');
      const close = line.lastIndexOf('} ');
      const labels: Record<string, string> = {};
      for (const match of line.slice(open + 1, close).matchAll(LABEL)) {
        const name = match[1] as string;
        if (table.keyLabels.has(name)) labels[name] = unescape(match[2] as string);
      }
      const suffix = suffixes.get(sampleKey(line.slice(0, open), labels));
      return suffix === undefined ? line : `${line}${suffix}`;
    })
    .join('\n');
}
