import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { METRIC, operationLabels } from './names.js';
import { ATTRIBUTE } from './otel-attributes.js';
import { INSTRUMENT } from './otel-monitor.js';

/**
 * Turns an instrument's attributes into the labels Prometheus shows; sdk-metrics'
 * IAttributesProcessor of the 2.x and 3.x lines alike.
 */
export interface LabelProcessor {
  process(incoming: Attributes): Attributes;
}

/**
 * One view, as plain data: sdk-metrics' ViewOptions of the 2.x and 3.x lines both take it,
 * so the user's own sdk-metrics decides the type, not ours.
 */
export interface PrometheusView {
  instrumentName: string;
  name?: string;
  attributesProcessors?: LabelProcessor[];
  aggregationCardinalityLimit?: number;
}

/** Room for every capped label combination of the operation histogram. */
const CARDINALITY_LIMIT = 20_000;

const text = (value: AttributeValue | undefined): string => (typeof value === 'string' ? value : '');

/**
 * One label per label name of docs/reference.md, in prom-client's order, each from an attribute key (''
 * when the attribute is absent: the conventions leave out what Prometheus shows empty).
 * Attributes not named (network.*, gen_ai.operation.name, the session's protocol version)
 * are dropped, and their series merge: each is fixed by the labels kept or is not a label.
 */
const labels = (mapping: Readonly<Record<string, string>>): LabelProcessor => {
  const entries = Object.entries(mapping);
  return {
    process: (incoming) => {
      const out: Attributes = {};
      for (const [label, key] of entries) out[label] = text(incoming[key]);
      return out;
    },
  };
};

/** error_type: error.type, or the JSON-RPC code the conventions keep out of error.type (a caller's mistake), or ''. */
const operationProcessor: LabelProcessor = {
  process: (incoming) =>
    operationLabels(
      text(incoming[ATTRIBUTE.methodName]),
      text(incoming[ATTRIBUTE.toolName]),
      text(incoming[ATTRIBUTE.errorType] ?? incoming[ATTRIBUTE.statusCode]),
      text(incoming[ATTRIBUTE.protocolVersion]),
    ),
};

const sessionLabels = labels({ transport: ATTRIBUTE.transport, client_name: ATTRIBUTE.clientName });
const closeLabels = labels({ transport: ATTRIBUTE.transport, reason: ATTRIBUTE.closeReason });

/**
 * Views for a MeterProvider whose metrics Prometheus scrapes, so one set of dashboards and
 * alert rules serves both backends: the label names and values of docs/reference.md from the
 * semantic-convention attributes, and the histograms' `_seconds` names (the JS Prometheus
 * exporter adds no unit suffix; counters get `_total` from it). Leave them off a provider
 * that exports OTLP, which should carry the semantic-convention names and attributes.
 */
export function prometheusViews(): PrometheusView[] {
  const view = (instrumentName: string, processor: LabelProcessor, name?: string): PrometheusView => ({
    instrumentName,
    ...(name ? { name } : {}),
    attributesProcessors: [processor],
  });
  return [
    { ...view(INSTRUMENT.operationDuration, operationProcessor, METRIC.operationDuration), aggregationCardinalityLimit: CARDINALITY_LIMIT },
    view(INSTRUMENT.sessionDuration, closeLabels, METRIC.sessionDuration),
    view(INSTRUMENT.sessionsActive, sessionLabels),
    view(INSTRUMENT.sessionsTotal, sessionLabels),
    view(INSTRUMENT.sessionsClosed, closeLabels),
    view(INSTRUMENT.requestsRejected, labels({ reason: ATTRIBUTE.errorType })),
    view(INSTRUMENT.subscriptionsActive, labels({ client_name: ATTRIBUTE.clientName })),
    view(INSTRUMENT.subscriptionsTotal, labels({ client_name: ATTRIBUTE.clientName })),
    view(INSTRUMENT.subscriptionDuration, labels({ reason: ATTRIBUTE.closeReason }), METRIC.subscriptionDuration),
    view(INSTRUMENT.clientRequests, labels({ client_name: ATTRIBUTE.clientName, mcp_protocol_version: ATTRIBUTE.protocolVersion })),
    view(INSTRUMENT.upstreamUp, labels({}), METRIC.upstreamUp),
    view(INSTRUMENT.upstreamFailures, labels({ reason: ATTRIBUTE.errorType })),
  ];
}

/** Views for a MeterProvider that pushes OTLP: the names and attributes as recorded, room for every operation series. */
export function otlpViews(): PrometheusView[] {
  return [{ instrumentName: INSTRUMENT.operationDuration, aggregationCardinalityLimit: CARDINALITY_LIMIT }];
}
