import { METRIC } from './names.js';
import { INSTRUMENT } from './otel-monitor.js';

/**
 * One view, as plain data: sdk-metrics' ViewOptions of the 2.x and 3.x lines both take it,
 * so the user's own sdk-metrics decides the type, not ours.
 */
export interface PrometheusView {
  instrumentName: string;
  name: string;
  aggregationCardinalityLimit?: number;
}

/** Room for every capped label combination of the operation histogram. */
const CARDINALITY_LIMIT = 20_000;

/**
 * Views for a MeterProvider whose metrics Prometheus scrapes: they give the histograms
 * their `_seconds` names (the JS Prometheus exporter adds no unit suffix), so one set of
 * dashboards and alert rules serves both backends. Counters get `_total` from the exporter.
 * Leave them off a provider that exports OTLP, which should carry the semantic-convention names.
 */
export function prometheusViews(): PrometheusView[] {
  return [
    { instrumentName: INSTRUMENT.operationDuration, name: METRIC.operationDuration, aggregationCardinalityLimit: CARDINALITY_LIMIT },
    { instrumentName: INSTRUMENT.sessionDuration, name: METRIC.sessionDuration },
    { instrumentName: INSTRUMENT.subscriptionDuration, name: METRIC.subscriptionDuration },
  ];
}
