import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { Logger } from '../core/logger.js';
import type { ConnectionStart, SessionTracker } from '../core/session-tracker.js';
import { JSONRPC, sendJsonRpcError } from '../transport/http-answers.js';
import { initializeParams, sessionFacts } from './initialize.js';
import { MonitoredTransport } from './monitored-transport.js';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from '../transport/read-body.js';
import type { HostedSession, ServerFactory, SessionTable } from './session-table.js';

export interface SseHostOptions {
  serverFactory: ServerFactory;
  tracker: SessionTracker;
  /** Shared with the other transports of the same server. */
  sessions: SessionTable;
  /** The client's address as the API may show it (trusted proxies resolved, masked). */
  clientIp: (req: IncomingMessage) => string;
  logger: Logger;
  /** Path the client posts its messages to. @default '/messages' */
  messagesPath?: string;
  /** Largest request body accepted. @default 4 MiB */
  maxBodyBytes?: number;
  /** A stream whose client sends no initialize within this many ms is closed (counted as missing_session). @default 30000 */
  initializeTimeoutMs?: number;
}

/** Streams awaiting their initialize at most; a new one past it closes the oldest. */
export const MAX_AWAITING_STREAMS = 256;

interface Awaiting {
  session: HostedSession;
  monitored: MonitoredTransport;
  timer: NodeJS.Timeout;
}

/**
 * The legacy HTTP+SSE transport: GET /sse opens a stream and names a POST endpoint with a
 * sessionId. The session is established at its initialize request (so it has a client
 * name) and ends when its stream ends; the open stream keeps it from idling out.
 */
export class SseHost {
  /**
   * Streams opened whose client has not sent initialize yet, oldest first, with the
   * transport that times their operations. They hold no --max-sessions slot; each is
   * closed when its initialize does not come in time, or when too many wait.
   */
  private readonly unestablished = new Map<string, Awaiting>();
  private readonly messagesPath: string;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: SseHostOptions) {
    this.messagesPath = options.messagesPath ?? '/messages';
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** GET /sse. Never rejects. */
  async handleStream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { sessions, logger, tracker } = this.options;
    if (req.method !== 'GET') {
      tracker.reject('method_not_allowed');
      sendJsonRpcError(res, 405, JSONRPC.serverError, 'Method not allowed: open the stream with GET', { Allow: 'GET' });
      return;
    }
    if (!sessions.admit(res, true)) return;
    try {
      const transport = new SSEServerTransport(this.messagesPath, res);
      // The stream's answer names its session in Mcp-Session-Id, as a Streamable HTTP
      // initialize answer does: a load balancer learns both kinds of session from one header
      // (docs/operations.md), then routes /messages?sessionId= to the same replica.
      res.setHeader('Mcp-Session-Id', transport.sessionId);
      const server = await this.options.serverFactory();
      const session: HostedSession = {
        awaitingInitialize: true,
        streams: 0,
        transportKind: 'sse',
        server,
        id: undefined,
        ref: undefined,
        closeReason: undefined,
        inFlight: 0,
        responseClosed: undefined,
        handle: (request, response, body) => transport.handlePostMessage(request, response, body),
      };
      const pendingId = transport.sessionId;
      const monitored = new MonitoredTransport(transport, 'sse', tracker);
      session.monitored = monitored;
      sessions.add(session);
      const oldest = this.unestablished.size >= MAX_AWAITING_STREAMS ? this.unestablished.keys().next().value : undefined;
      if (oldest !== undefined) this.drop(oldest);
      const timer = setTimeout(() => this.drop(pendingId), this.options.initializeTimeoutMs ?? 30_000);
      timer.unref();
      this.unestablished.set(pendingId, { session, monitored, timer });
      monitored.onclose = () => {
        this.forget(pendingId);
        // The stream ended and nobody on this side asked for it: the client left.
        session.closeReason ??= 'client_delete';
        sessions.finish(session);
      };
      monitored.onerror = (error) => logger.debug({ err: error.message }, 'SSE transport reported an error');
      await server.connect(monitored);
      // The SDK has written the stream's head and its endpoint event; it writes no heartbeats.
      sessions.openStream(session, res, true);
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'opening an SSE session failed');
      sendJsonRpcError(res, 500, JSONRPC.internalError, 'Internal server error');
    }
  }

  /** Stops waiting for a stream's initialize. */
  private forget(pendingId: string): Awaiting | undefined {
    const awaiting = this.unestablished.get(pendingId);
    if (awaiting === undefined) return undefined;
    this.unestablished.delete(pendingId);
    clearTimeout(awaiting.timer);
    return awaiting;
  }

  /** Closes a stream whose client never initialized (too slow, or too many waiting): no session, a refusal. */
  private drop(pendingId: string): void {
    const awaiting = this.forget(pendingId);
    if (awaiting === undefined) return;
    this.options.tracker.reject('missing_session');
    void this.options.sessions.close(awaiting.session, 'transport_error');
  }

  /** POST /messages?sessionId=. Never rejects. */
  async handleMessage(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const { sessions, tracker } = this.options;
    try {
      if (req.method !== 'POST') {
        tracker.reject('method_not_allowed');
        sendJsonRpcError(res, 405, JSONRPC.serverError, 'Method not allowed: post messages with POST', { Allow: 'POST' });
        return;
      }
      const sessionId = query.get('sessionId');
      if (!sessionId) {
        tracker.reject('missing_session');
        sendJsonRpcError(res, 400, JSONRPC.serverError, 'Bad Request: the sessionId query parameter is required; open GET /sse first');
        return;
      }
      const starting = this.unestablished.get(sessionId);
      // A Streamable HTTP session's id is no SSE session: unknown here, like any other.
      const found = sessions.get(sessionId);
      const session = (found?.transportKind === 'sse' ? found : undefined) ?? starting?.session;
      if (!session) {
        tracker.reject('unknown_session');
        sendJsonRpcError(res, 404, JSONRPC.sessionNotFound, 'Session not found: open a new stream with GET /sse');
        return;
      }
      const read = await readJsonBody(req, res, this.maxBodyBytes, tracker);
      if (!read) return;
      // An initialize is a session only once the SDK has taken it (it refuses, say, a wrong Content-Type).
      const init = starting ? initializeParams(read.body) : undefined;
      const start: ConnectionStart | undefined = init && { id: '', transport: 'sse', ...sessionFacts(req, init, this.options.clientIp(req)) };
      if (starting && start) {
        // The stream takes its --max-sessions slot now; past it the stream is closed too.
        if (!sessions.admit(res)) {
          this.forget(sessionId);
          void sessions.close(session, 'transport_error');
          return;
        }
        starting.monitored.client = start;
        starting.monitored.protocolVersion = start.protocolVersion;
      }
      sessions.begin(session, res);
      await session.handle(req, res, read.body);
      if (res.statusCode >= 400 && res.statusCode < 500) {
        tracker.reject('invalid_request');
        return;
      }
      if (start && this.forget(sessionId)) {
        sessions.initialized(session);
        start.id = sessions.register(sessionId, session);
        tracker.establish(start);
        // Established by its GET /sse; this POST is its second request.
        tracker.touch(start.id);
        // The open stream is a request in flight for as long as the session lives.
        session.inFlight += 1;
      }
    } catch (error) {
      this.options.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'SSE message failed');
      sendJsonRpcError(res, 500, JSONRPC.internalError, 'Internal server error');
    }
  }
}
