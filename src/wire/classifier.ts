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
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isEventStream, isJson, type AnswerHead } from './exchange.js';

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

/** Reads a request from its parts: `body` is its JSON, parsed already (undefined when there is none or it is not JSON). */
export function readRequest(httpMethod: string, sessionId: string | undefined, versionHeader: string | undefined, body: unknown): RequestRead {
  let messages = NO_MESSAGES;
  if (isMessage(body)) messages = [body];
  else if (Array.isArray(body)) messages = body.filter(isMessage);
  // A request with no body (a DELETE, a GET) or a single message makes no new list.
  const requests = messages.length === 1 ? (isRequest(messages[0] as JsonRpcLike) ? messages : NO_MESSAGES) : messages.length === 0 ? NO_MESSAGES : messages.filter(isRequest);
  return { httpMethod, sessionId, versionHeader, messages, requests, parsed: body !== undefined, modern: isModernRequest(versionHeader, body) };
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** A node:http request read (its headers looked up by name, each once). */
export function readNodeRequest(req: IncomingMessage, body: unknown): RequestRead {
  return readNodeHeaders(req.method ?? 'GET', req.headers, body);
}

/** A node:http request read from its method and headers, read off it already. */
export function readNodeHeaders(httpMethod: string, headers: IncomingHttpHeaders, body: unknown): RequestRead {
  return readRequest(httpMethod, first(headers['mcp-session-id']), first(headers['mcp-protocol-version']), body);
}

/** A web Request read. */
export function readWebRequest(request: Request, body: unknown): RequestRead {
  const headers = request.headers;
  return readRequest(request.method.toUpperCase(), headers.get('mcp-session-id') ?? undefined, headers.get('mcp-protocol-version') ?? undefined, body);
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
  if (status === CLIENT_CLOSED_REQUEST) return CLIENT_GONE_VERDICT;
  if (status >= 500 && !(status === 503 && head.header('retry-after') !== undefined)) return read.requests.length > 0 ? FAILED : NONE;
  if (status >= 400) {
    const reason = refusalOfStatus(status, head, read.sessionId !== undefined);
    return reason === undefined ? REFUSED_BY_BODY : { kind: 'refused', reason, endsSession: reason === 'unknown_session' && sessionKnown };
  }
  if (read.httpMethod === 'DELETE') return sessionKnown ? SESSION_ENDED : NONE;
  if (read.httpMethod === 'GET') return sessionKnown && isEventStream(head) ? SESSION_STREAM : NONE;
  if (read.requests.length === 0) return NONE;
  const streamed = isEventStream(head);
  if (streamed && read.requests.length === 1 && read.requests[0]?.method === 'subscriptions/listen') return LISTEN;
  if (streamed) return STREAMED_ANSWER;
  return isJson(head) ? JSON_ANSWER : UNUSABLE;
}

// The verdicts without a payload, made once (one is given per exchange).
const NONE: Verdict = Object.freeze({ kind: 'none' });
const FAILED: Verdict = Object.freeze({ kind: 'failed' });
const CLIENT_GONE_VERDICT: Verdict = Object.freeze({ kind: 'client_gone' });
const REFUSED_BY_BODY: Verdict = Object.freeze({ kind: 'refused_by_body' });
const SESSION_ENDED: Verdict = Object.freeze({ kind: 'session_ended' });
const SESSION_STREAM: Verdict = Object.freeze({ kind: 'session_stream' });
const LISTEN: Verdict = Object.freeze({ kind: 'listen' });
const STREAMED_ANSWER: Verdict = Object.freeze({ kind: 'answer', streamed: true });
const JSON_ANSWER: Verdict = Object.freeze({ kind: 'answer', streamed: false });
const UNUSABLE: Verdict = Object.freeze({ kind: 'unusable' });
