/**
 * Session facts: what the tracker knows about MCP sessions, free of HTTP and Prometheus.
 * The shapes match the JSON of the /api/mcp routes (times as ISO 8601 strings).
 */

/** How a session reached the server. */
export type TransportKind = 'streamable_http' | 'sse';

/** Why a session ended. */
export type CloseReason = 'client_delete' | 'idle_timeout' | 'server_shutdown' | 'transport_error';

/** Why a request was refused before it reached a session's server. */
export type RejectReason =
  | 'unknown_session'
  | 'missing_session'
  | 'parse_error'
  | 'invalid_request'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden_host'
  | 'too_many_sessions';

export const CLOSE_REASONS: readonly CloseReason[] = ['client_delete', 'idle_timeout', 'server_shutdown', 'transport_error'];
export const REJECT_REASONS: readonly RejectReason[] = [
  'unknown_session',
  'missing_session',
  'parse_error',
  'invalid_request',
  'payload_too_large',
  'unauthorized',
  'forbidden_host',
  'too_many_sessions',
];
export const TRANSPORT_KINDS: readonly TransportKind[] = ['streamable_http', 'sse'];

/** One open MCP session, as the API shows it. */
export interface ConnectionInfo {
  /**
   * The session's opaque reference: what the admin API, events, history and logs (as
   * `session`) call it. Never the session id, which is a credential; it cannot be used as one.
   */
  id: string;
  /** The client's address, masked as the ip-masking setting says. */
  clientIP: string;
  userAgent: string;
  /** ISO 8601. */
  connectedAt: string;
  /** ISO 8601: the last HTTP request of this session. */
  lastActivity: string;
  /** HTTP requests of this session (POST, GET stream, DELETE), the initialize request included. */
  requestCount: number;
  transport: TransportKind;
  /** clientInfo.name from the initialize request, at most 128 characters; empty when the client sent none. */
  clientName: string;
  clientVersion: string;
  /** The protocol version the server negotiated with this client. */
  protocolVersion: string;
}

/** A session that has ended. */
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
  /** Empty on success; the JSON-RPC error code as a string; `tool_error` for isError results; `_OTHER` otherwise. */
  errorType: string;
  /** From the request's arrival to its response. */
  durationSeconds: number;
}

/** Counts and the open sessions. */
export interface ConnectionStats {
  /** Sessions open now. */
  activeConnections: number;
  /** Sessions established since start, closed ones included. */
  totalConnections: number;
  /** The open sessions, oldest first. Built when read, not on every change. */
  connections: ConnectionInfo[];
  /** ISO 8601: when these numbers were read. */
  lastUpdated: string;
}

/**
 * Callbacks for session events. Every method is optional; each is called synchronously
 * by the tracker, so keep them cheap (a monitor that throws is logged and skipped).
 */
export interface ConnectionMonitor {
  /** After every establish or close. `stats.connections` is built only if read. */
  onConnectionChange?: (stats: ConnectionStats) => void;
  onConnectionEstablished?: (connection: ConnectionInfo) => void;
  /** `id` is the session's opaque reference (`connection.id`); `durationMs` its lifetime in milliseconds. */
  onConnectionClosed?: (id: string, durationMs: number, connection: ClosedConnectionInfo) => void;
  /** A request refused before it reached a session. */
  onRequestRejected?: (reason: RejectReason) => void;
  /** A JSON-RPC request answered; called on every request, so keep it O(1). */
  onOperation?: (operation: OperationInfo) => void;
}
