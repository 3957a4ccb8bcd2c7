import type { TracerProvider } from '@opentelemetry/api';
import type { Logger } from '../core/logger.js';
import { readTracesEnvironment, shownEndpoint, type OtlpProtocol } from './otel-env.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What `serve` and `proxy` trace with. */
export interface TracingSetup {
  /** The provider the monitor makes its spans on; null: none (no OTLP endpoint or exporter asked for). */
  tracerProvider: TracerProvider | null;
  /** Sends what is buffered, then stops. */
  shutdown(): Promise<void>;
}

const NONE: TracingSetup = { tracerProvider: null, shutdown: async () => {} };

/** The OTLP span exporter of a protocol, loaded only when asked for; it reads headers, timeout and compression from its OTEL_EXPORTER_OTLP_* variables. */
async function spanExporter(protocol: OtlpProtocol, url: URL) {
  const config = { url: url.href };
  switch (protocol) {
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(config);
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(config);
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter(config);
  }
}

/**
 * Spans over OTLP when the OTEL_* environment asks (readTracesEnvironment), on a provider of
 * the monitor's own: nothing global is set. Without it, no provider: the monitor makes no
 * spans at all. Throws SettingError for a bad variable. `warn`: log what is wrong but usable.
 */
export async function setUpTracing(env: Env, version: string, logger: Logger, warn = true): Promise<TracingSetup> {
  const traces = readTracesEnvironment(env, version);
  // (The otel metrics backend reads the same variables and has warned already.)
  if (warn) for (const warning of traces.warnings) logger.warn({ event: 'otel_setting' }, warning);
  if (traces.otlp === undefined) return NONE;
  const [{ BasicTracerProvider, BatchSpanProcessor }, { resourceFromAttributes }] = await Promise.all([import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/resources')]);
  const exporter = await spanExporter(traces.otlp.protocol, traces.otlp.url);
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(traces.resource), spanProcessors: [new BatchSpanProcessor(exporter)] });
  logger.info(
    { event: 'otel_traces', endpoint: shownEndpoint(traces.otlp.url), protocol: traces.otlp.protocol },
    `OpenTelemetry spans pushed to ${shownEndpoint(traces.otlp.url)} (${traces.otlp.protocol})`,
  );
  return { tracerProvider: provider, shutdown: () => provider.shutdown() };
}
