/**
 * Metric names, labels and buckets in one place, shared by every backend. Names follow the
 * OpenTelemetry MCP semantic conventions as Prometheus writes them.
 */

export const METRIC = {
  sessionsActive: 'mcp_server_sessions_active',
  sessionsTotal: 'mcp_server_sessions_total',
  sessionsClosedTotal: 'mcp_server_sessions_closed_total',
  sessionDuration: 'mcp_server_session_duration_seconds',
  operationDuration: 'mcp_server_operation_duration_seconds',
  requestsRejectedTotal: 'mcp_server_requests_rejected_total',
  subscriptionsActive: 'mcp_server_subscriptions_active',
  subscriptionsTotal: 'mcp_server_subscriptions_total',
  subscriptionDuration: 'mcp_server_subscription_duration_seconds',
  clientRequestsTotal: 'mcp_server_client_requests_total',
  upstreamUp: 'mcp_exporter_upstream_up',
  upstreamFailuresTotal: 'mcp_exporter_upstream_failures_total',
} as const;

export const HELP = {
  sessionsActive: 'MCP sessions open now.',
  sessionsTotal: 'MCP sessions established since start.',
  sessionsClosedTotal: 'MCP sessions closed, by reason.',
  sessionDuration: 'Lifetime of closed MCP sessions (mcp.server.session.duration).',
  operationDuration: 'Time from a JSON-RPC request arriving to its response (mcp.server.operation.duration).',
  requestsRejectedTotal: 'Requests refused before they reached a server, by reason.',
  subscriptionsActive: 'subscriptions/listen streams open now (2026-07-28 era).',
  subscriptionsTotal: 'subscriptions/listen streams opened since start.',
  subscriptionDuration: 'Lifetime of closed subscriptions/listen streams.',
  clientRequestsTotal: 'JSON-RPC requests, by client and protocol version.',
  upstreamUp: 'Proxy: 1 while the MCP server behind the proxy answers, 0 while it does not.',
  upstreamFailuresTotal: 'Proxy: requests and checks the MCP server behind the proxy failed, by reason.',
} as const;

/** Seconds. */
/** The labels of one series of the operation histogram, in the order docs/reference.md lists them (both backends write them so). */
export function operationLabels(method: string, tool: string, error: string, version: string) {
  return { mcp_method_name: method, gen_ai_tool_name: tool, error_type: error, mcp_protocol_version: version };
}

export const OPERATION_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
];

/** Seconds. */
export const SESSION_BUCKETS: readonly number[] = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400];

/** Distinct client_name values before the rest become `other`. */
export const CLIENT_NAME_LIMIT = 20;
/** Distinct gen_ai_tool_name values before the rest become `other`. */
export const TOOL_NAME_LIMIT = 200;
/** Distinct JSON-RPC error codes in error_type before the rest become `_OTHER`. */
export const ERROR_CODE_LIMIT = 20;

/** Client-to-server request methods of the MCP specification: always their own label value. */
export { MCP_METHODS } from '../core/mcp-methods.js';
