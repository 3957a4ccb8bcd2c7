import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  CLOSE_REASONS,
  REJECT_REASONS,
  TRANSPORT_KINDS,
  type ClosedConnectionInfo,
  type ConnectionInfo,
  type ConnectionMonitor,
  type OperationInfo,
  type RejectReason,
} from '../core/types.js';
import { LabelPolicy, type LabelPolicyOptions } from './label-policy.js';
import { HELP, METRIC, OPERATION_BUCKETS, SESSION_BUCKETS } from './names.js';


/**
 * Records session facts in prom-client metrics on the registry it is given. Two instances
 * with two registries share nothing.
 */
export class PromClientMonitor implements ConnectionMonitor {
  private readonly active: Gauge<'transport' | 'client_name'>;
  private readonly established: Counter<'transport' | 'client_name'>;
  private readonly closed: Counter<'transport' | 'reason'>;
  private readonly duration: Histogram<'transport' | 'reason'>;
  private readonly rejected: Counter<'reason'>;
  private readonly operations: Histogram<'mcp_method_name' | 'gen_ai_tool_name' | 'error_type'>;
  private readonly labels: LabelPolicy;

  /** `options.clientNames`: the clients that get a client_name of their own (see LabelPolicyOptions). */
  constructor(
    readonly registry: Registry,
    options: LabelPolicyOptions = {},
  ) {
    this.labels = new LabelPolicy(options);
    const registers = [registry];
    this.active = new Gauge({ name: METRIC.sessionsActive, help: HELP.sessionsActive, labelNames: ['transport', 'client_name'], registers });
    this.established = new Counter({ name: METRIC.sessionsTotal, help: HELP.sessionsTotal, labelNames: ['transport', 'client_name'], registers });
    this.closed = new Counter({ name: METRIC.sessionsClosedTotal, help: HELP.sessionsClosedTotal, labelNames: ['transport', 'reason'], registers });
    this.duration = new Histogram({
      name: METRIC.sessionDuration,
      help: HELP.sessionDuration,
      labelNames: ['transport', 'reason'],
      buckets: [...SESSION_BUCKETS],
      registers,
    });
    this.rejected = new Counter({ name: METRIC.requestsRejectedTotal, help: HELP.requestsRejectedTotal, labelNames: ['reason'], registers });
    this.operations = new Histogram({
      name: METRIC.operationDuration,
      help: HELP.operationDuration,
      labelNames: ['mcp_method_name', 'gen_ai_tool_name', 'error_type'],
      buckets: [...OPERATION_BUCKETS],
      registers,
    });
    // Series that exist from the first scrape, so rate() and absent() see zeros, not gaps.
    for (const transport of TRANSPORT_KINDS) {
      for (const reason of CLOSE_REASONS) this.closed.inc({ transport, reason }, 0);
    }
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
  }

  onConnectionEstablished = (connection: ConnectionInfo): void => {
    const labels = { transport: connection.transport, client_name: this.labels.clientName(connection.clientName) };
    this.active.inc(labels);
    this.established.inc(labels);
  };

  onConnectionClosed = (_id: string, durationMs: number, connection: ClosedConnectionInfo): void => {
    this.active.dec({ transport: connection.transport, client_name: this.labels.clientName(connection.clientName) });
    const labels = { transport: connection.transport, reason: connection.reason };
    this.closed.inc(labels);
    this.duration.observe(labels, durationMs / 1000);
  };

  onRequestRejected = (reason: RejectReason): void => {
    this.rejected.inc({ reason });
  };

  onOperation = (operation: OperationInfo): void => {
    this.operations.observe(
      {
        mcp_method_name: this.labels.method(operation.method),
        gen_ai_tool_name: this.labels.toolName(operation.toolName),
        error_type: this.labels.errorType(operation.errorType),
      },
      operation.durationSeconds,
    );
  };

}
