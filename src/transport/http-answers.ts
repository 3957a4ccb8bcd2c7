import type { ServerResponse } from 'node:http';

/** JSON-RPC error codes this project answers with. */
export const JSONRPC = {
  parseError: -32700,
  invalidRequest: -32600,
  /** Implementation-defined server error, as the SDK uses for HTTP-level refusals. */
  serverError: -32000,
  /** The SDK's code for an unknown or ended session. */
  sessionNotFound: -32001,
} as const;

/** The one way this project answers an HTTP request with a JSON-RPC error (id null). */
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
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
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
