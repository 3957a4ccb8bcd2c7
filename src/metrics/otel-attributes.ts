import type { Attributes } from '@opentelemetry/api';
import { OTHER_ERROR, TOOL_ERROR, type CloseReason, type TransportKind } from '../core/types.js';

/**
 * Attribute keys of the OpenTelemetry instruments. The semantic conventions (MCP, GenAI,
 * network, error, RPC) where they name one; the rest in this project's own namespace,
 * `mcp_exporter.`, so no key claims a meaning the conventions might give it later.
 */
export const ATTRIBUTE = {
  methodName: 'mcp.method.name',
  protocolVersion: 'mcp.protocol.version',
  toolName: 'gen_ai.tool.name',
  operationName: 'gen_ai.operation.name',
  errorType: 'error.type',
  statusCode: 'rpc.response.status_code',
  networkTransport: 'network.transport',
  networkProtocolName: 'network.protocol.name',
  /** streamable_http, sse or stdio: network.transport cannot tell the first two apart. */
  transport: 'mcp_exporter.transport',
  /** clientInfo.name, capped as the client_name label is. */
  clientName: 'mcp_exporter.client.name',
  /** Why a session or listen stream ended (error.type too when it ended with an error). */
  closeReason: 'mcp_exporter.close.reason',
} as const;

/**
 * JSON-RPC codes that are the caller's mistake (parse error, invalid request, method not
 * found, invalid params, resource not found): the conventions record them as
 * rpc.response.status_code and, on the server, not as an error.type.
 */
const CALLER_ERROR_CODES: ReadonlySet<string> = new Set(['-32700', '-32600', '-32601', '-32602', '-32002']);

/** Closes that end a session with an error: error.type is set for these only. */
const ERROR_CLOSES: ReadonlySet<CloseReason> = new Set(['transport_error', 'ping_timeout']);

const HTTP_NETWORK: Attributes = Object.freeze({ [ATTRIBUTE.networkTransport]: 'tcp', [ATTRIBUTE.networkProtocolName]: 'http' });
const PIPE_NETWORK: Attributes = Object.freeze({ [ATTRIBUTE.networkTransport]: 'pipe' });

/** network.transport (and network.protocol.name over HTTP), as the conventions record an MCP transport. */
export function networkAttributes(transport: TransportKind): Attributes {
  return transport === 'stdio' ? PIPE_NETWORK : HTTP_NETWORK;
}

/**
 * The outcome of an operation, from the capped error_type label value: nothing on success;
 * a JSON-RPC code as rpc.response.status_code, and as error.type unless it is the caller's
 * mistake; `tool_error` and `_OTHER` as error.type.
 */
export function outcomeAttributes(errorType: string, into: Attributes): void {
  if (errorType === '') return;
  if (errorType !== TOOL_ERROR && errorType !== OTHER_ERROR) {
    into[ATTRIBUTE.statusCode] = errorType;
    if (CALLER_ERROR_CODES.has(errorType)) return;
  }
  into[ATTRIBUTE.errorType] = errorType;
}

/** The attributes of a closed session or listen stream: its reason, and error.type when it ended with an error. */
export function closeAttributes(reason: CloseReason, into: Attributes): void {
  into[ATTRIBUTE.closeReason] = reason;
  if (ERROR_CLOSES.has(reason)) into[ATTRIBUTE.errorType] = reason;
}
