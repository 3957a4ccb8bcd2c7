import { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import type { ConnectionMonitor } from '../core/types.js';
import { promClientRenderer, type MetricsRenderer } from '../metrics/exposition.js';
import type { LabelPolicyOptions } from '../metrics/label-policy.js';
import { OtelMonitor } from '../metrics/otel-monitor.js';
import { combineRenderers } from '../metrics/exposition.js';
import { prometheusViews } from '../metrics/otel-views.js';
import { addProcessMetrics } from '../metrics/process-metrics.js';
import { SettingError, type MetricsBackend } from './settings.js';

/** What `serve` needs from a metrics backend. */
export interface BackendSetup {
  /** prom-client registry for the session metrics, or null when another backend records them. */
  registry: Registry | null;
  /** Extra monitors (OpenTelemetry). */
  monitors: ConnectionMonitor[];
  /** What /metrics serves; undefined for the registry's own. */
  metricsRenderer: MetricsRenderer | undefined;
  /** Flushes and stops exporters. */
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** OTEL_METRIC_EXPORT_INTERVAL, as the OpenTelemetry SDK environment specification names it. */
function exportInterval(env: Env): number {
  const raw = env.OTEL_METRIC_EXPORT_INTERVAL;
  if (raw === undefined || raw === '') return 60_000;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 100) {
    throw new SettingError(`OTEL_METRIC_EXPORT_INTERVAL: "${raw}" is out of range; use a whole number of milliseconds >= 100`);
  }
  return value;
}

/**
 * The OpenTelemetry SDK packages the otel backend needs: optional peers of this package, so
 * a library user's own OpenTelemetry versions are never doubled. Loaded only when asked for.
 */
const OTEL_PACKAGES = ['@opentelemetry/sdk-metrics', '@opentelemetry/resources', '@opentelemetry/exporter-prometheus'] as const;
const OTLP_PACKAGE = '@opentelemetry/exporter-metrics-otlp-http';

async function load<T>(loader: () => Promise<T>, packages: readonly string[]): Promise<T> {
  try {
    return await loader();
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new SettingError(`--metrics-backend otel needs ${packages.join(', ')} installed beside mcp-exporter (npm install ${packages.join(' ')})`);
  }
}

/**
 * prom-client: session metrics and process metrics in one registry.
 * otel: session metrics through an sdk-metrics MeterProvider whose Prometheus reader our
 * /metrics route serves (beside prom-client's process metrics), and, when
 * OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is set, a second
 * provider that pushes OTLP/HTTP with the semantic-convention names.
 */
export async function setUpMetricsBackend(backend: MetricsBackend, env: Env, version: string, logger: Logger, labels: LabelPolicyOptions = {}): Promise<BackendSetup> {
  const processRegistry = new Registry();
  addProcessMetrics(processRegistry);
  if (backend === 'prom-client') {
    return { registry: processRegistry, monitors: [], metricsRenderer: undefined, shutdown: async () => {} };
  }

  const otlpEndpoint = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const interval = otlpEndpoint ? exportInterval(env) : 0;
  const [{ MeterProvider, PeriodicExportingMetricReader }, { resourceFromAttributes }, { createPrometheusReader, otelPrometheusRenderer }] = await load(
    () => Promise.all([import('@opentelemetry/sdk-metrics'), import('@opentelemetry/resources'), import('../metrics/otel-prometheus.js')]),
    OTEL_PACKAGES,
  );
  const resource = resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME || 'mcp-exporter',
    'service.version': version,
  });
  const prometheusReader = createPrometheusReader();
  const prometheusProvider = new MeterProvider({ resource, readers: [prometheusReader], views: prometheusViews() });
  const providers = [prometheusProvider];
  const monitors: ConnectionMonitor[] = [new OtelMonitor({ meterProvider: prometheusProvider, ...labels })];

  if (otlpEndpoint) {
    const { OTLPMetricExporter } = await load(() => import('@opentelemetry/exporter-metrics-otlp-http'), [OTLP_PACKAGE]);
    // The exporter reads the endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables.
    const otlpProvider = new MeterProvider({
      resource,
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: interval, exportTimeoutMillis: Math.min(interval, 30_000) })],
    });
    providers.push(otlpProvider);
    monitors.push(new OtelMonitor({ meterProvider: otlpProvider, ...labels }));
    logger.info({ event: 'otlp_export', intervalMs: interval }, 'pushing metrics over OTLP/HTTP');
  }

  return {
    registry: null,
    monitors,
    metricsRenderer: combineRenderers([otelPrometheusRenderer(prometheusReader), promClientRenderer(processRegistry)]),
    shutdown: async () => {
      await Promise.all(providers.map((provider) => provider.shutdown()));
    },
  };
}
