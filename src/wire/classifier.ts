/**
 * What an HTTP exchange means in MCP terms, decided from the request (its method, headers
 * and JSON-RPC body) and the head of its answer: pure functions, no state, no I/O. The
 * exchange monitor acts on the verdict. Refusals are named by the rules every way in
 * shares (transport/refusals.ts).
 */
import type { RejectReason } from '../core/types.js';
import { isModernRequest } from '../transport/era.js';
import { isRequest, type JsonRpcLike } from '../transport/jsonrpc-outcome.js';
import { refusalOfStatus } from '../transport/refusals.js';
import { isEventStream, isJson, type AnswerHead, type ExchangeRequest } from './exchange.js';

/** What the monitor reads of a request before it is answered. */
export interface RequestRead {
  /** The HTTP method, upper case. */
  httpMethod: string;
  /** The Mcp-Session-Id header (a credential: it stays in the wire layer). */
  sessionId: string | undefined;
  /** The MCP-Protocol-Version header. */
  versionHeader: string | undefined;
  /** The JSON-RPC messages of the body: one, the members of a batch, or none (no body, or not JSON-RPC). */
  messages: readonly JsonRpcLike[];
  /** Those of them that are requests (a method and an id): each is an operation. */
  requests: readonly JsonRpcLike[];
  /** Whether the body was JSON at all (a POST whose body is not gets the handler's parse error). */
  parsed: boolean;
  /** Of the 2026-07-28 era (see isModernRequest). */
  modern: boolean;
}

const NO_MESSAGES: readonly JsonRpcLike[] = Object.freeze([]);

const isMessage = (value: unknown): value is JsonRpcLike => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads a request: `body` is its JSON, parsed already (undefined when there is none or it is not JSON). */
export function readRequest(request: ExchangeRequest, body: unknown): RequestRead {
  let messages = NO_MESSAGES;
  if (isMessage(body)) messages = [body];
  else if (Array.isArray(body)) messages = body.filter(isMessage);
  const requests = messages.length === 1 ? (isRequest(messages[0] as JsonRpcLike) ? messages : NO_MESSAGES) : messages.filter(isRequest);
  const versionHeader = request.header('mcp-protocol-version');
  return {
    httpMethod: request.method,
    sessionId: request.header('mcp-session-id'),
    versionHeader,
    messages,
    requests,
    parsed: body !== undefined,
    modern: isModernRequest(versionHeader, body),
  };
}

/** What an answer is, from its head. */
export type Verdict =
  /** Refused for a reason the status names; `endsSession`: a session followed under the request's id is gone. */
  | { kind: 'refused'; reason: RejectReason; endsSession: boolean }
  /** Refused; the reason is in the body's JSON-RPC error code (see refusalOfCode). */
  | { kind: 'refused_by_body' }
  /** The server failed (5xx): each request of the exchange is an operation that failed. */
  | { kind: 'failed' }
  /** The client left before the answer: each request is an operation left pending. */
  | { kind: 'client_gone' }
  /** A DELETE the server accepted: the session ends. */
  | { kind: 'session_ended' }
  /** A session's GET stream: the session is alive while it is open. */
  | { kind: 'session_stream' }
  /** A `subscriptions/listen` stream: a connection of kind subscription while it is open. */
  | { kind: 'listen' }
  /** The answer to the exchange's requests, as one JSON body or an SSE stream. */
  | { kind: 'answer'; streamed: boolean }
  /** Requests answered with something that is neither JSON nor SSE: no answer a client can use. */
  | { kind: 'unusable' }
  /** Nothing to record (a notification accepted, a GET of no session). */
  | { kind: 'none' };

/** The status the proxy and the monitor use for an answer the client did not wait for (nginx's "client closed request"). */
export const CLIENT_CLOSED_REQUEST = 499;

/**
 * What an answer means. `sessionKnown`: the request's Mcp-Session-Id names a session the
 * monitor follows.
 */
export function classifyAnswer(read: RequestRead, head: AnswerHead, sessionKnown: boolean): Verdict {
  const { status } = head;
  if (status === CLIENT_CLOSED_REQUEST) return { kind: 'client_gone' };
  if (status >= 500) return read.requests.length > 0 ? { kind: 'failed' } : { kind: 'none' };
  if (status >= 400) {
    const reason = refusalOfStatus(status, head, read.sessionId !== undefined);
    return reason === undefined ? { kind: 'refused_by_body' } : { kind: 'refused', reason, endsSession: reason === 'unknown_session' && sessionKnown };
  }
  if (read.httpMethod === 'DELETE') return sessionKnown ? { kind: 'session_ended' } : { kind: 'none' };
  if (read.httpMethod === 'GET') return sessionKnown && isEventStream(head) ? { kind: 'session_stream' } : { kind: 'none' };
  if (read.requests.length === 0) return { kind: 'none' };
  const streamed = isEventStream(head);
  if (streamed && read.requests.length === 1 && read.requests[0]?.method === 'subscriptions/listen') return { kind: 'listen' };
  if (streamed) return { kind: 'answer', streamed: true };
  return isJson(head) ? { kind: 'answer', streamed: false } : { kind: 'unusable' };
}
