import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  CLOSE_REASONS,
  REJECT_REASONS,
  HTTP_TRANSPORT_KINDS,
  type ClosedConnectionInfo,
  type ConnectionInfo,
  type ConnectionMonitor,
  type OperationInfo,
  type RejectReason,
  type UpstreamFailure,
  type UpstreamState,
  UPSTREAM_FAILURES,
} from '../core/types.js';
import { LabelPolicy, type LabelPolicyOptions } from './label-policy.js';
import { LeanCounter, LeanGauge, LeanHistogram } from './lean-metrics.js';
import { HELP, METRIC, OPERATION_BUCKETS, SESSION_BUCKETS } from './names.js';

/**
 * Records connection facts in prom-client metrics on the registry it is given: sessions and
 * listen streams in families of their own, operations of both eras in one histogram. Two
 * instances with two registries share nothing.
 */
export class PromClientMonitor implements ConnectionMonitor {
  /** The session families, changed at every session's start and end: lean, as the per-request ones. */
  private readonly active: LeanGauge<'transport' | 'client_name'>;
  private readonly established: LeanCounter<'transport' | 'client_name'>;
  private readonly closed: LeanCounter<'transport' | 'reason'>;
  private readonly duration: LeanHistogram<'transport' | 'reason'>;
  private readonly subscriptionsActive: Gauge<'client_name'>;
  private readonly subscriptionsTotal: Counter<'client_name'>;
  private readonly subscriptionDuration: Histogram<'reason'>;
  private readonly rejected: Counter<'reason'>;
  /** The two families every request updates: lean, so monitoring adds little to a request. */
  private readonly operations: LeanHistogram<'mcp_method_name' | 'gen_ai_tool_name' | 'error_type' | 'mcp_protocol_version'>;
  private readonly clientRequests: LeanCounter<'client_name' | 'mcp_protocol_version'>;
  private readonly labels: LabelPolicy;
  private upstreamFamilies: { up: Gauge; failures: Counter<'reason'> } | undefined;

  /** `options.clientNames`: the clients that get a client_name of their own (see LabelPolicyOptions). */
  constructor(
    readonly registry: Registry,
    options: LabelPolicyOptions = {},
  ) {
    this.labels = new LabelPolicy(options);
    const registers = [registry];
    this.active = new LeanGauge({ name: METRIC.sessionsActive, help: HELP.sessionsActive, labelNames: ['transport', 'client_name'], registers });
    this.established = new LeanCounter({ name: METRIC.sessionsTotal, help: HELP.sessionsTotal, labelNames: ['transport', 'client_name'], registers });
    this.closed = new LeanCounter({ name: METRIC.sessionsClosedTotal, help: HELP.sessionsClosedTotal, labelNames: ['transport', 'reason'], registers });
    this.duration = new LeanHistogram({
      name: METRIC.sessionDuration,
      help: HELP.sessionDuration,
      labelNames: ['transport', 'reason'],
      buckets: [...SESSION_BUCKETS],
      registers,
    });
    this.subscriptionsActive = new Gauge({ name: METRIC.subscriptionsActive, help: HELP.subscriptionsActive, labelNames: ['client_name'], registers });
    this.subscriptionsTotal = new Counter({ name: METRIC.subscriptionsTotal, help: HELP.subscriptionsTotal, labelNames: ['client_name'], registers });
    this.subscriptionDuration = new Histogram({
      name: METRIC.subscriptionDuration,
      help: HELP.subscriptionDuration,
      labelNames: ['reason'],
      buckets: [...SESSION_BUCKETS],
      registers,
    });
    this.rejected = new Counter({ name: METRIC.requestsRejectedTotal, help: HELP.requestsRejectedTotal, labelNames: ['reason'], registers });
    this.operations = new LeanHistogram({
      name: METRIC.operationDuration,
      help: HELP.operationDuration,
      labelNames: ['mcp_method_name', 'gen_ai_tool_name', 'error_type', 'mcp_protocol_version'],
      buckets: [...OPERATION_BUCKETS],
      registers,
    });
    this.clientRequests = new LeanCounter({
      name: METRIC.clientRequestsTotal,
      help: HELP.clientRequestsTotal,
      labelNames: ['client_name', 'mcp_protocol_version'],
      registers,
    });
    // Series that exist from the first scrape, so rate() and absent() see zeros, not gaps.
    for (const transport of HTTP_TRANSPORT_KINDS) {
      for (const reason of CLOSE_REASONS) this.closed.add(transport, reason, 0);
    }
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
  }

  onConnectionEstablished = (connection: ConnectionInfo): void => {
    const client_name = this.labels.clientName(connection.clientName);
    if (connection.kind === 'subscription') {
      this.subscriptionsActive.inc({ client_name });
      this.subscriptionsTotal.inc({ client_name });
      // A listen stream is one request of its client, though not an operation.
      this.countClientRequest(client_name, this.labels.protocolVersion(connection.protocolVersion));
      return;
    }
    this.active.add(connection.transport, client_name, 1);
    this.established.add(connection.transport, client_name);
  };

  onConnectionClosed = (_id: string, durationMs: number, connection: ClosedConnectionInfo): void => {
    const client_name = this.labels.clientName(connection.clientName);
    if (connection.kind === 'subscription') {
      this.subscriptionsActive.dec({ client_name });
      this.subscriptionDuration.observe({ reason: connection.reason }, durationMs / 1000);
      return;
    }
    this.active.add(connection.transport, client_name, -1);
    this.closed.add(connection.transport, connection.reason);
    this.duration.record2(connection.transport, connection.reason, durationMs / 1000);
  };

  onRequestRejected = (reason: RejectReason): void => {
    this.rejected.inc({ reason });
  };

  onUpstreamChange = (state: UpstreamState): void => {
    this.upstream().up.set(state.up ? 1 : 0);
  };

  onUpstreamFailure = (reason: UpstreamFailure): void => {
    this.upstream().failures.inc({ reason });
  };

  /** The proxy's families, made when the first upstream fact comes: a server with no upstream has none. */
  private upstream(): { up: Gauge; failures: Counter<'reason'> } {
    if (this.upstreamFamilies) return this.upstreamFamilies;
    const registers = [this.registry];
    const up = new Gauge({ name: METRIC.upstreamUp, help: HELP.upstreamUp, registers });
    const failures = new Counter({ name: METRIC.upstreamFailuresTotal, help: HELP.upstreamFailuresTotal, labelNames: ['reason'], registers });
    for (const reason of UPSTREAM_FAILURES) failures.inc({ reason }, 0);
    this.upstreamFamilies = { up, failures };
    return this.upstreamFamilies;
  }

  onOperation = (operation: OperationInfo): void => {
    const version = this.labels.protocolVersion(operation.protocolVersion);
    const method = this.labels.method(operation.method);
    const tool = this.labels.toolName(operation.toolName);
    const error = this.labels.errorType(operation.errorType);
    this.operations.record(method, tool, error, version, operation.durationSeconds, operation.trace);
    this.countClientRequest(this.labels.clientName(operation.client.clientName), version);
  };

  private countClientRequest(client: string, version: string): void {
    this.clientRequests.add(client, version);
  }
}
