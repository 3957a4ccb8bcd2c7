/**
 * McpMonitor as a library user builds it, for the bench's user apps (bench/baseline/*.mjs):
 * `prom` (a prom-client registry of its own, the default), `prom-nospans` (the same with
 * `tracerProvider: null`) or `otel` (an OpenTelemetry MeterProvider with the Prometheus views). The apps load it only when they are monitored,
 * so a bare app never loads this project's code.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createPrometheusReader, prometheusRenderer } from '../../src/cli/otel-prometheus.js';
import { prometheusViews } from '../../src/metrics/otel-views.js';
import { McpMonitor } from '../../src/monitor.js';

export function monitorFor(backend: string): McpMonitor {
  if (backend === 'prom') return new McpMonitor();
  // The same without server spans: against `prom`, what the spans cost with no tracer provider registered (the API's no-op tracer).
  if (backend === 'prom-nospans') return new McpMonitor({ tracerProvider: null });
  if (backend !== 'otel') throw new Error(`unknown backend ${backend}: prom, prom-nospans or otel`);
  const reader = createPrometheusReader();
  const meterProvider = new MeterProvider({ readers: [reader], views: prometheusViews() });
  return new McpMonitor({ registry: null, meterProvider, metricsRenderer: prometheusRenderer(reader) });
}
