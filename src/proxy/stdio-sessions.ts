import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import { sessionRef } from '../core/session-ref.js';
import { JSONRPC, jsonRpcErrorText, SHUTTING_DOWN } from '../transport/http-answers.js';
import { isRequest, type JsonRpcLike } from '../transport/jsonrpc-outcome.js';
import { CLIENT_GONE, type AnswerHead, type BodyWatch, type NodeRelay } from '../wire/exchange.js';
import { outcomeOf } from '../wire/outcome.js';
import type { StdioCommand, UpstreamLog } from './relay-bridge.js';
import { StdioChild } from './stdio-child.js';
import type { CheckResult, UpstreamWatch } from './upstream-watch.js';

export interface StdioSessionsOptions {
  /** The stdio MCP server each session runs as a child. */
  spec: StdioCommand;
  logger: Logger;
  /** Sessions open at most; a new one past it gets 503. 0: no limit. @default 0 */
  maxSessions?: number;
  /** An SSE comment on each open GET stream this often, in ms; 0 never. @default 15000 */
  heartbeatIntervalMs?: number;
  /** Events kept for clients that resume a dropped stream (Last-Event-ID); 0 keeps none, and answers are JSON where they can be. @default 1000 */
  eventStoreSize?: number;
}

type Answered = (head: AnswerHead) => BodyWatch | undefined;

/** One HTTP request's requests, waiting for the child's answers. */
interface Exchange {
  session: Session;
  /** Where its frames go now: the POST's answer, a GET that resumed it, or none while the client is away. */
  sink: ServerResponse | undefined;
  /** The monitor's watch of the POST's answer (the first sink only). */
  watch: BodyWatch | undefined;
  answered: Answered;
  /** Request ids still waiting. */
  waiting: Set<string | number>;
  /** The answers so far, for a JSON body (one, or a batch's array). */
  lines: string[];
  batch: boolean;
  /** The answer is an SSE stream (a message came before the response, or the stream is resumable). */
  streaming: boolean;
  /** Its stream's id in the event log, when the stream can be resumed. */
  streamId: string | undefined;
  over: boolean;
  /** Resolves relay()'s promise: the POST's exchange is over for the monitor. */
  settle: () => void;
}

interface Session {
  id: string;
  ref: string;
  child: StdioChild;
  /** The exchange each waiting request id belongs to. */
  waiting: Map<string | number, Exchange>;
  /** Progress tokens of waiting requests, to the request id. */
  progress: Map<unknown, string | number>;
  /** Resumable streams still waiting for answers, by stream id. */
  streams: Map<string, Exchange>;
  /** The standalone GET stream, when the client holds one. */
  stream: ServerResponse | undefined;
  /** The standalone stream's id in the event log. */
  standaloneId: string;
  ended: boolean;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive' } as const;
const HEARTBEAT = ': keepalive\n\n';
/** How long a check waits for a child's answer to its initialize. */
const CHECK_TIMEOUT_MS = 10_000;
const CHECK_ID = 'mcp-exporter-check';
/** The first revision whose clients take a priming event (an id with empty data) at a stream's start. */
const PRIMING_SINCE = '2025-11-25';

/** The head of an answer written here, as the wire monitor reads it. */
function headOf(status: number, headers: OutgoingHttpHeaders): AnswerHead {
  return { status, header: (name) => (headers[name] === undefined ? undefined : String(headers[name])) };
}

/** The events of resumable streams, the newest `capacity` of them, for clients that reconnect with Last-Event-ID. */
class EventLog {
  private readonly events = new Map<string, { streamId: string; data: string }>();
  private readonly prefix = randomBytes(4).toString('hex');
  private next = 0;

  constructor(private readonly capacity: number) {}

  store(streamId: string, data: string): string {
    const eventId = `${streamId}_${this.prefix}${(this.next++).toString(36)}`;
    this.events.set(eventId, { streamId, data });
    if (this.events.size > this.capacity) {
      const oldest = this.events.keys().next().value;
      if (oldest !== undefined) this.events.delete(oldest);
    }
    return eventId;
  }

  streamOf(eventId: string): string | undefined {
    return this.events.get(eventId)?.streamId;
  }

  /** The events of the stream after `eventId`, as SSE frames. */
  after(eventId: string): string[] {
    const last = this.events.get(eventId);
    if (!last) return [];
    const frames: string[] = [];
    let past = false;
    for (const [id, event] of this.events) {
      if (past && event.streamId === last.streamId && event.data !== '') frames.push(`event: message\nid: ${id}\ndata: ${event.data}\n\n`);
      if (id === eventId) past = true;
    }
    return frames;
  }
}

/**
 * `proxy --stdio`'s 2025 sessions, served as Streamable HTTP on node:http streams: one child
 * process per session, each request line relayed to it and each of its lines back to the
 * client, with no SDK transport on either side (neither re-parses nor re-validates what the
 * child already does). A request is answered as JSON, or as an SSE stream when the child
 * sends something for it before its response (progress, a sampling request) or when the
 * client can resume it (an event log is kept: a client whose stream drops reconnects with
 * Last-Event-ID and gets what it missed). Messages for no request go to the session's GET
 * stream. It is a NodeRelay: the wire monitor follows it as it follows an HTTP upstream,
 * sessions by their Mcp-Session-Id.
 */
export class StdioSessions implements NodeRelay {
  /** Told when a session ends on its own (its child exited): the monitor closes it as transport_error. */
  onSessionGone: (sessionId: string) => void = () => {};
  /** Told whether the command starts and answers: set once the monitor is there. */
  watch: UpstreamWatch | undefined;
  private readonly sessions = new Map<string, Session>();
  /** Sessions whose child is starting: they hold a --max-sessions slot. */
  private starting = 0;
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private readonly log: EventLog | undefined;
  private closing = false;

  constructor(private readonly options: StdioSessionsOptions) {
    const every = options.heartbeatIntervalMs ?? 15_000;
    if (every > 0) {
      this.heartbeat = setInterval(() => {
        for (const session of this.sessions.values()) session.stream?.write(HEARTBEAT);
      }, every);
      this.heartbeat.unref();
    }
    const size = options.eventStoreSize ?? 1000;
    this.log = size > 0 ? new EventLog(size) : undefined;
  }

  /** Sessions open now. */
  get size(): number {
    return this.sessions.size;
  }

  relay(req: IncomingMessage, res: ServerResponse, text: string | undefined, answered: Answered, body?: unknown): Promise<void> {
    const method = req.method ?? 'GET';
    const sessionId = header(req, 'mcp-session-id');
    if (method === 'POST') return this.post(req, res, text ?? '', body ?? parse(text), sessionId, answered);
    if (method !== 'GET' && method !== 'DELETE') return this.error(res, answered, 405, JSONRPC.serverError, 'Method not allowed.', { allow: 'GET, POST, DELETE' });
    if (sessionId === undefined) return this.error(res, answered, 400, JSONRPC.serverError, 'Bad Request: Mcp-Session-Id header is required');
    const session = this.sessions.get(sessionId);
    if (!session) return this.error(res, answered, 404, JSONRPC.sessionNotFound, 'Session not found');
    if (method === 'DELETE') {
      const headers = {};
      answered(headOf(200, headers))?.end?.();
      res.writeHead(200, headers).end();
      return this.end(session, false);
    }
    return this.get(req, res, session, answered);
  }

  /** Ends a session (the monitor letting go of an idle one): its child ends. */
  endSession(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    return session ? this.end(session, false) : Promise.resolve();
  }

  /**
   * Starts the command once and asks it to initialize, then ends it: whether a session could
   * start now. Nothing is left running.
   */
  async check(timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckResult> {
    const { logger, spec } = this.options;
    // What a check finds is logged once, when the state changes (upstream_up, upstream_down): its child's own lines are debug.
    const child = new StdioChild(spec, (fields, message) => logger.debug({ ...fields, session: 'check' }, message));
    try {
      await child.start();
    } catch {
      return { reason: 'start_failed', down: true };
    }
    const result = await new Promise<CheckResult>((resolve) => {
      const timer = setTimeout(() => resolve({ reason: 'timeout', down: true }), timeoutMs);
      child.onLine = (line) => {
        if (outcomeOf(line)?.id !== CHECK_ID) return;
        clearTimeout(timer);
        resolve(undefined);
      };
      child.onGone = () => {
        clearTimeout(timer);
        resolve({ reason: 'child_exited', down: true });
      };
      child.send(JSON.stringify({ jsonrpc: '2.0', id: CHECK_ID, method: 'initialize', params: { protocolVersion: PRIMING_SINCE, capabilities: {}, clientInfo: { name: 'mcp-exporter-check', version: '1' } } }));
    });
    await child.close();
    return result;
  }

  /** Shutdown: what waits for an answer gets a JSON-RPC error, streams end, children end. */
  async close(): Promise<void> {
    this.watch?.stop();
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await Promise.all([...this.sessions.values()].map((session) => this.end(session, false, SHUTTING_DOWN.message)));
  }

  private async post(req: IncomingMessage, res: ServerResponse, text: string, body: unknown, sessionId: string | undefined, answered: Answered): Promise<void> {
    const batch = Array.isArray(body);
    const messages = (batch ? body : [body]) as unknown[];
    if (messages.length === 0 || !messages.every((m) => typeof m === 'object' && m !== null && !Array.isArray(m))) {
      return this.error(res, answered, 400, JSONRPC.invalidRequest, 'Invalid Request: the body is not a JSON-RPC message or batch');
    }
    const jsonRpc = messages as JsonRpcLike[];
    let session: Session | undefined;
    if (sessionId === undefined) {
      const only = jsonRpc.length === 1 ? jsonRpc[0] : undefined;
      if (only?.method !== 'initialize' || !isRequest(only)) {
        return this.error(res, answered, 400, JSONRPC.serverError, 'Bad Request: Mcp-Session-Id header is required; start a session with an initialize request');
      }
      session = await this.start(res, answered);
      if (!session) return;
    } else {
      session = this.sessions.get(sessionId);
      if (!session) return this.error(res, answered, 404, JSONRPC.sessionNotFound, 'Session not found');
    }
    const lines = batch ? jsonRpc.map((m) => JSON.stringify(m)) : [text];
    const requests = jsonRpc.filter(isRequest);
    if (requests.length === 0) {
      // Notifications and responses: the child takes them, the client gets 202.
      for (const line of lines) session.child.send(line);
      const headers = {};
      answered(headOf(202, headers))?.end?.();
      res.writeHead(202, headers).end();
      return;
    }
    let settle: () => void = () => {};
    const over = new Promise<void>((resolve) => (settle = resolve));
    const exchange: Exchange = {
      session,
      sink: res,
      watch: undefined,
      answered,
      waiting: new Set(),
      lines: [],
      batch,
      streaming: false,
      streamId: undefined,
      over: false,
      settle,
    };
    for (const request of requests) {
      const id = request.id as string | number;
      exchange.waiting.add(id);
      session.waiting.set(id, exchange);
      const token = request.params?._meta?.progressToken;
      if (token !== undefined) session.progress.set(token, id);
    }
    res.once('close', () => this.clientLeft(exchange, res));
    for (const line of lines) session.child.send(line);
    // A client that can resume gets a stream with event ids from the start, as the SDK gives one.
    const version = header(req, 'mcp-protocol-version');
    if (this.log && version !== undefined && version >= PRIMING_SINCE) this.stream(exchange);
    await over;
  }

  /** A new session: its child started, its id made. Undefined (answered already) when it cannot start. */
  private async start(res: ServerResponse, answered: Answered): Promise<Session | undefined> {
    const max = this.options.maxSessions ?? 0;
    if (this.closing) {
      await this.error(res, answered, 503, JSONRPC.serverError, 'Server is shutting down', { connection: 'close' });
      return undefined;
    }
    if (max > 0 && this.sessions.size + this.starting >= max) {
      await this.error(res, answered, 503, JSONRPC.serverError, `Too many sessions: this server holds at most ${max}; try again later`, { 'retry-after': '5' });
      return undefined;
    }
    const id = randomUUID();
    const ref = sessionRef(id);
    const { logger, spec } = this.options;
    const log: UpstreamLog = (fields, message, level = 'info') => logger[level]({ ...fields, session: ref }, message);
    const child = new StdioChild(spec, log);
    this.starting += 1;
    try {
      await child.start();
    } catch (error) {
      this.watch?.failed('start_failed', true);
      const reason = error instanceof Error ? error.message : String(error);
      await this.error(res, answered, 502, JSONRPC.serverError, `Bad Gateway: the stdio MCP server (${spec.command}) could not start: ${reason}`);
      return undefined;
    } finally {
      this.starting -= 1;
    }
    const session: Session = {
      id,
      ref,
      child,
      waiting: new Map(),
      progress: new Map(),
      streams: new Map(),
      stream: undefined,
      standaloneId: `${ref}_get`,
      ended: false,
    };
    child.onLine = (line) => this.fromChild(session, line);
    child.onGone = (why) => {
      if (session.ended) return;
      this.watch?.failed('child_exited', false);
      void this.end(session, true, `Bad Gateway: the stdio MCP server (${spec.command}) ${why}`);
      this.onSessionGone(session.id);
    };
    this.sessions.set(id, session);
    return session;
  }

  /** A line of the child: a response to its request's exchange; anything else to the stream it belongs on. */
  private fromChild(session: Session, line: string): void {
    this.watch?.answered();
    const outcome = outcomeOf(line);
    if (outcome !== undefined) {
      const exchange = session.waiting.get(outcome.id);
      if (!exchange) return;
      session.waiting.delete(outcome.id);
      for (const [token, id] of session.progress) if (id === outcome.id) session.progress.delete(token);
      this.answer(exchange, outcome.id, line);
      return;
    }
    const message = parse(line) as (JsonRpcLike & { params?: { progressToken?: unknown } }) | undefined;
    if (message === undefined) return;
    let exchange: Exchange | undefined;
    const token = message.params?.progressToken;
    if (message.method === 'notifications/progress' && token !== undefined) {
      const id = session.progress.get(token);
      exchange = id === undefined ? undefined : session.waiting.get(id);
    } else if (session.waiting.size > 0 && new Set(session.waiting.values()).size === 1) {
      // A server request or notification while exactly one exchange waits belongs to its stream.
      exchange = session.waiting.values().next().value;
    }
    if (exchange && !exchange.over) {
      this.stream(exchange);
      this.emit(exchange, line);
      return;
    }
    // For no request: the standalone stream, when the client holds one (else it is dropped, as the SDK does).
    if (session.stream) session.stream.write(this.frame(session.standaloneId, line));
  }

  /** An SSE frame, with an event id when streams can be resumed. */
  private frame(streamId: string | undefined, line: string): string {
    if (!this.log || streamId === undefined) return `event: message\ndata: ${line}\n\n`;
    return `event: message\nid: ${this.log.store(streamId, line)}\ndata: ${line}\n\n`;
  }

  /** Turns an exchange's answer into an SSE stream (once). */
  private stream(exchange: Exchange): void {
    if (exchange.streaming || exchange.over || !exchange.sink) return;
    exchange.streaming = true;
    const headers: OutgoingHttpHeaders = { ...SSE_HEADERS, 'mcp-session-id': exchange.session.id };
    exchange.watch = exchange.answered(headOf(200, headers));
    exchange.sink.writeHead(200, headers);
    if (this.log) {
      // A priming event: an id the client can resume from before any message came.
      exchange.streamId = `${exchange.session.ref}_${randomBytes(6).toString('hex')}`;
      exchange.session.streams.set(exchange.streamId, exchange);
      this.write(exchange, `id: ${this.log.store(exchange.streamId, '')}\ndata: \n\n`);
    } else {
      exchange.sink.flushHeaders();
    }
  }

  private emit(exchange: Exchange, line: string): void {
    this.write(exchange, this.frame(exchange.streamId, line));
  }

  private write(exchange: Exchange, text: string): void {
    if (!exchange.sink) return;
    if (exchange.watch) exchange.watch.chunk?.(text);
    exchange.sink.write(text);
  }

  /** The child answered request `id` of `exchange`. */
  private answer(exchange: Exchange, id: string | number, line: string): void {
    if (exchange.over) return;
    exchange.waiting.delete(id);
    if (exchange.streaming) {
      this.emit(exchange, line);
      if (exchange.waiting.size === 0) this.finish(exchange);
      return;
    }
    exchange.lines.push(line);
    if (exchange.waiting.size > 0) return;
    this.answerJson(exchange, { ...JSON_HEADERS, 'mcp-session-id': exchange.session.id });
  }

  /** The exchange's answers as one JSON body (one answer, or a batch's array). */
  private answerJson(exchange: Exchange, headers: OutgoingHttpHeaders): void {
    exchange.over = true;
    const body = exchange.batch ? `[${exchange.lines.join(',')}]` : (exchange.lines[0] ?? '');
    const watch = exchange.answered(headOf(200, headers));
    watch?.whole?.(body);
    watch?.end?.();
    exchange.sink?.writeHead(200, headers).end(body);
    exchange.settle();
  }

  /** Every request of a streamed exchange is answered: its stream ends. */
  private finish(exchange: Exchange): void {
    if (exchange.over) return;
    exchange.over = true;
    if (exchange.streamId !== undefined) exchange.session.streams.delete(exchange.streamId);
    exchange.watch?.end?.();
    exchange.watch = undefined;
    exchange.sink?.end();
    exchange.sink = undefined;
    exchange.settle();
  }

  /**
   * The client left before its answer ended. A resumable stream waits for its client to come
   * back (the child still answers, into the event log); otherwise the child is told its
   * requests are cancelled.
   */
  private clientLeft(exchange: Exchange, res: ServerResponse): void {
    if (exchange.over || exchange.sink !== res) return;
    exchange.sink = undefined;
    if (!exchange.streaming) exchange.answered(CLIENT_GONE);
    else {
      exchange.watch?.cancel?.();
      exchange.watch?.end?.();
    }
    exchange.watch = undefined;
    exchange.settle();
    if (exchange.streamId !== undefined) return;
    exchange.over = true;
    const { session } = exchange;
    for (const id of exchange.waiting) {
      session.waiting.delete(id);
      session.child.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'The client went away' } }));
    }
    exchange.waiting.clear();
  }

  /** GET: the session's standalone stream, or a dropped stream resumed (Last-Event-ID). */
  private get(req: IncomingMessage, res: ServerResponse, session: Session, answered: Answered): Promise<void> {
    if (!(header(req, 'accept') ?? '').includes('text/event-stream')) {
      return this.error(res, answered, 406, JSONRPC.serverError, 'Not Acceptable: Client must accept text/event-stream');
    }
    const lastEventId = header(req, 'last-event-id');
    if (lastEventId !== undefined && this.log) {
      const streamId = this.log.streamOf(lastEventId);
      if (streamId === undefined || !streamId.startsWith(`${session.ref}_`)) return this.error(res, answered, 400, JSONRPC.serverError, 'Bad Request: unknown Last-Event-ID');
      if (streamId !== session.standaloneId) return this.resume(res, session, streamId, lastEventId, answered);
    }
    if (session.stream) return this.error(res, answered, 409, JSONRPC.serverError, 'Conflict: Only one SSE stream is allowed per session');
    const headers: OutgoingHttpHeaders = { ...SSE_HEADERS, 'mcp-session-id': session.id };
    const watch = answered(headOf(200, headers));
    res.writeHead(200, headers);
    res.flushHeaders();
    if (lastEventId !== undefined && this.log) for (const frame of this.log.after(lastEventId)) res.write(frame);
    session.stream = res;
    return new Promise((resolve) =>
      res.once('close', () => {
        if (session.stream === res) session.stream = undefined;
        watch?.end?.();
        resolve();
      }),
    );
  }

  /** A request's stream resumed: what it missed, then the rest as it comes. */
  private resume(res: ServerResponse, session: Session, streamId: string, lastEventId: string, answered: Answered): Promise<void> {
    const exchange = session.streams.get(streamId);
    if (exchange?.sink) return this.error(res, answered, 409, JSONRPC.serverError, 'Conflict: the stream is still open');
    const headers: OutgoingHttpHeaders = { ...SSE_HEADERS, 'mcp-session-id': session.id };
    const watch = answered(headOf(200, headers));
    res.writeHead(200, headers);
    for (const frame of this.log?.after(lastEventId) ?? []) res.write(frame);
    if (!exchange || exchange.over) {
      watch?.end?.();
      res.end();
      return Promise.resolve();
    }
    exchange.sink = res;
    return new Promise((resolve) =>
      res.once('close', () => {
        if (exchange.sink === res) exchange.sink = undefined;
        watch?.end?.();
        resolve();
      }),
    );
  }

  /**
   * Ends a session once: its waiting requests get a JSON-RPC error (`why`, when given), its
   * streams end, its child ends. `gone`: the child ended it.
   */
  private async end(session: Session, gone: boolean, why?: string): Promise<void> {
    if (session.ended) return;
    session.ended = true;
    this.sessions.delete(session.id);
    for (const exchange of new Set([...session.waiting.values(), ...session.streams.values()])) {
      if (exchange.over) continue;
      for (const id of exchange.waiting) {
        const error = jsonRpcErrorText(id, JSONRPC.serverError, why ?? 'The session ended');
        if (exchange.streaming) this.emit(exchange, error);
        else exchange.lines.push(error);
      }
      exchange.waiting.clear();
      if (exchange.streaming) this.finish(exchange);
      else this.answerJson(exchange, { ...JSON_HEADERS });
    }
    session.waiting.clear();
    session.streams.clear();
    session.stream?.end();
    session.stream = undefined;
    if (!gone) await session.child.close();
  }

  /** Answers with a JSON-RPC error (id null), head first to the monitor. */
  private error(res: ServerResponse, answered: Answered, status: number, code: number, message: string, extra: Record<string, string> = {}): Promise<void> {
    const body = jsonRpcErrorText(null, code, message);
    const headers: OutgoingHttpHeaders = { ...JSON_HEADERS, ...extra };
    const watch = answered(headOf(status, headers));
    watch?.whole?.(body);
    watch?.end?.();
    res.writeHead(status, headers).end(body);
    return Promise.resolve();
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parse(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
