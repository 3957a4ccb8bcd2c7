import { performance } from 'node:perf_hooks';
import { boundedText } from '../core/bounded-text.js';
import { OVERFLOW_LABEL } from '../core/label-cap.js';
import { mcpMethod } from '../core/mcp-methods.js';
import { sessionRef } from '../core/session-ref.js';
import type { SessionTracker } from '../core/session-tracker.js';
import { traceOf, type TraceRef } from '../core/trace-context.js';
import { OTHER_ERROR, type ClientFacts } from '../core/types.js';
import { claimedVersion, META_CLIENT_INFO } from '../transport/era.js';
import { JSONRPC, jsonRpcErrorText, SHUTTING_DOWN } from '../transport/http-answers.js';
import { errorTypeOf, errorTypeOfOutcome, isResponse, type JsonRpcLike } from '../transport/jsonrpc-outcome.js';
import { isOperationError, refusalOfBody } from '../transport/refusals.js';
import { classifyAnswer, readWebRequest, type RequestRead } from './classifier.js';
import {
  CLIENT_GONE,
  isEventStream,
  jsonHead,
  UNKNOWN_HTTP,
  webHead,
  type AnswerHead,
  type BodyWatch,
  type ExchangeFacts,
  type FetchHandler,
  type FetchOptions,
} from './exchange.js';
import { ListenStreams } from './listen-streams.js';
import { outcomeOf } from './outcome.js';
import { messagesIn, SseFrames } from './sse-frames.js';
import { StatelessClients, type KnownClient } from './stateless-clients.js';
import { carry, Shutdown, untilShutdown } from './watched-response.js';
import { WireSessions, type WireSession } from './wire-sessions.js';

export interface HttpExchangeMonitorOptions {
  tracker: SessionTracker;
  /** Forget a 2025 session seen on the wire after this long without a request, in ms; 0 never does. @default 1800000 */
  sessionIdleTimeoutMs?: number;
  /** Epoch milliseconds (idle timeouts, the stateless clients' window). @default Date.now */
  now?: () => number;
  /** Monotonic milliseconds, for operation durations. @default performance.now */
  clock?: () => number;
  /**
   * Called when the monitor lets go of a 2025 session the client did not end (idle, or at
   * shutdown): a proxy ends it upstream. closeAll() waits for what it returns. @default none
   */
  endSession?: (sessionId: string, protocolVersion: string) => Promise<void> | void;
}

/** One JSON-RPC request being answered: what its operation is recorded with. */
interface PendingOperation {
  id: string | number;
  method: string;
  toolName: string;
  /** The name a tools/call gave when the catalog did not know it yet (kept only until its answer). */
  unknownTool: unknown;
  client: ClientFacts;
  /** The version it is served under; an initialize's becomes the negotiated one with its answer. */
  protocolVersion: string;
  startedAt: number;
  done: boolean;
  trace: TraceRef | undefined;
  /** The 2025 session it came in (for its span only). */
  sessionId: string | undefined;
}

/** What the monitor noted of a request before its answer. */
interface OpenExchange {
  read: RequestRead;
  http: ExchangeFacts;
  startedAt: number;
  session: WireSession | undefined;
}

const monotonic = (): number => performance.now();

/** What a handler that failed is answered with (see serveNode). */
export const INTERNAL_ERROR = jsonRpcErrorText(null, JSONRPC.internalError, 'Internal server error');

/**
 * Monitors MCP over HTTP from the outside of a handler, exchange by exchange: the request
 * (its parsed body and headers) and the handler's answer (JSON, or an SSE stream read as it
 * passes). It needs no SDK and no transport, so one mechanism serves the SDK v2's
 * `createMcpHandler` in both eras, a router of the user's own, and a proxy's upstream. What
 * an exchange means is the classifier's verdict; this class keeps what lasts beyond one
 * exchange: 2025 sessions seen on the wire, listen streams, the clients of stateless servers.
 */
export class HttpExchangeMonitor {
  private readonly tracker: SessionTracker;
  private readonly clock: () => number;
  private readonly sessions: WireSessions;
  private readonly listens: ListenStreams;
  private readonly stateless: StatelessClients;
  private readonly unwrapped = new WeakMap<FetchHandler, FetchHandler>();
  /** Begun when shutdown begins: requests still waiting for their answer get a JSON-RPC error. */
  private readonly shutdown = new Shutdown();

  constructor(options: HttpExchangeMonitorOptions) {
    this.tracker = options.tracker;
    this.clock = options.clock ?? monotonic;
    const now = options.now ?? Date.now;
    const idleTimeoutMs = options.sessionIdleTimeoutMs ?? 1_800_000;
    this.sessions = new WireSessions({ tracker: this.tracker, idleTimeoutMs, now, endSession: options.endSession });
    this.listens = new ListenStreams(this.tracker, this.clock);
    this.stateless = new StatelessClients({ now, windowMs: idleTimeoutMs > 0 ? idleTimeoutMs : undefined });
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
   * request's JSON when the caller read it already; otherwise it is read here and handed to
   * `serve` with the request, whose body can still be read (see withBody).
   */
  async exchange(
    given: Request,
    http: ExchangeFacts,
    parsedBody: unknown,
    serve: (request: Request, parsedBody: unknown) => Promise<Response>,
  ): Promise<Response> {
    let request = given;
    let body = parsedBody;
    if (body === undefined && request.method === 'POST') {
      // A body that is not JSON is the handler's to answer; one that failed to arrive, the request's as it is.
      const text = await request.text().catch(() => undefined);
      if (text !== undefined) {
        body = parseJson(text);
        request = withBody(request, text);
      }
    }
    const opened = this.open(readWebRequest(given, body), http);
    const only = opened.read.requests.length === 1 ? opened.read.requests[0] : undefined;
    let response: Response;
    try {
      const served = serve(request, body);
      response = only ? await untilShutdown(served, this.shutdown, only.id ?? null) : await served;
    } catch (error) {
      // The handler failed: its requests end as the 500 the caller answers them with.
      this.answer(opened, jsonHead(500))?.whole?.(INTERNAL_ERROR);
      throw error;
    }
    const watch = this.answer(opened, given.signal.aborted ? CLIENT_GONE : webHead(response));
    return watch ? carry(response, watch, given.signal, this.shutdown) : response;
  }

  /**
   * One exchange carried on node:http streams, or on the proxy's own connections, by `relay`
   * (see NodeRelay), recorded as exchange() records one; `read` is the request read already.
   */
  async relay(read: RequestRead, http: ExchangeFacts, relay: (answered: (head: AnswerHead) => BodyWatch | undefined) => Promise<void>): Promise<void> {
    const answered = this.watchRequest(read, http);
    let heard = false;
    await relay((head) => {
      heard = true;
      return answered(head);
    });
    if (!heard) answered(CLIENT_GONE);
  }

  /**
   * Notes a request read already (off node:http, or the proxy's front door); the function it
   * returns is to be called once with the head of its answer (CLIENT_GONE when the client
   * left first), and gives the watch for the answer's body. The cheapest way in: no promise,
   * no web Request.
   */
  watchRequest(read: RequestRead, http: ExchangeFacts): (head: AnswerHead) => BodyWatch | undefined {
    const opened = this.open(read, http);
    return (head) => this.answer(opened, head);
  }

  /**
   * Shutdown begins: every request still waiting for its answer gets a JSON-RPC error now
   * (as its JSON answer, or as the last frame of its SSE stream), before the handler and the
   * streams are closed. closeAll() does it too; calling it first lets the handler close after.
   */
  answerPending(): void {
    this.shutdown.begin();
  }

  /**
   * Ends every connection the monitor holds (reason server_shutdown). Listen streams the
   * handler is ending by itself (the SDK v2's close() sends a last frame) get up to
   * `graceMs` to finish; the rest are cut. Resolves once all have ended.
   */
  async closeAll(graceMs = 1000): Promise<void> {
    this.answerPending();
    await Promise.all([this.sessions.closeAll(), this.listens.closeAll(graceMs)]);
    // Let the last frames reach their sockets before the listener closes them.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * The server behind ended a 2025 session by itself (a proxy's stdio child exited): it is
   * closed as transport_error now, not at the client's next request.
   */
  sessionGone(sessionId: string): void {
    void this.sessions.end(sessionId, 'transport_error');
  }

  /** 2025 sessions it follows now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** What the monitor notes of a request before it is answered. */
  private open(read: RequestRead, http: ExchangeFacts): OpenExchange {
    const startedAt = this.clock();
    const session = read.sessionId === undefined ? undefined : this.sessions.get(read.sessionId);
    if (session) this.sessions.touch(session);
    return { read, http, startedAt, session };
  }

  /** What an answer means, from its head: recorded now, or the watch that records it as its body passes. */
  private answer(opened: OpenExchange, head: AnswerHead): BodyWatch | undefined {
    const { read, session } = opened;
    const verdict = classifyAnswer(read, head, session !== undefined);
    switch (verdict.kind) {
      case 'none':
        return undefined;
      case 'refused':
        // A session the server no longer knows ends first: the refusal is of a request to no session.
        if (verdict.endsSession && read.sessionId !== undefined) void this.sessions.end(read.sessionId, 'transport_error');
        this.tracker.reject(verdict.reason);
        return undefined;
      case 'refused_by_body':
        // The reason is in the (small) body.
        return { whole: (text) => this.refusedByBody(opened, head, text) };
      case 'session_ended':
        if (read.sessionId !== undefined) void this.sessions.end(read.sessionId, 'client_delete');
        return undefined;
      case 'session_stream':
        return session ? this.sessions.followStream(session) : undefined;
      case 'listen': {
        const only = read.requests[0] as JsonRpcLike;
        const { client, protocolVersion } = this.clientOf(only, opened);
        return this.listens.follow(client, protocolVersion, { id: only.id as string | number, startedAt: opened.startedAt, trace: traceOf(only.params?._meta) });
      }
      case 'client_gone':
        for (const message of read.requests) if (message.method !== 'subscriptions/listen') this.record(this.pendingOf(message, opened), OTHER_ERROR);
        return undefined;
      case 'unusable':
        for (const message of read.requests) this.record(this.pendingOf(message, opened), OTHER_ERROR);
        return undefined;
      case 'failed': {
        const pending = read.requests.map((message) => this.pendingOf(message, opened));
        return {
          whole: (text) => {
            const code = errorCodeIn(text, head);
            for (const operation of pending) this.record(operation, code === undefined ? OTHER_ERROR : String(code));
          },
          // A body that never came whole: no code to read.
          end: () => this.answerOver(pending),
        };
      }
      case 'answer':
        return this.followAnswer(opened, head, verdict.streamed);
    }
  }

  /**
   * A 4xx whose reason is in its body: a refusal by its JSON-RPC code and text, or, for an
   * error that answers the request's own id with an operation's outcome (an unknown method),
   * that request's operation.
   */
  private refusedByBody(opened: OpenExchange, head: AnswerHead, text: string): void {
    const { read } = opened;
    const reply = messagesIn<JsonRpcLike>(text, isEventStream(head))[0];
    const code = typeof reply?.error?.code === 'number' ? reply.error.code : undefined;
    const request = reply?.id === undefined || reply.id === null ? undefined : read.requests.find((message) => message.id === reply.id);
    if (request !== undefined && isOperationError(code)) {
      this.record(this.pendingOf(request, opened), String(code));
      return;
    }
    this.tracker.reject(refusalOfBody(read, head.status, { code, mentionsSession: /session/i.test(text.slice(0, 1024)) }));
  }

  /** The answer to the exchange's requests: each operation ends with the response of its id, or `_OTHER` if the body ends first. */
  private followAnswer(opened: OpenExchange, head: AnswerHead, streamed: boolean): BodyWatch {
    const requests = opened.read.requests;
    const pending = requests.length === 1 ? [this.pendingOf(requests[0] as JsonRpcLike, opened)] : requests.map((message) => this.pendingOf(message, opened));
    return streamed ? new StreamedAnswer(this, opened, head, pending) : new JsonAnswer(this, opened, head, pending);
  }

  /**
   * A response of the exchange, as its text: its operation ends with it. Only a tools/list's
   * result is read whole (the tools it lists); the rest need their outcome alone (outcome.ts),
   * an initialize's with the version it negotiated. Parsing an initialize's answer built its
   * capabilities and server facts for that one string: 1.7 times the scanner's time in a
   * loop, and an eighth of the monitor's own time for a session in a profile of the SDK v1
   * server (perf, 9,000 sessions).
   */
  answeredWithText(opened: OpenExchange, head: AnswerHead, pending: readonly PendingOperation[], text: string): void {
    if (pending.some(readsResult) || text.charCodeAt(0) === 91 /* [ a batch's answers */) {
      const value = parseJson(text);
      for (const reply of Array.isArray(value) ? value : [value]) if (isReplyLike(reply)) this.answeredWith(opened, head, pending, reply);
      return;
    }
    const outcome = outcomeOf(text);
    if (outcome === undefined) return;
    for (const operation of pending) {
      if (operation.done || operation.id !== outcome.id) continue;
      if (operation.method === 'initialize') this.initialized(opened, head, operation, outcome.errorCode !== undefined, outcome.protocolVersion);
      this.record(operation, errorTypeOfOutcome(operation.method, outcome));
      return;
    }
  }

  /** The answer is over: what it did not answer is `_OTHER`. */
  answerOver(pending: readonly PendingOperation[]): void {
    for (const operation of pending) this.record(operation, OTHER_ERROR);
  }

  /** A response read whole (an initialize's, a tools/list's, a batch's): its operation ends with it. */
  private answeredWith(opened: OpenExchange, head: AnswerHead, pending: readonly PendingOperation[], reply: JsonRpcLike): void {
    const operation = pending.find((candidate) => !candidate.done && candidate.id === reply.id);
    if (operation === undefined) return;
    if (operation.method === 'initialize') {
      const negotiated = (reply.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
      this.initialized(opened, head, operation, reply.error !== undefined, typeof negotiated === 'string' ? negotiated : undefined);
    }
    if (operation.method === 'tools/list' && reply.result !== undefined) this.tracker.tools.offer(reply.result.tools);
    this.record(operation, errorTypeOf(operation.method, reply));
  }

  /**
   * An initialize answered: its operation carries the negotiated version; a session id in the
   * answer starts a 2025 session followed on the wire; a stateless server's client is
   * remembered, so the requests after it keep its name.
   */
  private initialized(opened: OpenExchange, head: AnswerHead, operation: PendingOperation, failed: boolean, negotiated: string | undefined): void {
    if (opened.session !== undefined || failed) return;
    if (negotiated !== undefined) operation.protocolVersion = boundedText(negotiated, 32);
    const known: KnownClient = { client: operation.client, protocolVersion: operation.protocolVersion };
    const sessionId = head.header('mcp-session-id');
    if (sessionId === undefined) {
      this.stateless.remember(opened.http, known);
      return;
    }
    const start = { id: sessionRef(sessionId), kind: 'session' as const, transport: 'streamable_http' as const, ...known.client, protocolVersion: known.protocolVersion };
    this.sessions.establish(sessionId, start);
    // The session's operations name its one facts object from now on (and so does this one).
    operation.client = start;
    // Its span names the session it made, as a hosted server's does.
    operation.sessionId = sessionId;
  }

  private pendingOf(message: JsonRpcLike, opened: OpenExchange): PendingOperation {
    const method = mcpMethod(message.method as string);
    const toolName = method === 'tools/call' ? this.tracker.tools.resolve(message.params?.name) : '';
    const { client, protocolVersion } = this.clientOf(message, opened);
    return {
      id: message.id as string | number,
      method,
      toolName,
      unknownTool: toolName === OVERFLOW_LABEL ? message.params?.name : undefined,
      client,
      protocolVersion,
      startedAt: opened.startedAt,
      done: false,
      trace: traceOf(message.params?._meta),
      sessionId: opened.session === undefined ? undefined : opened.read.sessionId,
    };
  }

  /**
   * Who sent a message, and under which version: its session's facts; its own `_meta`
   * (2026-07-28); its initialize's clientInfo; a stateless client known from its initialize;
   * or an unnamed client at the version its header says.
   */
  private clientOf(message: JsonRpcLike, opened: OpenExchange): KnownClient {
    const { session, http, read } = opened;
    if (session) return session.known;
    const claimed = claimedVersion(message);
    const initialize = claimed === undefined && message.method === 'initialize';
    if (claimed === undefined && !initialize && read.sessionId === undefined) {
      const known = this.stateless.recall(http);
      if (known) return known;
    }
    const params = message.params as { _meta?: Record<string, unknown>; clientInfo?: unknown; protocolVersion?: unknown } | undefined;
    const info = (claimed !== undefined ? params?._meta?.[META_CLIENT_INFO] : initialize ? params?.clientInfo : undefined) as { name?: unknown; version?: unknown } | undefined;
    const version = claimed ?? (initialize && typeof params?.protocolVersion === 'string' ? params.protocolVersion : (read.versionHeader ?? ''));
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
      durationSeconds: (this.clock() - pending.startedAt) / 1000,
      trace: pending.trace,
    }, { requestId: pending.id, sessionId: pending.sessionId });
  }
}

/** What a Request's body is read through: asked of a request whose body was read already, they read it again from its text. */
const BODY_MEMBERS = new Set<PropertyKey>(['body', 'bodyUsed', 'text', 'json', 'arrayBuffer', 'blob', 'bytes', 'formData', 'clone']);

/**
 * `request`, whose body was read as `text`, as a handler sees it: everything it is, and a
 * body that reads as if unread. A handler that takes `parsedBody` (the SDK v2's) never reads
 * it, and nothing more is made; one that reads the body itself (a router of your own), or
 * hands the request on (`fetch(request)`), gets a new Request made from the text when it
 * first asks. Cloning the request instead,
 * to read the clone, teed its body stream on every request: 185,000 instructions a call
 * under `toNodeHandler`, more than all the rest of the monitoring (callgrind).
 */
function withBody(request: Request, text: string): Request {
  let unread: Request | undefined;
  return new Proxy(request, {
    get(target, key) {
      // A symbol is an internal slot read by the runtime (`new Request(request)`, `fetch(request)`): the unread one's.
      const holder = typeof key === 'symbol' || BODY_MEMBERS.has(key) ? (unread ??= new Request(target, { body: text })) : target;
      const value = Reflect.get(holder, key, holder) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(holder) : value;
    },
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isReplyLike = (value: unknown): value is JsonRpcLike => typeof value === 'object' && value !== null && !Array.isArray(value) && isResponse(value as JsonRpcLike);

/** The JSON-RPC error code of a whole answer body (JSON, or the first message of an SSE one), if it has one. */
function errorCodeIn(text: string, head: AnswerHead): number | undefined {
  const code = messagesIn<JsonRpcLike>(text, isEventStream(head))[0]?.error?.code;
  return typeof code === 'number' ? code : undefined;
}

const readsResult = (operation: PendingOperation): boolean => operation.method === 'tools/list';

/** A JSON answer, read whole. */
class JsonAnswer implements BodyWatch {
  constructor(
    private readonly monitor: HttpExchangeMonitor,
    private readonly opened: OpenExchange,
    private readonly head: AnswerHead,
    private readonly pending: readonly PendingOperation[],
  ) {}

  whole(text: string): void {
    this.monitor.answeredWithText(this.opened, this.head, this.pending, text);
    this.monitor.answerOver(this.pending);
  }

  /** Also when the body never came whole (cut by the server, or left by the client): what it did not answer is `_OTHER`. */
  end(): void {
    this.monitor.answerOver(this.pending);
  }
}

/** An answer streamed as SSE: each frame that carries a response ends its operation as it passes. */
class StreamedAnswer implements BodyWatch {
  private readonly frames = new SseFrames();

  constructor(
    private readonly monitor: HttpExchangeMonitor,
    private readonly opened: OpenExchange,
    private readonly head: AnswerHead,
    private readonly pending: readonly PendingOperation[],
  ) {}

  chunk(text: string): void {
    for (const data of this.frames.push(text)) {
      // Most frames of a long answer are notifications: no id, nothing to read.
      if (data.includes('"id"')) this.monitor.answeredWithText(this.opened, this.head, this.pending, data);
    }
  }

  end(): void {
    this.monitor.answerOver(this.pending);
  }

  /** At shutdown: the requests still unanswered get their JSON-RPC error as the stream's last frame. */
  lastWords(): string | undefined {
    const open = this.pending.filter((operation) => !operation.done);
    return open.length === 0 ? undefined : open.map((operation) => `event: message\ndata: ${jsonRpcErrorText(operation.id, SHUTTING_DOWN.code, SHUTTING_DOWN.message)}\n\n`).join('');
  }
}
