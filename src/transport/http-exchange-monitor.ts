import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { boundedText } from '../core/bounded-text.js';
import { OVERFLOW_LABEL } from '../core/label-cap.js';
import { mcpMethod } from '../core/mcp-methods.js';
import { sessionRef } from '../core/session-ref.js';
import type { ConnectionStart, SessionTracker } from '../core/session-tracker.js';
import { OTHER_ERROR, type ClientFacts, type CloseReason, type RejectReason } from '../core/types.js';
import { errorTypeOf, isRequest, isResponse, type JsonRpcLike } from './jsonrpc-outcome.js';

/** A web-standard MCP handler: what the SDK v2's createMcpHandler returns (its `fetch`), or anything alike. */
export interface FetchHandler {
  fetch(request: Request, options?: FetchOptions): Promise<Response>;
}

/** What the SDK v2's handler takes beside the request. */
export interface FetchOptions {
  authInfo?: unknown;
  parsedBody?: unknown;
}

/** What the exchange monitor knows of the HTTP request before the handler answers it. */
export interface ExchangeFacts {
  /** Masked, trusted proxies resolved; 'unknown' when the runtime does not tell. */
  clientIP: string;
  /** At most 256 characters. */
  userAgent: string;
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
  private readonly subscriptions = new Set<ReadableStreamDefaultReader<Uint8Array>>();
  private readonly unwrapped = new WeakMap<FetchHandler, FetchHandler>();
  private readonly idleTimeoutMs: number;
  private reaper: NodeJS.Timeout | undefined;
  private closing = false;

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
    const startedAt = monotonicNow();
    const sessionId = request.headers.get('mcp-session-id') ?? undefined;
    const session = sessionId === undefined ? undefined : this.sessions.get(sessionId);
    if (session) this.tracker.touch(session.start.id);
    const message = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as JsonRpcLike) : undefined;
    const response = await serve(request, body);

    if (request.signal.aborted || response.status === 499) {
      // The client went away before the answer: a request it left pending, not a refusal.
      if (message && isRequest(message) && request.method === 'POST') {
        const method = mcpMethod(message.method as string);
        if (method !== 'subscriptions/listen') this.record(this.pendingOf(message, method, this.clientOf(message, method, http, request, session), startedAt), OTHER_ERROR);
      }
      return response;
    }
    if (response.status >= 400) {
      this.refused(response, message, sessionId, session);
      return response;
    }
    if (request.method === 'DELETE') {
      if (sessionId !== undefined && session) this.end(sessionId, 'client_delete');
      return response;
    }
    if (request.method === 'GET') return session ? this.followStream(response, session) : response;
    if (!message || !isRequest(message)) return response;

    const method = mcpMethod(message.method as string);
    const facts = this.clientOf(message, method, http, request, session);
    if (method === 'subscriptions/listen' && isEventStream(response)) return this.followSubscription(response, request, facts);
    const pending = this.pendingOf(message, method, facts, startedAt);
    const answered = (reply: JsonRpcLike): void => {
      if (method === 'initialize' && sessionId === undefined) this.establish(response, facts, reply);
      this.finish(pending, reply);
    };
    if (isEventStream(response)) return this.followAnswer(response, pending, answered);
    if (!isJson(response) || response.body === null) return response;
    const text = await response.text();
    const reply = parseMessage(text);
    if (reply && isResponse(reply) && reply.id === pending.id) answered(reply);
    else this.record(pending, OTHER_ERROR);
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
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
    };
  }

  /**
   * Ends every connection the monitor holds (reason server_shutdown) and stops its timer.
   * Listen streams the handler is ending by itself (the SDK v2's close() sends a last frame)
   * get up to `graceMs` to finish; the rest are cut.
   */
  async closeAll(graceMs = 1000): Promise<void> {
    this.closing = true;
    if (this.reaper) clearInterval(this.reaper);
    await Promise.all([...this.sessions.keys()].map((id) => this.end(id, 'server_shutdown')));
    const until = Date.now() + graceMs;
    while (this.subscriptions.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const reader of [...this.subscriptions]) void reader.cancel().catch(() => {});
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
    request: Request,
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
          : (request.headers.get('mcp-protocol-version') ?? '');
    return {
      client: { clientName: boundedText(info?.name), clientVersion: boundedText(info?.version), clientIP: http.clientIP, userAgent: http.userAgent },
      protocolVersion: boundedText(version, 32),
    };
  }

  /** A 4xx or 5xx: counted by reason when it is a refusal (not when a session's server said it no longer knows it). */
  private refused(response: Response, message: JsonRpcLike | undefined, sessionId: string | undefined, session: WireSession | undefined): void {
    if (response.status === 404 && sessionId !== undefined) {
      if (session) this.end(sessionId, 'transport_error');
      this.tracker.reject('unknown_session');
      return;
    }
    if (response.status === 413) return this.tracker.reject('payload_too_large');
    if (response.status >= 500) return;
    // The code is in the (small) JSON body; read it from a clone, leaving the answer whole.
    void response
      .clone()
      .text()
      .then((text) => {
        const code = parseMessage(text)?.error?.code;
        this.tracker.reject((typeof code === 'number' ? REFUSALS.get(code) : undefined) ?? (message ? 'invalid_request' : 'parse_error'));
      })
      .catch(() => this.tracker.reject('invalid_request'));
  }

  /** An initialize answered with a session id: a 2025 session the server keeps, followed on the wire from now. */
  private establish(response: Response, facts: { client: ClientFacts; protocolVersion: string }, reply: JsonRpcLike): void {
    const sessionId = response.headers.get('mcp-session-id');
    if (sessionId === null || reply.error !== undefined || this.sessions.has(sessionId)) return;
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
    });
  }

  /** An answer streamed as SSE: the operation ends with the frame that carries its response, or `_OTHER` if the stream ends first. */
  private followAnswer(response: Response, pending: PendingOperation, answered: (reply: JsonRpcLike) => void): Response {
    const frames = new SseFrames();
    return passThrough(response, {
      chunk: (text) => {
        for (const data of frames.push(text)) {
          if (pending.done || !data.includes('"id"')) continue;
          const reply = parseMessage(data);
          if (reply && isResponse(reply) && reply.id === pending.id) answered(reply);
        }
      },
      end: () => this.record(pending, OTHER_ERROR),
    });
  }

  /** A session's GET stream: the session stays alive while it is open. */
  private followStream(response: Response, session: WireSession): Response {
    if (!isEventStream(response)) return response;
    session.streams += 1;
    return passThrough(response, {
      end: () => {
        session.streams -= 1;
        this.tracker.touch(session.start.id, false);
      },
    });
  }

  /** A `subscriptions/listen` stream: a connection of kind subscription for as long as it is open. */
  private followSubscription(response: Response, request: Request, facts: { client: ClientFacts; protocolVersion: string }): Response {
    const start: ConnectionStart = {
      id: randomBytes(6).toString('hex'),
      kind: 'subscription',
      transport: 'streamable_http',
      ...facts.client,
      protocolVersion: facts.protocolVersion,
    };
    this.tracker.establish(start);
    let reason: CloseReason = 'server_shutdown';
    const clientLeft = (): void => {
      reason = 'client_delete';
    };
    request.signal.addEventListener('abort', clientLeft, { once: true });
    return passThrough(
      response,
      {
        chunk: () => void this.tracker.touch(start.id, false),
        cancel: clientLeft,
        end: () => {
          request.signal.removeEventListener('abort', clientLeft);
          this.tracker.close(start.id, this.closing ? 'server_shutdown' : reason);
        },
      },
      this.subscriptions,
    );
  }
}

const UNKNOWN_HTTP: ExchangeFacts = Object.freeze({ clientIP: 'unknown', userAgent: '' });

function mediaType(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

const isEventStream = (response: Response): boolean => response.body !== null && mediaType(response) === 'text/event-stream';
const isJson = (response: Response): boolean => mediaType(response) === 'application/json';

function parseMessage(text: string): JsonRpcLike | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRpcLike) : undefined;
  } catch {
    return undefined;
  }
}

interface StreamWatch {
  /** Each chunk as text, as it passes. */
  chunk?: (text: string) => void;
  /** The reader of the response (the client, or its adapter) cancelled it. */
  cancel?: () => void;
  /** The stream is over: ended, failed or cancelled. Called once. */
  end: () => void;
}

/** The response with its body passed through unchanged while `watch` sees it go by. */
function passThrough(response: Response, watch: StreamWatch, readers?: Set<ReadableStreamDefaultReader<Uint8Array>>): Response {
  const source = response.body;
  if (source === null) {
    watch.end();
    return response;
  }
  const reader = source.getReader();
  readers?.add(reader);
  const decoder = watch.chunk ? new TextDecoder() : undefined;
  let over = false;
  const finish = (): void => {
    if (over) return;
    over = true;
    readers?.delete(reader);
    watch.end();
  };
  const body = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      try {
        const { done, value } = await reader.read();
        if (done) {
          finish();
          controller.close();
          return;
        }
        if (decoder) watch.chunk?.(decoder.decode(value, { stream: true }));
        controller.enqueue(value);
      } catch (error) {
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
