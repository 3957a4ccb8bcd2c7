import { OTHER_ERROR, TOOL_ERROR } from '../core/types.js';

/** The parts of a JSON-RPC message the monitoring reads. */
export interface JsonRpcLike {
  id?: string | number | null;
  method?: unknown;
  params?: { name?: unknown; _meta?: Record<string, unknown> };
  result?: { isError?: unknown; tools?: unknown; protocolVersion?: unknown };
  error?: { code?: unknown };
}

/** Whether a message is a request: a method and an id (a notification has no id). */
export function isRequest(message: JsonRpcLike): boolean {
  return typeof message.method === 'string' && message.id !== undefined && message.id !== null;
}

/** Whether a message is a response: an id and no method. */
export function isResponse(message: JsonRpcLike): boolean {
  return message.method === undefined && message.id !== undefined && (message.result !== undefined || message.error !== undefined);
}

/** error.type as the OpenTelemetry MCP conventions give it: empty on success. */
export function errorTypeOf(method: string, response: JsonRpcLike): string {
  if (response.error !== undefined) {
    return typeof response.error?.code === 'number' ? String(response.error.code) : OTHER_ERROR;
  }
  if (method === 'tools/call' && response.result?.isError === true) return TOOL_ERROR;
  return '';
}

/** error.type from what a response's text says (see wire/outcome.ts), as errorTypeOf gives it from the message. */
export function errorTypeOfOutcome(method: string, outcome: { errorCode: number | null | undefined; isError: boolean }): string {
  if (outcome.errorCode !== undefined) return outcome.errorCode === null ? OTHER_ERROR : String(outcome.errorCode);
  if (method === 'tools/call' && outcome.isError) return TOOL_ERROR;
  return '';
}
