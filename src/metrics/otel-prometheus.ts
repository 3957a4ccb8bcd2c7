import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, toOpenMetrics, wantsOpenMetrics, type MetricsRenderer } from './exposition.js';

// `mcp-exporter/otel-prometheus`: what loads @opentelemetry/exporter-prometheus, apart from the package's root.
export { combineRenderers } from './exposition.js';
export { prometheusViews, type PrometheusView } from './otel-views.js';

/** A Prometheus exporter that starts no listener of its own: our /metrics route serves it. */
export function createPrometheusReader(): PrometheusExporter {
  return new PrometheusExporter({ preventServerStart: true });
}

/**
 * Serves an OpenTelemetry Prometheus exporter on our /metrics route: text 0.0.4, or
 * OpenMetrics when asked. `# UNIT` lines are dropped: text 0.0.4 has none, and OpenMetrics
 * wants units that match the name's suffix, which `s` and `{session}` do not.
 */
export function otelPrometheusRenderer(exporter: PrometheusExporter): MetricsRenderer {
  const serializer = new PrometheusSerializer();
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
