/**
 * Connection facts: what the tracker knows about MCP sessions (2025 era) and listen streams
 * (2026-07-28 era), free of HTTP, SDKs and Prometheus. The shapes match the JSON of the
 * /api/mcp routes (times as ISO 8601 strings).
 */
import type { TraceRef } from './trace-context.js';

/** How a connection reached the server. */
export type TransportKind = 'streamable_http' | 'sse' | 'stdio';

/**
 * What stays connected: a 2025 session (`initialize`, `Mcp-Session-Id`, or a legacy SSE
 * stream), or a 2026-07-28 `subscriptions/listen` stream.
 */
export type ConnectionKind = 'session' | 'subscription';

/** Why a connection ended. */
export type CloseReason = 'client_delete' | 'idle_timeout' | 'ping_timeout' | 'server_shutdown' | 'transport_error';

/**
 * Why a request was refused before it reached a session's server. `method_not_allowed` (405)
 * and `not_acceptable` (406) are answers a server gives on purpose, e.g. a server without a
 * standalone stream to every GET: counted apart from refusals of bad input.
 */
export type RejectReason =
  | 'unknown_session'
  | 'missing_session'
  | 'parse_error'
  | 'invalid_request'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden_host'
  | 'too_many_sessions'
  | 'method_not_allowed'
  | 'not_acceptable'
  | 'unsupported_protocol_version'
  | 'header_mismatch'
  | 'missing_capability';

export const CLOSE_REASONS: readonly CloseReason[] = ['client_delete', 'idle_timeout', 'ping_timeout', 'server_shutdown', 'transport_error'];
export const REJECT_REASONS: readonly RejectReason[] = [
  'unknown_session',
  'missing_session',
  'parse_error',
  'invalid_request',
  'payload_too_large',
  'unauthorized',
  'forbidden_host',
  'too_many_sessions',
  'method_not_allowed',
  'not_acceptable',
  'unsupported_protocol_version',
  'header_mismatch',
  'missing_capability',
];
/**
 * Why the server behind a proxy failed a request or a check: it refused the connection, did
 * not answer in time, reset it, could not be found or reached, answered 5xx; a stdio command
 * that would not start, or a child that exited on its own.
 */
export type UpstreamFailure = 'connection_refused' | 'timeout' | 'connection_reset' | 'unreachable' | 'server_error' | 'start_failed' | 'child_exited';

export const UPSTREAM_FAILURES: readonly UpstreamFailure[] = ['connection_refused', 'timeout', 'connection_reset', 'unreachable', 'server_error', 'start_failed', 'child_exited'];

/** The server behind a proxy: whether it answers now, and since when (epoch ms); why not, when it does not. */
export interface UpstreamState {
  up: boolean;
  since: number;
  reason?: UpstreamFailure;
}

export const TRANSPORT_KINDS: readonly TransportKind[] = ['streamable_http', 'sse', 'stdio'];
/** The transports of an HTTP server: the ones whose close counters exist from the first scrape. */
export const HTTP_TRANSPORT_KINDS: readonly TransportKind[] = ['streamable_http', 'sse'];
export const CONNECTION_KINDS: readonly ConnectionKind[] = ['session', 'subscription'];

/** Who sent something: what a connection, an operation and the clients view know of a client. */
export interface ClientFacts {
  /** clientInfo.name (initialize, or a 2026-07-28 request's _meta), at most 128 characters; empty when the client sent none. */
  clientName: string;
  clientVersion: string;
  /** The client's address, masked as the ip-masking setting says. */
  clientIP: string;
  /** At most 256 characters. */
  userAgent: string;
  /**
   * The client id the server's own auth verified (`req.auth.clientId`, the SDK's AuthInfo),
   * at most 128 characters; absent without auth. Never the token.
   */
  authClientId?: string;
}

/** The facts of a client nobody has described yet. */
export const UNKNOWN_CLIENT: ClientFacts = Object.freeze({ clientName: '', clientVersion: '', clientIP: 'unknown', userAgent: '' });

/** One open connection (a session or a listen stream), as the API shows it. */
export interface ConnectionInfo extends ClientFacts {
  /**
   * The connection's opaque reference: what the admin API, events, history and logs (as
   * `session`) call it. Never a session id, which is a credential; it cannot be used as one.
   */
  id: string;
  kind: ConnectionKind;
  /** ISO 8601. */
  connectedAt: string;
  /** ISO 8601: the last HTTP request of this session. */
  lastActivity: string;
  /** HTTP requests of this connection (POST, GET stream, DELETE), the one that opened it included. */
  requestCount: number;
  transport: TransportKind;
  /** The protocol version of the connection: negotiated by a session, claimed by a listen stream's request. */
  protocolVersion: string;
}

/** A connection that has ended. */
export interface ClosedConnectionInfo extends ConnectionInfo {
  /** ISO 8601. */
  closedAt: string;
  durationMs: number;
  reason: CloseReason;
}

/** error_type for an operation that ended without a response (its session closed first), or past the cap of error codes. */
export const OTHER_ERROR = '_OTHER';
/** error_type for a tools/call result with isError: true. */
export const TOOL_ERROR = 'tool_error';

/** One JSON-RPC request a session's server answered (or could not answer before the session ended). */
export interface OperationInfo {
  transport: TransportKind;
  /** The JSON-RPC method, e.g. tools/call, when the MCP specification has it; `other` otherwise. */
  method: string;
  /** For tools/call, the tool when the server offers it, `other` otherwise; empty for every other method. */
  toolName: string;
  /** The protocol version it was served under: its session's, or (2026-07-28 on) its own. Empty when not known. */
  protocolVersion: string;
  /** The client that sent it. */
  client: ClientFacts;
  /** Empty on success; the JSON-RPC error code as a string; `tool_error` for isError results; `_OTHER` otherwise. */
  errorType: string;
  /** From the request's arrival to its response. */
  durationSeconds: number;
  /** The trace the client sent the request in (`params._meta.traceparent`), when it sent one. */
  trace?: TraceRef | undefined;
}

/** What a server span needs beyond an operation's facts: kept off OperationInfo, which monitors and logs see. */
export interface OperationIds {
  /** The JSON-RPC request id. */
  requestId: string | number;
  /** The 2025 session's id (Mcp-Session-Id, or the legacy transport's sessionId): on spans only, never on metrics or logs. */
  sessionId?: string | undefined;
}

/** Makes the server span of an answered operation; returns its trace when it links one (the exemplar's). */
export interface OperationSpanSink {
  record(operation: OperationInfo, ids: OperationIds): TraceRef | undefined;
}

/** Counts and the open connections. */
export interface ConnectionStats {
  /** Connections (sessions and listen streams) open now. */
  activeConnections: number;
  /** Connections opened since start, closed ones included. */
  totalConnections: number;
  /** The open connections, oldest first. Built when read, not on every change. */
  connections: ConnectionInfo[];
  /** ISO 8601: when these numbers were read. */
  lastUpdated: string;
}

/**
 * Callbacks for connection events (sessions and listen streams alike; `connection.kind` tells them apart). Every method is optional; each is called synchronously
 * by the tracker, so keep them cheap (a monitor that throws is logged and skipped).
 */
export interface ConnectionMonitor {
  /** After every establish or close. `stats.connections` is built only if read. */
  onConnectionChange?: (stats: ConnectionStats) => void;
  onConnectionEstablished?: (connection: ConnectionInfo) => void;
  /** `id` is the session's opaque reference (`connection.id`); `durationMs` its lifetime in milliseconds. */
  onConnectionClosed?: (id: string, durationMs: number, connection: ClosedConnectionInfo) => void;
  /** A request refused before it reached a server. */
  onRequestRejected?: (reason: RejectReason) => void;
  /** A JSON-RPC request answered; called on every request, so keep it O(1). */
  onOperation?: (operation: OperationInfo) => void;
  /** The server behind a proxy went up or down (and is first reported at start). */
  onUpstreamChange?: (state: UpstreamState) => void;
  /** The server behind a proxy failed a request or a check. */
  onUpstreamFailure?: (reason: UpstreamFailure) => void;
}
