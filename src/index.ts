/**
 * mcp-exporter: session tracking and metrics for MCP servers. Named exports only. Loads no
 * MCP SDK: what hosts SDK v1 servers (`startMonitoredServer`) is `mcp-exporter/sdk-v1`.
 */
export { McpMonitor } from './monitor.js';
export type { McpMonitorOptions, NodeHandler, NodeMiddleware } from './monitor.js';
export { HttpExchangeMonitor } from './wire/exchange-monitor.js';
export type { HttpExchangeMonitorOptions } from './wire/exchange-monitor.js';
export { CLIENT_GONE } from './wire/exchange.js';
export type { AnswerHead, BodyWatch, ExchangeFacts, ExchangeRequest, FetchHandler, FetchOptions, NodeRelay } from './wire/exchange.js';
export { RecentClients } from './core/recent-clients.js';
export type { ClientInfo, RecentClientsOptions } from './core/recent-clients.js';
export { MODERN_PROTOCOL_VERSION, PROTOCOL_VERSIONS } from './core/protocol-versions.js';

export { SessionTracker } from './core/session-tracker.js';
export type { ConnectionStart, SessionStart, SessionTrackerOptions } from './core/session-tracker.js';
export type {
  ConnectionInfo,
  ClosedConnectionInfo,
  ConnectionStats,
  ConnectionMonitor,
  ClientFacts,
  CloseReason,
  ConnectionKind,
  OperationInfo,
  RejectReason,
  TransportKind,
} from './core/types.js';
export { ConnectionHistory } from './core/history.js';
export { createIpMasker, truncateAddress } from './core/ip-masking.js';
export type { IpMasker, IpMaskingMode } from './core/ip-masking.js';
export { createLogMonitor } from './core/log-monitor.js';
export { sessionRef } from './core/session-ref.js';
export { ToolCatalog } from './core/tool-catalog.js';
export { mcpMethod, MCP_METHODS } from './core/mcp-methods.js';
export type { Logger } from './core/logger.js';
export { LabelCap } from './core/label-cap.js';

export { PromClientMonitor } from './metrics/prom-client-monitor.js';
export { combineRenderers, promClientRenderer, toOpenMetrics } from './metrics/exposition.js';
export type { Exposition, MetricsRenderer } from './metrics/exposition.js';
export { METRIC, OPERATION_BUCKETS, SESSION_BUCKETS } from './metrics/names.js';
export { addProcessMetrics } from './metrics/process-metrics.js';
export { OtelMonitor, INSTRUMENT } from './metrics/otel-monitor.js';
export type { OtelMonitorOptions } from './metrics/otel-monitor.js';
export { prometheusViews } from './metrics/otel-views.js';
export type { PrometheusView } from './metrics/otel-views.js';
export { otelPrometheusRenderer } from './metrics/otel-prometheus.js';
export type { PrometheusExporterLike, PrometheusSerializerLike } from './metrics/otel-prometheus.js';

export { createAdminHandler } from './http/admin-routes.js';
export type { AdminHandler, AdminRoutesOptions, ToolSummary } from './http/admin-routes.js';
export { createAdminRouter } from './http/express-router.js';
export { ConnectionEventStream } from './http/event-stream.js';
export type { EventStreamOptions } from './http/event-stream.js';
export { MonitoredTransport } from './sdk-v1/monitored-transport.js';
export { MonitoredStdioTransport } from './sdk-v1/stdio-session.js';
export { SessionTable } from './sdk-v1/session-table.js';
export type { JsonRpcMessage, McpTransport, RequestId, TransportSendOptions } from './sdk-v1/transport-shape.js';
