import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import type { ConnectionMonitor } from '../core/types.js';
import type { LabelPolicyOptions } from '../metrics/label-policy.js';
import { OtelMonitor } from '../metrics/otel-monitor.js';
import { combineRenderers, exemplarRenderer, promClientRenderer, type MetricsRenderer } from '../metrics/exposition.js';
import { otlpViews, prometheusViews } from '../metrics/otel-views.js';
import { addProcessMetrics } from '../metrics/process-metrics.js';
import { otlpVariables, readOtelEnvironment, shownEndpoint, type OtlpProtocol, type OtlpSettings } from './otel-env.js';
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

/**
 * The OpenTelemetry SDK packages the otel backend needs: dependencies of the CLI package
 * (the library has none), loaded only when asked for, so a prom-client start loads none.
 */
const OTEL_PACKAGES = ['@opentelemetry/sdk-metrics', '@opentelemetry/resources', '@opentelemetry/exporter-prometheus'] as const;
/** The OTLP metric exporter of each OTEL_EXPORTER_OTLP_PROTOCOL, loaded the same way. */
const OTLP_PACKAGES: Readonly<Record<OtlpProtocol, string>> = {
  'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto',
  'http/json': '@opentelemetry/exporter-metrics-otlp-http',
  grpc: '@opentelemetry/exporter-metrics-otlp-grpc',
};

async function load<T>(loader: () => Promise<T>, packages: readonly string[], needs = '--metrics-backend otel'): Promise<T> {
  try {
    return await loader();
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new SettingError(`${needs} needs ${packages.join(', ')} installed beside mcp-exporter (npm install ${packages.join(' ')})`);
  }
}

/** The OTLP exporter for the protocol, loaded only when asked for; it reads headers, timeout and compression from its OTEL_EXPORTER_OTLP_* variables. */
async function otlpExporter({ protocol, url }: OtlpSettings): Promise<PushMetricExporter> {
  const config = { url: url.href };
  const packages = [OTLP_PACKAGES[protocol]];
  const needs = `OTLP over ${protocol} (OTEL_EXPORTER_OTLP_PROTOCOL)`;
  switch (protocol) {
    case 'http/protobuf':
      return new (await load(() => import('@opentelemetry/exporter-metrics-otlp-proto'), packages, needs)).OTLPMetricExporter(config);
    case 'http/json':
      return new (await load(() => import('@opentelemetry/exporter-metrics-otlp-http'), packages, needs)).OTLPMetricExporter(config);
    case 'grpc':
      return new (await load(() => import('@opentelemetry/exporter-metrics-otlp-grpc'), packages, needs)).OTLPMetricExporter(config);
  }
}

/** What /metrics serves when no OpenTelemetry metrics are: process metrics only, no session metric at all. */
function processMetricsOnly(processRegistry: Registry): BackendSetup {
  return { registry: null, monitors: [], metricsRenderer: promClientRenderer(processRegistry), shutdown: async () => {} };
}

/**
 * prom-client: session metrics and process metrics in one registry (OTEL_* variables that
 * ask for OTLP are ignored, with a warning).
 * otel: session metrics through sdk-metrics, as the OTEL_* environment says (see
 * readOtelEnvironment): a MeterProvider whose Prometheus reader our /metrics route serves
 * (beside prom-client's process metrics) with the names and labels of docs/reference.md, and a second
 * one that pushes OTLP with the semantic-convention names and attributes.
 */
export async function setUpMetricsBackend(backend: MetricsBackend, env: Env, version: string, logger: Logger, labels: LabelPolicyOptions = {}): Promise<BackendSetup> {
  const processRegistry = new Registry();
  addProcessMetrics(processRegistry);
  if (backend === 'prom-client') {
    const ignored = otlpVariables(env);
    if (ignored.length > 0) {
      logger.warn(
        { event: 'otlp_ignored', variables: ignored },
        `${ignored.join(', ')} ignored for metrics: the prom-client backend pushes no metrics over OTLP; use --metrics-backend otel (MCP_METRICS_BACKEND=otel) to push them`,
      );
    }
    return { registry: processRegistry, monitors: [], metricsRenderer: undefined, shutdown: async () => {} };
  }

  const otel = readOtelEnvironment(env, version);
  for (const warning of otel.warnings) logger.warn({ event: 'otel_setting' }, warning);
  if (otel.disabled) {
    logger.info({ event: 'otel_sdk_disabled' }, 'OTEL_SDK_DISABLED=true: the OpenTelemetry SDK is off, so no OTLP push and no session metrics; /metrics serves process metrics only');
    return processMetricsOnly(processRegistry);
  }
  if (!otel.prometheus && !otel.otlp) {
    logger.info({ event: 'otel_no_exporter' }, 'OTEL_METRICS_EXPORTER=none: no OpenTelemetry metrics are recorded; /metrics serves process metrics only');
    return processMetricsOnly(processRegistry);
  }

  const [{ MeterProvider, PeriodicExportingMetricReader }, { resourceFromAttributes }, { createPrometheusReader, prometheusRenderer }] = await load(
    () => Promise.all([import('@opentelemetry/sdk-metrics'), import('@opentelemetry/resources'), import('./otel-prometheus.js')]),
    OTEL_PACKAGES,
  );
  const resource = resourceFromAttributes(otel.resource);
  const providers: { shutdown(): Promise<void> }[] = [];
  const monitors: ConnectionMonitor[] = [];
  let metricsRenderer = promClientRenderer(processRegistry);

  if (otel.prometheus) {
    const prometheusReader = createPrometheusReader();
    const prometheusProvider = new MeterProvider({ resource, readers: [prometheusReader], views: prometheusViews() });
    providers.push(prometheusProvider);
    const monitor = new OtelMonitor({ meterProvider: prometheusProvider, ...labels });
    monitors.push(monitor);
    metricsRenderer = exemplarRenderer(combineRenderers([prometheusRenderer(prometheusReader), promClientRenderer(processRegistry)]), () => [monitor.exemplars]);
  } else {
    logger.info({ event: 'otel_prometheus_off' }, 'OTEL_METRICS_EXPORTER has no prometheus: /metrics serves process metrics only');
  }

  if (otel.otlp) {
    const { intervalMs, protocol, url } = otel.otlp;
    const exporter = await otlpExporter(otel.otlp);
    // A provider of its own: no Prometheus views, so OTLP carries the semantic-convention names and attributes.
    const otlpProvider = new MeterProvider({
      resource,
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: intervalMs, exportTimeoutMillis: Math.min(intervalMs, 30_000) })],
      views: otlpViews(),
    });
    providers.push(otlpProvider);
    monitors.push(new OtelMonitor({ meterProvider: otlpProvider, ...labels }));
    const where = shownEndpoint(url);
    logger.info({ event: 'otlp_export', protocol, endpoint: where, intervalMs }, `pushing metrics over OTLP (${protocol}) to ${where} every ${intervalMs} ms`);
  }

  return {
    registry: null,
    monitors,
    metricsRenderer,
    shutdown: async () => {
      await Promise.all(providers.map((provider) => provider.shutdown()));
    },
  };
}
