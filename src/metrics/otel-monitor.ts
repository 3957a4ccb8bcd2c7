import type { Attributes, Counter, Histogram, Meter, MeterProvider, UpDownCounter } from '@opentelemetry/api';
import { VERSION } from '../version.js';
import {
  CLOSE_REASONS,
  REJECT_REASONS,
  HTTP_TRANSPORT_KINDS,
  type ClosedConnectionInfo,
  type CloseReason,
  type ConnectionInfo,
  type ConnectionMonitor,
  type OperationInfo,
  type RejectReason,
  type TransportKind,
  type UpstreamFailure,
  type UpstreamState,
  UPSTREAM_FAILURES,
} from '../core/types.js';
import { ATTRIBUTE, closeAttributes, networkAttributes, outcomeAttributes } from './otel-attributes.js';
import { LabelPolicy, type LabelPolicyOptions } from './label-policy.js';
import { SeriesTree } from './series-tree.js';
import { ExemplarTable } from './exemplars.js';
import { HELP, METRIC, OPERATION_BUCKETS, operationLabels, SESSION_BUCKETS } from './names.js';

/** Instrument names: the OpenTelemetry MCP semantic conventions where they name one. */
export const INSTRUMENT = {
  operationDuration: 'mcp.server.operation.duration',
  sessionDuration: 'mcp.server.session.duration',
  sessionsActive: 'mcp.server.sessions.active',
  sessionsTotal: 'mcp.server.sessions',
  sessionsClosed: 'mcp.server.sessions.closed',
  requestsRejected: 'mcp.server.requests.rejected',
  subscriptionsActive: 'mcp.server.subscriptions.active',
  subscriptionsTotal: 'mcp.server.subscriptions',
  subscriptionDuration: 'mcp.server.subscription.duration',
  clientRequests: 'mcp.server.client.requests',
  upstreamUp: 'mcp_exporter.upstream.up',
  upstreamFailures: 'mcp_exporter.upstream.failures',
} as const;

/** The meter's instrumentation scope. */
export const METER_NAME = 'mcp-exporter';

export interface OtelMonitorOptions extends LabelPolicyOptions {
  /** A meter to record on; takes precedence over meterProvider. */
  meter?: Meter;
  /** A MeterProvider to take a meter named `mcp-exporter` from. Nothing global is used. */
  meterProvider?: MeterProvider;
}


/**
 * Records the same facts as the prom-client backend through @opentelemetry/api
 * instruments: Histograms in seconds with the project's bucket boundaries given
 * explicitly, Counters, and an UpDownCounter for open sessions. Attributes are the
 * semantic conventions' (mcp.method.name, gen_ai.tool.name, error.type, network.transport,
 * ...; see ATTRIBUTE), left out where the conventions leave them out, so OTLP carries what an
 * OpenTelemetry backend expects; `prometheusViews()` turn them into the labels of docs/reference.md.
 */
export class OtelMonitor implements ConnectionMonitor {
  private readonly active: UpDownCounter;
  private readonly established: Counter;
  private readonly closed: Counter;
  private readonly sessionDuration: Histogram;
  private readonly operationDuration: Histogram;
  /**
   * Traced operations, by their Prometheus series: the OpenTelemetry SDK keeps no exemplars
   * (nor writes them for Prometheus), so a renderer adds these (exemplarRenderer).
   */
  readonly exemplars = new ExemplarTable(METRIC.operationDuration, OPERATION_BUCKETS);
  private readonly rejected: Counter;
  private readonly subscriptionsActive: UpDownCounter;
  private readonly subscriptionsTotal: Counter;
  private readonly subscriptionDuration: Histogram;
  /**
   * Requests by client and version, counted here and reported by an observable counter at
   * collection: the SDK hashes the attributes of every add(), a cost this spares each request.
   */
  private readonly clientRequests = new SeriesTree<{ attributes: Attributes; count: number }>();
  private readonly labels: LabelPolicy;
  private readonly meter: Meter;
  /** 1 or 0 once an upstream was reported. */
  private upstreamUp: number | undefined;
  private upstreamFailureCounter: Counter | undefined;

  constructor(options: OtelMonitorOptions) {
    const meter = options.meter ?? options.meterProvider?.getMeter(METER_NAME, VERSION);
    if (!meter) throw new TypeError('OtelMonitor needs a meter or a meterProvider');
    this.meter = meter;
    this.labels = new LabelPolicy(options);
    this.active = meter.createUpDownCounter(INSTRUMENT.sessionsActive, { description: HELP.sessionsActive, unit: '{session}' });
    this.established = meter.createCounter(INSTRUMENT.sessionsTotal, { description: HELP.sessionsTotal, unit: '{session}' });
    this.closed = meter.createCounter(INSTRUMENT.sessionsClosed, { description: HELP.sessionsClosedTotal, unit: '{session}' });
    this.rejected = meter.createCounter(INSTRUMENT.requestsRejected, { description: HELP.requestsRejectedTotal, unit: '{request}' });
    this.sessionDuration = meter.createHistogram(INSTRUMENT.sessionDuration, {
      description: HELP.sessionDuration,
      unit: 's',
      advice: { explicitBucketBoundaries: [...SESSION_BUCKETS] },
    });
    this.operationDuration = meter.createHistogram(INSTRUMENT.operationDuration, {
      description: HELP.operationDuration,
      unit: 's',
      advice: { explicitBucketBoundaries: [...OPERATION_BUCKETS] },
    });
    this.subscriptionsActive = meter.createUpDownCounter(INSTRUMENT.subscriptionsActive, { description: HELP.subscriptionsActive, unit: '{subscription}' });
    this.subscriptionsTotal = meter.createCounter(INSTRUMENT.subscriptionsTotal, { description: HELP.subscriptionsTotal, unit: '{subscription}' });
    this.subscriptionDuration = meter.createHistogram(INSTRUMENT.subscriptionDuration, {
      description: HELP.subscriptionDuration,
      unit: 's',
      advice: { explicitBucketBoundaries: [...SESSION_BUCKETS] },
    });
    meter.createObservableCounter(INSTRUMENT.clientRequests, { description: HELP.clientRequestsTotal, unit: '{request}' }).addCallback((result) => {
      for (const { attributes, count } of this.clientRequests.ordered) result.observe(count, attributes);
    });
    // Series that exist from the first export, as under prom-client.
    for (const transport of HTTP_TRANSPORT_KINDS) {
      for (const reason of CLOSE_REASONS) this.closed.add(0, this.closedAttributes(transport, reason));
    }
    for (const reason of REJECT_REASONS) this.rejected.add(0, { [ATTRIBUTE.errorType]: reason });
  }

  onConnectionEstablished = (connection: ConnectionInfo): void => {
    if (connection.kind === 'subscription') {
      const client = this.labels.clientName(connection.clientName);
      const attributes = { [ATTRIBUTE.clientName]: client };
      this.subscriptionsActive.add(1, attributes);
      this.subscriptionsTotal.add(1, attributes);
      // A listen stream is one request of its client, though not an operation.
      this.countClientRequest(client, this.labels.protocolVersion(connection.protocolVersion));
      return;
    }
    const attributes = this.sessionAttributes(connection);
    this.active.add(1, attributes);
    this.established.add(1, attributes);
  };

  onConnectionClosed = (_id: string, durationMs: number, connection: ClosedConnectionInfo): void => {
    if (connection.kind === 'subscription') {
      this.subscriptionsActive.add(-1, { [ATTRIBUTE.clientName]: this.labels.clientName(connection.clientName) });
      const attributes: Attributes = {};
      closeAttributes(connection.reason, attributes);
      this.subscriptionDuration.record(durationMs / 1000, attributes);
      return;
    }
    this.active.add(-1, this.sessionAttributes(connection));
    const attributes = this.closedAttributes(connection.transport, connection.reason);
    this.closed.add(1, attributes);
    // The conventions' session duration also carries the protocol version; Prometheus views drop it.
    const version = this.labels.protocolVersion(connection.protocolVersion);
    this.sessionDuration.record(durationMs / 1000, version === '' ? attributes : { ...attributes, [ATTRIBUTE.protocolVersion]: version });
  };

  onRequestRejected = (reason: RejectReason): void => {
    this.rejected.add(1, { [ATTRIBUTE.errorType]: reason });
  };

  onUpstreamChange = (state: UpstreamState): void => {
    if (this.upstreamUp === undefined) {
      // The proxy's instruments, made when the first upstream fact comes: a server with no upstream has none.
      this.meter.createObservableGauge(INSTRUMENT.upstreamUp, { description: HELP.upstreamUp, unit: '1' }).addCallback((result) => {
        if (this.upstreamUp !== undefined) result.observe(this.upstreamUp);
      });
      for (const reason of UPSTREAM_FAILURES) this.upstreamFailures().add(0, { [ATTRIBUTE.errorType]: reason });
    }
    this.upstreamUp = state.up ? 1 : 0;
  };

  onUpstreamFailure = (reason: UpstreamFailure): void => {
    this.upstreamFailures().add(1, { [ATTRIBUTE.errorType]: reason });
  };

  private upstreamFailures(): Counter {
    this.upstreamFailureCounter ??= this.meter.createCounter(INSTRUMENT.upstreamFailures, { description: HELP.upstreamFailuresTotal, unit: '{failure}' });
    return this.upstreamFailureCounter;
  }

  onOperation = (operation: OperationInfo): void => {
    const version = this.labels.protocolVersion(operation.protocolVersion);
    const method = this.labels.method(operation.method);
    // Attributes the conventions leave out (no tool, success, unknown version) are left out, not sent empty.
    const attributes: Attributes = { [ATTRIBUTE.methodName]: method, ...networkAttributes(operation.transport) };
    const tool = this.labels.toolName(operation.toolName);
    if (tool !== '') attributes[ATTRIBUTE.toolName] = tool;
    if (method === 'tools/call') attributes[ATTRIBUTE.operationName] = 'execute_tool';
    const error = this.labels.errorType(operation.errorType);
    outcomeAttributes(error, attributes);
    const trace = operation.trace;
    if (trace !== undefined) {
      this.exemplars.record(method, tool, error, version, () => operationLabels(method, tool, error, version), operation.durationSeconds, trace);
    }
    if (version !== '') attributes[ATTRIBUTE.protocolVersion] = version;
    this.operationDuration.record(operation.durationSeconds, attributes);
    this.countClientRequest(this.labels.clientName(operation.client.clientName), version);
  };

  private countClientRequest(client: string, version: string): void {
    this.clientRequests.at([client, version], () => ({
      attributes: version === '' ? { [ATTRIBUTE.clientName]: client } : { [ATTRIBUTE.clientName]: client, [ATTRIBUTE.protocolVersion]: version },
      count: 0,
    })).count += 1;
  }

  private sessionAttributes(connection: ConnectionInfo): Attributes {
    return {
      [ATTRIBUTE.transport]: connection.transport,
      [ATTRIBUTE.clientName]: this.labels.clientName(connection.clientName),
      ...networkAttributes(connection.transport),
    };
  }

  private closedAttributes(transport: TransportKind, reason: CloseReason): Attributes {
    const attributes: Attributes = { [ATTRIBUTE.transport]: transport, ...networkAttributes(transport) };
    closeAttributes(reason, attributes);
    return attributes;
  }
}
