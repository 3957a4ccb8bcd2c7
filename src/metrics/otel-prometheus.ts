import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, toOpenMetrics, wantsOpenMetrics, type MetricsRenderer } from './exposition.js';
import { METRIC } from './names.js';
import { INSTRUMENT } from './otel-monitor.js';

/** Room for every capped label combination of the operation histogram. */
const CARDINALITY_LIMIT = 20_000;

/**
 * Views for a MeterProvider whose metrics Prometheus scrapes: they give the histograms
 * their `_seconds` names (the JS Prometheus exporter adds no unit suffix), so one set of
 * dashboards and alert rules serves both backends. Counters get `_total` from the exporter.
 * Leave them off a provider that exports OTLP, which should carry the semantic-convention names.
 */
export function prometheusViews(): ViewOptions[] {
  return [
    { instrumentName: INSTRUMENT.operationDuration, name: METRIC.operationDuration, aggregationCardinalityLimit: CARDINALITY_LIMIT },
    { instrumentName: INSTRUMENT.sessionDuration, name: METRIC.sessionDuration },
    { instrumentName: INSTRUMENT.subscriptionDuration, name: METRIC.subscriptionDuration },
  ];
}

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

/** Several renderers as one exposition (e.g. OpenTelemetry metrics plus prom-client's process metrics). */
export function combineRenderers(renderers: readonly MetricsRenderer[]): MetricsRenderer {
  return async (accept) => {
    const parts = await Promise.all(renderers.map((render) => render(undefined)));
    const text = parts.map((part) => part.body.trimEnd()).join('\n\n') + '\n';
    return wantsOpenMetrics(accept) ? { contentType: OPENMETRICS_TEXT, body: toOpenMetrics(text) } : { contentType: PROMETHEUS_TEXT, body: text };
  };
}
