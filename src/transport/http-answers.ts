import type { ServerResponse } from 'node:http';

/** JSON-RPC error codes this project answers with. */
export const JSONRPC = {
  parseError: -32700,
  invalidRequest: -32600,
  /** Something failed inside this process while it answered (JSON-RPC's "Internal error"). */
  internalError: -32603,
  /** Implementation-defined server error, as the SDK uses for HTTP-level refusals and for an upstream that failed. */
  serverError: -32000,
  /** The SDK's code for an unknown or ended session. */
  sessionNotFound: -32001,
} as const;

/** What a request still pending at shutdown is answered with. */
export const SHUTTING_DOWN = { code: JSONRPC.serverError, message: 'Server shutting down' } as const;

/** A JSON-RPC request id, or null when the answer names no request (the body could not be read as one). */
export type JsonRpcId = string | number | null;

/** A JSON-RPC error message, as an object: for a transport's send(). */
export function jsonRpcError<Id extends JsonRpcId>(id: Id, code: number, message: string): { jsonrpc: '2.0'; error: { code: number; message: string }; id: Id } {
  // The SDKs' own order of the members.
  return { jsonrpc: '2.0', error: { code, message }, id };
}

/** A JSON-RPC error message as JSON text: the one body every error answer of this project has. */
export function jsonRpcErrorText(id: JsonRpcId, code: number, message: string): string {
  return JSON.stringify(jsonRpcError(id, code, message));
}

/** A JSON-RPC error as a web-standard Response, for fetch handlers. */
export function jsonRpcErrorResponse(status: number, id: JsonRpcId, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(jsonRpcErrorText(id, code, message), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** The one way this project answers a node:http request with a JSON-RPC error (id null). */
export function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = jsonRpcErrorText(null, code, message);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** A JSON answer for the admin routes. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}
