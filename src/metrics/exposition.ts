import { Registry } from 'prom-client';
import { withExemplars, type ExemplarTable } from './exemplars.js';
import { LeanHistogram } from './lean-metrics.js';

/** A scrape answer. */
export interface Exposition {
  contentType: string;
  body: string;
}

/** Renders the metrics for one scrape; `accept` is the scraper's Accept header. */
export type MetricsRenderer = (accept: string | undefined) => Promise<Exposition>;

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** True when the Accept header asks for OpenMetrics, as Prometheus's scraper does first. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && accept.toLowerCase().includes('application/openmetrics-text');
}

/**
 * Rewrites Prometheus text 0.0.4 as OpenMetrics 1.0: a counter family is named without
 * `_total` in its HELP and TYPE lines while its samples carry it, blank lines go, and
 * `# EOF` ends it. (prom-client's own OpenMetrics mode renames counters in place, which
 * would break the text format for every later scrape of the same registry.)
 */
export function toOpenMetrics(text: string): string {
  const lines = text.split('\n');
  const counters = new Set<string>();
  for (const line of lines) {
    if (line.startsWith('# TYPE ') && line.endsWith(' counter')) counters.add(line.split(' ')[2] ?? '');
  }
  const family = (name: string): string => (counters.has(name) && name.endsWith('_total') ? name.slice(0, -6) : name);
  const out: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const [hash, keyword, name = '', ...rest] = line.split(' ');
      out.push([hash, keyword, family(name), ...rest].join(' '));
      continue;
    }
    if (!line.startsWith('#')) {
      const end = line.search(/[{ ]/);
      const name = end < 0 ? line : line.slice(0, end);
      if (counters.has(name) && !name.endsWith('_total')) {
        out.push(`${name}_total${line.slice(name.length)}`);
        continue;
      }
    }
    out.push(line);
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/** The exemplar tables of a registry's histograms that keep them (the operation histogram). */
function exemplarsOf(registry: Registry): ExemplarTable[] {
  return registry.getMetricsAsArray().flatMap((metric) => (metric instanceof LeanHistogram ? [metric.exemplars] : []));
}

/** A renderer whose OpenMetrics answers carry the exemplars of `tables` (those of an OpenTelemetry monitor, say). */
export function exemplarRenderer(renderer: MetricsRenderer, tables: () => readonly ExemplarTable[]): MetricsRenderer {
  return async (accept) => {
    const answer = await renderer(accept);
    return wantsOpenMetrics(accept) ? { ...answer, body: withExemplars(answer.body, tables()) } : answer;
  };
}

/** Serves a prom-client registry: text 0.0.4, or OpenMetrics (with exemplars) when the scraper asks. */
export function promClientRenderer(registry: Registry): MetricsRenderer {
  return async (accept) => {
    const text = await registry.metrics();
    return wantsOpenMetrics(accept)
      ? { contentType: OPENMETRICS_TEXT, body: withExemplars(toOpenMetrics(text), exemplarsOf(registry)) }
      : { contentType: PROMETHEUS_TEXT, body: text };
  };
}

/** Several renderers as one exposition (e.g. OpenTelemetry metrics plus prom-client's process metrics). */
export function combineRenderers(renderers: readonly MetricsRenderer[]): MetricsRenderer {
  return async (accept) => {
    const parts = await Promise.all(renderers.map((render) => render(undefined)));
    const text = parts.map((part) => part.body.trimEnd()).join('\n\n') + '\n';
    return wantsOpenMetrics(accept) ? { contentType: OPENMETRICS_TEXT, body: toOpenMetrics(text) } : { contentType: PROMETHEUS_TEXT, body: text };
  };
}
