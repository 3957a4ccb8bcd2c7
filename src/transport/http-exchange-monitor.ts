import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { boundedText } from '../core/bounded-text.js';
import { OVERFLOW_LABEL } from '../core/label-cap.js';
import { mcpMethod } from '../core/mcp-methods.js';
import { sessionRef } from '../core/session-ref.js';
import type { ConnectionStart, SessionTracker } from '../core/session-tracker.js';
import { traceOf, type TraceRef } from '../core/trace-context.js';
import { OTHER_ERROR, type ClientFacts, type CloseReason, type RejectReason } from '../core/types.js';
import { errorTypeOf, isRequest, isResponse, type JsonRpcLike } from './jsonrpc-outcome.js';
import { SHUTTING_DOWN } from './session-table.js';

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
  relay(req: IncomingMessage, res: ServerResponse, text: string | undefined, answered: (head: AnswerHead) => BodyWatch | undefined): Promise<void>;
}

/** What the exchange monitor knows of the HTTP request before the handler answers it. */
export interface ExchangeFacts {
  /** Masked, trusted proxies resolved; 'unknown' when the runtime does not tell. */
  clientIP: string;
  /** At most 256 characters. */
  userAgent: string;
  /** The client id the server's auth verified, when it did (see ClientFacts). */
  authClientId?: string;
}

export interface HttpExchangeMonitorOptions {
  tracker: SessionTracker;
  /** Forget a 2025 session seen on the wire after this long without a request, in ms; 0 never does. @default 1800000 */
  sessionIdleTimeoutMs?: number;
  /** Epoch milliseconds. @default Date.now */
  now?: () => number;
  /**
   * Called when the monitor lets go of a 2025 session the client did not end (idle, or at
   * shutdown): a proxy ends it upstream. closeAll() waits for what it returns. @default none
   */
  endSession?: (sessionId: string, protocolVersion: string) => Promise<void> | void;
}

const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CLIENT = 'io.modelcontextprotocol/clientInfo';

/** JSON-RPC codes of the 2026-07-28 refusals, and the reason each counts as. */
const REFUSALS: ReadonlyMap<number, RejectReason> = new Map<number, RejectReason>([
  [-32022, 'unsupported_protocol_version'],
  [-32020, 'header_mismatch'],
  [-32021, 'missing_capability'],
  [-32700, 'parse_error'],
]);

/** A 2025 session as the monitor sees it on the wire (the transport and its id stay with the server). */
interface WireSession {
  start: ConnectionStart;
  /** GET streams open now: while one is, the session is alive. */
  streams: number;
}

/** One JSON-RPC request being answered: what its operation is recorded with. */
interface PendingOperation {
  id: string | number;
  method: string;
  toolName: string;
  /** The name a tools/call gave when the catalog did not know it yet (kept only until its answer). */
  unknownTool: unknown;
  client: ClientFacts;
  protocolVersion: string;
  startedAt: number;
  done: boolean;
  trace: TraceRef | undefined;
}

const monotonicNow = (): number => performance.now();

/**
 * Monitors MCP over HTTP from the outside of a handler, exchange by exchange: the request
 * (its parsed body and headers) and the handler's Response (JSON, or an SSE stream read as
 * it passes). It needs no SDK and no transport, so one mechanism serves the SDK v2's
 * `createMcpHandler` in both eras, a router of the user's own, and a proxy's upstream:
 * - requests that stand alone (2026-07-28, and 2025 stateless) are operations with the
 *   client and protocol version their own `_meta` (or `initialize`) names;
 * - `subscriptions/listen` streams are connections of kind `subscription`;
 * - 2025 sessions seen on the wire (`Mcp-Session-Id`) are connections of kind `session`;
 * - HTTP refusals are counted by reason.
 */
export class HttpExchangeMonitor {
  private readonly tracker: SessionTracker;
  private readonly now: () => number;
  private readonly sessions = new Map<string, WireSession>();
  /** How to cut each listen stream open now. */
  private readonly subscriptions = new Set<() => void>();
  private readonly unwrapped = new WeakMap<FetchHandler, FetchHandler>();
  private readonly idleTimeoutMs: number;
  private reaper: NodeJS.Timeout | undefined;
  private closing = false;
  /** Aborted when shutdown begins: requests still waiting for their answer get a JSON-RPC error. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: HttpExchangeMonitorOptions) {
    this.tracker = options.tracker;
    this.now = options.now ?? Date.now;
    this.idleTimeoutMs = options.sessionIdleTimeoutMs ?? 1_800_000;
    if (this.idleTimeoutMs > 0) {
      const every = Math.min(30_000, Math.max(100, Math.floor(this.idleTimeoutMs / 10)));
      this.reaper = setInterval(() => this.forgetIdle(), every);
      this.reaper.unref();
    }
  }

  /** `handler` with every exchange monitored; the same shape, for toNodeHandler, express or a web runtime. */
  wrap<H extends FetchHandler>(handler: H, facts: (request: Request) => ExchangeFacts = () => UNKNOWN_HTTP): H {
    const fetch = (request: Request, options?: FetchOptions): Promise<Response> =>
      this.exchange(request, facts(request), options?.parsedBody, (forward, parsedBody) => handler.fetch(forward, { ...options, parsedBody }));
    const wrapped = new Proxy(handler, { get: (target, key, receiver) => (key === 'fetch' ? fetch : Reflect.get(target, key, receiver)) as unknown });
    this.unwrapped.set(wrapped, handler);
    return wrapped;
  }

  /** The handler `wrap` was given, when `handler` is one it made: monitoring it twice would count every exchange twice. */
  unwrap(handler: FetchHandler): FetchHandler {
    return this.unwrapped.get(handler) ?? handler;
  }

  /**
   * Answers one exchange through `serve` and records what it was. `parsedBody` is the
   * request's JSON when the caller read it already; otherwise it is read here (from a clone,
   * so the request goes on unread) and handed to `serve`.
   */
  async exchange(
    request: Request,
    http: ExchangeFacts,
    parsedBody: unknown,
    serve: (request: Request, parsedBody: unknown) => Promise<Response>,
  ): Promise<Response> {
    let body = parsedBody;
    if (body === undefined && request.method === 'POST') {
      try {
        body = JSON.parse(await request.clone().text()) as unknown;
      } catch {
        body = undefined; // the handler answers what it cannot parse
      }
    }
    const opened = this.open(webRequest(request), http, body);
    const id = opened.message && isRequest(opened.message) ? (opened.message.id as string | number) : undefined;
    const response = id === undefined ? await serve(request, body) : await untilShutdown(serve(request, body), this.stopping.signal, id);
    const watch = this.answer(opened, request.signal.aborted ? CLIENT_GONE : webHead(response));
    return watch ? carry(response, watch, request.signal, this.stopping.signal) : response;
  }

  /**
   * Shutdown begins: every request still waiting for its answer gets a JSON-RPC error now
   * (as its JSON answer, or as the last frame of its SSE stream), before the handler and the
   * streams are closed. closeAll() does it too; calling it first lets the handler close after.
   */
  answerPending(): void {
    this.stopping.abort();
  }

  /**
   * One exchange carried on node:http streams by `relay` (see NodeRelay), recorded as
   * exchange() records one; `body` is the request's JSON, read already.
   */
  async relay(req: IncomingMessage, http: ExchangeFacts, body: unknown, relay: (answered: (head: AnswerHead) => BodyWatch | undefined) => Promise<void>): Promise<void> {
    const opened = this.open(nodeRequest(req), http, body);
    let heard = false;
    await relay((head) => {
      heard = true;
      return this.answer(opened, head);
    });
    if (!heard) this.answer(opened, CLIENT_GONE);
  }

  /** What the monitor notes of a request before it is answered. */
  private open(request: ExchangeRequest, http: ExchangeFacts, body: unknown): OpenExchange {
    const startedAt = monotonicNow();
    const sessionId = request.header('mcp-session-id');
    const session = sessionId === undefined ? undefined : this.sessions.get(sessionId);
    if (session) this.tracker.touch(session.start.id);
    const message = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as JsonRpcLike) : undefined;
    return { request, http, startedAt, sessionId, session, message };
  }

  /** What an answer means, from its head: recorded now, or the watch that records it as its body passes. */
  private answer(opened: OpenExchange, head: AnswerHead): BodyWatch | undefined {
    const { request, http, startedAt, sessionId, session, message } = opened;
    if (head.status === 499) {
      // The client went away before the answer: a request it left pending, not a refusal.
      if (message && isRequest(message) && request.method === 'POST') {
        const method = mcpMethod(message.method as string);
        if (method !== 'subscriptions/listen') this.record(this.pendingOf(message, method, this.clientOf(message, method, http, request, session), startedAt), OTHER_ERROR);
      }
      return undefined;
    }
    if (head.status >= 400) return this.refused(head, message, sessionId, session);
    if (request.method === 'DELETE') {
      if (sessionId !== undefined && session) this.end(sessionId, 'client_delete');
      return undefined;
    }
    if (request.method === 'GET') return session && isEventStream(head) ? this.followStream(session) : undefined;
    if (!message || !isRequest(message)) return undefined;

    const method = mcpMethod(message.method as string);
    const facts = this.clientOf(message, method, http, request, session);
    if (method === 'subscriptions/listen' && isEventStream(head)) return this.followSubscription(facts);
    const pending = this.pendingOf(message, method, facts, startedAt);
    const answered = (reply: JsonRpcLike): void => {
      if (method === 'initialize' && sessionId === undefined) this.establish(head, facts, reply);
      this.finish(pending, reply);
    };
    if (isEventStream(head)) return this.followAnswer(pending, answered);
    if (!isJson(head)) {
      // Neither JSON nor a stream: no answer the client can use.
      this.record(pending, OTHER_ERROR);
      return undefined;
    }
    return {
      whole: (text) => {
        const reply = parseMessage(text);
        if (reply && isResponse(reply) && reply.id === pending.id) answered(reply);
        else this.record(pending, OTHER_ERROR);
      },
    };
  }

  private pendingOf(message: JsonRpcLike, method: string, facts: { client: ClientFacts; protocolVersion: string }, startedAt: number): PendingOperation {
    const toolName = method === 'tools/call' ? this.tracker.tools.resolve(message.params?.name) : '';
    return {
      id: message.id as string | number,
      method,
      toolName,
      unknownTool: toolName === OVERFLOW_LABEL ? message.params?.name : undefined,
      client: facts.client,
      protocolVersion: facts.protocolVersion,
      startedAt,
      done: false,
      trace: traceOf(message.params?._meta),
    };
  }

  /**
   * Ends every connection the monitor holds (reason server_shutdown) and stops its timer.
   * Listen streams the handler is ending by itself (the SDK v2's close() sends a last frame)
   * get up to `graceMs` to finish; the rest are cut.
   */
  async closeAll(graceMs = 1000): Promise<void> {
    this.answerPending();
    this.closing = true;
    if (this.reaper) clearInterval(this.reaper);
    await Promise.all([...this.sessions.keys()].map((id) => this.end(id, 'server_shutdown')));
    const until = Date.now() + graceMs;
    while (this.subscriptions.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const cut of [...this.subscriptions]) cut();
    // Let the last frames reach their sockets before the listener closes them.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** 2025 sessions it follows now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private clientOf(
    message: JsonRpcLike,
    method: string,
    http: ExchangeFacts,
    request: ExchangeRequest,
    session: WireSession | undefined,
  ): { client: ClientFacts; protocolVersion: string } {
    if (session) return { client: session.start, protocolVersion: session.start.protocolVersion };
    const params = message.params as { _meta?: Record<string, unknown>; clientInfo?: unknown; protocolVersion?: unknown } | undefined;
    const meta = params?._meta;
    const claimed = meta?.[META_VERSION];
    const info = (typeof claimed === 'string' ? meta?.[META_CLIENT] : method === 'initialize' ? params?.clientInfo : undefined) as
      | { name?: unknown; version?: unknown }
      | undefined;
    const version =
      typeof claimed === 'string'
        ? claimed
        : method === 'initialize' && typeof params?.protocolVersion === 'string'
          ? params.protocolVersion
          : (request.header('mcp-protocol-version') ?? '');
    return {
      client: {
        clientName: boundedText(info?.name),
        clientVersion: boundedText(info?.version),
        clientIP: http.clientIP,
        userAgent: http.userAgent,
        ...(http.authClientId !== undefined ? { authClientId: http.authClientId } : {}),
      },
      protocolVersion: boundedText(version, 32),
    };
  }

  /** A 4xx or 5xx: counted by reason when it is a refusal (not when a session's server said it no longer knows it). */
  private refused(head: AnswerHead, message: JsonRpcLike | undefined, sessionId: string | undefined, session: WireSession | undefined): BodyWatch | undefined {
    if (head.status === 404 && sessionId !== undefined) {
      if (session) this.end(sessionId, 'transport_error');
      this.tracker.reject('unknown_session');
      return undefined;
    }
    if (head.status === 413) {
      this.tracker.reject('payload_too_large');
      return undefined;
    }
    // The server's auth said no (the SDK's bearer auth answers OAuth JSON, not JSON-RPC).
    if (head.status === 401 || (head.status === 403 && head.header('www-authenticate') !== undefined)) {
      this.tracker.reject('unauthorized');
      return undefined;
    }
    if (head.status >= 500) return undefined;
    // The code is in the (small) JSON body.
    return {
      whole: (text) => {
        const code = parseMessage(text)?.error?.code;
        this.tracker.reject((typeof code === 'number' ? REFUSALS.get(code) : undefined) ?? (message ? 'invalid_request' : 'parse_error'));
      },
    };
  }

  /** An initialize answered with a session id: a 2025 session the server keeps, followed on the wire from now. */
  private establish(head: AnswerHead, facts: { client: ClientFacts; protocolVersion: string }, reply: JsonRpcLike): void {
    const sessionId = head.header('mcp-session-id');
    if (sessionId === undefined || reply.error !== undefined || this.sessions.has(sessionId)) return;
    const negotiated = (reply.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    const start: ConnectionStart = {
      id: sessionRef(sessionId),
      kind: 'session',
      transport: 'streamable_http',
      ...facts.client,
      protocolVersion: typeof negotiated === 'string' ? boundedText(negotiated, 32) : facts.protocolVersion,
    };
    this.sessions.set(sessionId, { start, streams: 0 });
    this.tracker.establish(start);
  }

  private end(sessionId: string, reason: CloseReason): Promise<void> | void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    this.tracker.close(session.start.id, reason);
    if (reason === 'idle_timeout' || reason === 'server_shutdown') return this.options.endSession?.(sessionId, session.start.protocolVersion);
  }

  private forgetIdle(): void {
    const cutoff = this.now() - this.idleTimeoutMs;
    for (const [sessionId, session] of this.sessions) {
      if (session.streams > 0) continue;
      const last = this.tracker.lastActivityAt(session.start.id);
      if (last !== undefined && last < cutoff) void this.end(sessionId, 'idle_timeout');
    }
  }

  private finish(pending: PendingOperation, reply: JsonRpcLike): void {
    if (pending.method === 'tools/list' && reply.result !== undefined) this.tracker.tools.offer(reply.result.tools);
    this.record(pending, errorTypeOf(pending.method, reply));
  }

  private record(pending: PendingOperation, errorType: string): void {
    if (pending.done) return;
    pending.done = true;
    this.tracker.recordOperation({
      transport: 'streamable_http',
      method: pending.method,
      toolName: pending.unknownTool !== undefined && errorType === '' ? this.tracker.tools.confirm(pending.unknownTool) : pending.toolName,
      protocolVersion: pending.protocolVersion,
      client: pending.client,
      errorType,
      durationSeconds: (monotonicNow() - pending.startedAt) / 1000,
      trace: pending.trace,
    });
  }

  /** An answer streamed as SSE: the operation ends with the frame that carries its response, or `_OTHER` if the stream ends first. */
  private followAnswer(pending: PendingOperation, answered: (reply: JsonRpcLike) => void): BodyWatch {
    const frames = new SseFrames();
    return {
      lastWords: () => (pending.done ? undefined : `event: message\ndata: ${shutdownError(pending.id)}\n\n`),
      chunk: (text) => {
        for (const data of frames.push(text)) {
          if (pending.done || !data.includes('"id"')) continue;
          const reply = parseMessage(data);
          if (reply && isResponse(reply) && reply.id === pending.id) answered(reply);
        }
      },
      end: () => this.record(pending, OTHER_ERROR),
    };
  }

  /** A session's GET stream: the session stays alive while it is open. */
  private followStream(session: WireSession): BodyWatch {
    session.streams += 1;
    return {
      end: () => {
        session.streams -= 1;
        this.tracker.touch(session.start.id, false);
      },
    };
  }

  /** A `subscriptions/listen` stream: a connection of kind subscription for as long as it is open. */
  private followSubscription(facts: { client: ClientFacts; protocolVersion: string }): BodyWatch {
    const start: ConnectionStart = {
      id: randomBytes(6).toString('hex'),
      kind: 'subscription',
      transport: 'streamable_http',
      ...facts.client,
      protocolVersion: facts.protocolVersion,
    };
    this.tracker.establish(start);
    let reason: CloseReason = 'server_shutdown';
    let cut: (() => void) | undefined;
    return {
      chunk: () => void this.tracker.touch(start.id, false),
      cancel: () => {
        reason = 'client_delete';
      },
      hold: (how) => {
        cut = how;
        this.subscriptions.add(how);
      },
      end: () => {
        if (cut) this.subscriptions.delete(cut);
        this.tracker.close(start.id, this.closing ? 'server_shutdown' : reason);
      },
    };
  }
}

/** What the monitor noted of a request before its answer. */
interface OpenExchange {
  request: ExchangeRequest;
  http: ExchangeFacts;
  startedAt: number;
  sessionId: string | undefined;
  session: WireSession | undefined;
  message: JsonRpcLike | undefined;
}

const UNKNOWN_HTTP: ExchangeFacts = Object.freeze({ clientIP: 'unknown', userAgent: '' });

function mediaType(head: AnswerHead): string {
  return (head.header('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

const isEventStream = (head: AnswerHead): boolean => mediaType(head) === 'text/event-stream';
const isJson = (head: AnswerHead): boolean => mediaType(head) === 'application/json';

const webRequest = (request: Request): ExchangeRequest => ({ method: request.method.toUpperCase(), header: (name) => request.headers.get(name) ?? undefined });
const webHead = (response: Response): AnswerHead => ({ status: response.status, header: (name) => response.headers.get(name) ?? undefined });

function nodeRequest(req: IncomingMessage): ExchangeRequest {
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    },
  };
}

function parseMessage(text: string): JsonRpcLike | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRpcLike) : undefined;
  } catch {
    return undefined;
  }
}

/** What a request still waiting at shutdown is answered with. */
const shutdownError = (id: string | number): string => JSON.stringify({ jsonrpc: '2.0', id, error: SHUTTING_DOWN });

/** The handler's answer, or a JSON-RPC error if shutdown begins first (the handler's late answer is let go). */
async function untilShutdown(served: Promise<Response>, stopping: AbortSignal, id: string | number): Promise<Response> {
  let stop: () => void = () => {};
  const stopped = new Promise<{ response: Response; late: boolean }>((resolve) => {
    stop = () => resolve({ response: new Response(shutdownError(id), { status: 200, headers: { 'content-type': 'application/json' } }), late: true });
    if (stopping.aborted) stop();
    else stopping.addEventListener('abort', stop, { once: true });
  });
  const first = await Promise.race([served.then((response) => ({ response, late: false })), stopped]);
  stopping.removeEventListener('abort', stop);
  if (first.late) void served.then((late) => late.body?.cancel()).catch(() => {});
  return first.response;
}

/** The response, its body watched as it passes: read whole first (small JSON), or passed through chunk by chunk. */
async function carry(response: Response, watch: BodyWatch, signal: AbortSignal, stopping?: AbortSignal): Promise<Response> {
  if (!watch.whole) return passThrough(response, watch, signal, stopping);
  let text = '';
  try {
    text = response.body === null ? '' : await response.text();
  } catch {
    // The body failed: the watch sees what arrived, which is nothing.
  }
  watch.whole(text);
  watch.end?.();
  return new Response(response.body === null ? null : text, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** The response with its body passed through unchanged while `watch` sees it go by. */
function passThrough(response: Response, watch: BodyWatch, signal: AbortSignal, stopping?: AbortSignal): Response {
  const source = response.body;
  if (source === null) {
    watch.end?.();
    return response;
  }
  const reader = source.getReader();
  const decoder = watch.chunk ? new TextDecoder() : undefined;
  const cancelled = (): void => watch.cancel?.();
  if (watch.cancel) signal.addEventListener('abort', cancelled, { once: true });
  watch.hold?.(() => void reader.cancel().catch(() => {}));
  let over = false;
  let streamController: ReadableStreamDefaultController<Uint8Array> | undefined;
  let saidLastWords = false;
  // At shutdown an answer still pending gets its error as the stream's last frame.
  const lastWords = (): void => {
    const frame = watch.lastWords?.();
    if (frame === undefined || over || !streamController) return;
    saidLastWords = true;
    watch.chunk?.(frame);
    streamController.enqueue(new TextEncoder().encode(frame));
    finish();
    streamController.close();
    void reader.cancel().catch(() => {});
  };
  if (stopping && watch.lastWords) stopping.addEventListener('abort', lastWords, { once: true });
  const finish = (): void => {
    if (over) return;
    over = true;
    signal.removeEventListener('abort', cancelled);
    stopping?.removeEventListener('abort', lastWords);
    watch.end?.();
  };
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => {
      streamController = controller;
    },
    pull: async (controller) => {
      try {
        const { done, value } = await reader.read();
        // Ended at shutdown while this read waited: the stream is closed already, its last frame queued.
        if (saidLastWords) return;
        if (done) {
          finish();
          controller.close();
          return;
        }
        if (decoder) watch.chunk?.(decoder.decode(value, { stream: true }));
        controller.enqueue(value);
      } catch (error) {
        if (saidLastWords) return;
        finish();
        controller.error(error);
      }
    },
    cancel: async (why) => {
      watch.cancel?.();
      finish();
      await reader.cancel(why).catch(() => {});
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** Splits an SSE byte stream (as text) into the `data` of each event, across chunk boundaries. */
class SseFrames {
  private partial = '';

  push(text: string): string[] {
    this.partial += text;
    const events: string[] = [];
    let boundary: RegExpExecArray | null;
    while ((boundary = /\r?\n\r?\n/.exec(this.partial)) !== null) {
      const raw = this.partial.slice(0, boundary.index);
      this.partial = this.partial.slice(boundary.index + boundary[0].length);
      const data = raw
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(line[5] === ' ' ? 6 : 5))
        .join('\n');
      if (data !== '') events.push(data);
    }
    return events;
  }
}
