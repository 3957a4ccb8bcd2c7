import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { MetricsRenderer } from '../metrics/exposition.js';
import { otelPrometheusRenderer } from '../metrics/otel-prometheus.js';

// What loads @opentelemetry/exporter-prometheus (a dependency of the CLI, not of the library).

/** A Prometheus exporter that starts no listener of its own: our /metrics route serves it. */
export function createPrometheusReader(): PrometheusExporter {
  return new PrometheusExporter({ preventServerStart: true });
}

/** The exporter's metrics on our /metrics route. */
export function prometheusRenderer(exporter: PrometheusExporter): MetricsRenderer {
  return otelPrometheusRenderer(exporter, new PrometheusSerializer());
}
