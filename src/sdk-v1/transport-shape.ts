/**
 * The shape of an MCP SDK transport, as this package uses it: structural, so the transports
 * of the SDK v1 (`@modelcontextprotocol/sdk`) and of the SDK v2 fit it, and the package's own
 * types import neither SDK (a project with one SDK line type-checks without the other).
 */

/** A JSON-RPC request id. */
export type RequestId = string | number;

/** A JSON-RPC message: a request, a notification, a result or an error. */
export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: RequestId;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/** What a transport's send() takes beside the message. */
export interface TransportSendOptions {
  relatedRequestId?: RequestId | undefined;
  resumptionToken?: string | undefined;
  onresumptiontoken?: ((token: string) => void) | undefined;
}

/**
 * An MCP transport (the SDK's `Transport` interface). The message callback takes the SDK's
 * own message types, which differ between the two lines: it is typed loosely here so that
 * either SDK's transport fits and a wrapped one is accepted back by either SDK's `connect()`.
 */
export interface McpTransport {
  start(): Promise<void>;
  send(message: JsonRpcMessage, options?: TransportSendOptions): Promise<void>;
  close(): Promise<void>;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- either SDK's message types (see above)
  onmessage?: ((message: any, extra?: any) => void) | undefined;
  sessionId?: string | undefined;
  setProtocolVersion?: ((version: string) => void) | undefined;
}
