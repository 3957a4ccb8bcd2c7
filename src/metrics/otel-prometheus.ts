import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, toOpenMetrics, wantsOpenMetrics, type MetricsRenderer } from './exposition.js';

/** What `otelPrometheusRenderer` needs of an OpenTelemetry `PrometheusExporter` (any line of `@opentelemetry/exporter-prometheus`). */
export interface PrometheusExporterLike<Collected> {
  collect(): Promise<{ resourceMetrics: Collected; errors: unknown[] }>;
}

/** What it needs of a `PrometheusSerializer` from the same package. */
export interface PrometheusSerializerLike<Collected> {
  serialize(resourceMetrics: Collected): string;
}

/**
 * Serves your OpenTelemetry Prometheus exporter (made with `preventServerStart: true`) on the
 * monitor's /metrics route: text 0.0.4, or OpenMetrics when asked.
 *
 *     const exporter = new PrometheusExporter({ preventServerStart: true });
 *     metricsRenderer: otelPrometheusRenderer(exporter, new PrometheusSerializer())
 *
 * `# UNIT` lines are dropped: text 0.0.4 has none, and OpenMetrics wants units that match the
 * name's suffix, which `s` and `{session}` do not. Typed by shape, so this package depends on
 * no OpenTelemetry SDK package: yours is the one used, whichever line it is.
 */
export function otelPrometheusRenderer<Collected>(exporter: PrometheusExporterLike<Collected>, serializer: PrometheusSerializerLike<Collected>): MetricsRenderer {
  return async (accept) => {
    const { resourceMetrics, errors } = await exporter.collect();
    if (errors.length > 0) throw new Error(`collecting OpenTelemetry metrics failed: ${String(errors[0])}`);
    const text = serializer
      .serialize(resourceMetrics)
      .split('\n')
      .filter((line) => !line.startsWith('# UNIT '))
      .join('\n');
    return wantsOpenMetrics(accept) ? { contentType: OPENMETRICS_TEXT, body: toOpenMetrics(text) } : { contentType: PROMETHEUS_TEXT, body: text };
  };
}
