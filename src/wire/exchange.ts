/**
 * One HTTP exchange as the wire monitor sees it: the request's method and headers, what is
 * known of the client, and the head of the answer, whatever carries them (a web Request and
 * Response, or node:http streams).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A web-standard MCP handler: what the SDK v2's createMcpHandler returns (its `fetch`), or anything alike. */
export interface FetchHandler {
  fetch(request: Request, options?: FetchOptions): Promise<Response>;
}

/** What the SDK v2's handler takes beside the request. */
export interface FetchOptions {
  authInfo?: unknown;
  parsedBody?: unknown;
}

/** The request of one exchange, as the monitor reads it (a web Request, or a node:http one). */
export interface ExchangeRequest {
  /** Upper case. */
  method: string;
  /** A header by its lower-case name. */
  header(name: string): string | undefined;
}

/** The head of an answer, as the monitor reads it before any of its body passes. */
export interface AnswerHead {
  status: number;
  /** A header by its lower-case name. */
  header(name: string): string | undefined;
}

/**
 * What the monitor follows of an answer's body. Whoever carries the body (a web Response
 * passed through, or node:http streams relayed) calls it as the bytes pass, each call
 * before the client has what it is about.
 */
export interface BodyWatch {
  /** The whole body as text, once all of it arrived and before its end reaches the client (small JSON answers). */
  whole?: (text: string) => void;
  /** Each chunk as text, before it is passed on. */
  chunk?: (text: string) => void;
  /** The client went away before the body ended. */
  cancel?: () => void;
  /** The body is over: ended, failed or cancelled. Called once. */
  end?: () => void;
  /** Given a way to cut the body short: what is still open at shutdown is cut. */
  hold?: (cut: () => void) => void;
  /** At shutdown: the last frame to send (a JSON-RPC error for an answer still pending), or undefined. */
  lastWords?: () => string | undefined;
}

/** The head of an answer the client did not wait for. */
export const CLIENT_GONE: AnswerHead = Object.freeze({ status: 499, header: () => undefined });

/**
 * A handler that also answers on node:http streams, with no web Request or Response (a
 * proxy's upstream): it sends the request on and relays the answer's bytes unchanged,
 * calling `answered` with the answer's head (CLIENT_GONE when the client left first)
 * before any of its body, and the watch it returns as the body passes.
 */
export interface NodeRelay {
  /** `text` is the request's body as the client sent it, `body` its JSON (both undefined for a GET or DELETE). */
  relay(req: IncomingMessage, res: ServerResponse, text: string | undefined, answered: (head: AnswerHead) => BodyWatch | undefined, body?: unknown): Promise<void>;
}

/** A handler the wire monitor can serve node:http requests through: a fetch handler, a NodeRelay, or both (relay is used). */
export type WireHandler = (FetchHandler & Partial<NodeRelay>) | (NodeRelay & Partial<FetchHandler>);

/** What the exchange monitor knows of the HTTP request before the handler answers it. */
export interface ExchangeFacts {
  /** Masked, trusted proxies resolved; 'unknown' when the runtime does not tell. */
  clientIP: string;
  /** At most 256 characters. */
  userAgent: string;
  /** The client id the server's auth verified, when it did (see ClientFacts). */
  authClientId?: string;
  /**
   * The connection the request came on (its socket): how a stateless 2025 server's client is
   * known again after its initialize (else by its masked address and user agent). @default none
   */
  connection?: object;
}

export const UNKNOWN_HTTP: ExchangeFacts = Object.freeze({ clientIP: 'unknown', userAgent: '' });

/** The media type of an answer, lower case, without parameters. */
export function mediaType(head: AnswerHead): string {
  const type = head.header('content-type');
  if (type === undefined) return '';
  // What the SDKs send, as they send it: no parameters to cut, no case to fold.
  if (type === 'text/event-stream' || type === 'application/json') return type;
  const semicolon = type.indexOf(';');
  return (semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase();
}

export const isEventStream = (head: AnswerHead): boolean => mediaType(head) === 'text/event-stream';
export const isJson = (head: AnswerHead): boolean => mediaType(head) === 'application/json';

export const webHead = (response: Response): AnswerHead => ({ status: response.status, header: (name) => response.headers.get(name) ?? undefined });

/** A head for an answer made here (a JSON body), not received. */
export function jsonHead(status: number): AnswerHead {
  return { status, header: (name) => (name === 'content-type' ? 'application/json' : undefined) };
}
