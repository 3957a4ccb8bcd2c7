import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { Logger } from '../core/logger.js';
import type { ConnectionStart, SessionTracker } from '../core/session-tracker.js';
import { JSONRPC, sendJsonRpcError } from './http-answers.js';
import { initializeParams, sessionFacts } from './initialize.js';
import { MonitoredTransport } from './monitored-transport.js';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from './read-body.js';
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
}

/**
 * The legacy HTTP+SSE transport: GET /sse opens a stream and names a POST endpoint with a
 * sessionId. The session is established at its initialize request (so it has a client
 * name) and ends when its stream ends; the open stream keeps it from idling out.
 */
export class SseHost {
  /** Streams opened whose client has not sent initialize yet, with the transport that times their operations. */
  private readonly unestablished = new Map<string, { session: HostedSession; monitored: MonitoredTransport }>();
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
      sendJsonRpcError(res, 405, JSONRPC.serverError, 'Method not allowed: open the stream with GET', { Allow: 'GET' });
      return;
    }
    if (!sessions.admit(res)) return;
    try {
      const transport = new SSEServerTransport(this.messagesPath, res);
      const server = await this.options.serverFactory();
      const session: HostedSession = {
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
      this.unestablished.set(pendingId, { session, monitored });
      monitored.onclose = () => {
        this.unestablished.delete(pendingId);
        // The stream ended and nobody on this side asked for it: the client left.
        session.closeReason ??= 'client_delete';
        sessions.finish(session);
      };
      monitored.onerror = (error) => logger.debug({ err: error.message }, 'SSE transport reported an error');
      await server.connect(monitored);
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'opening an SSE session failed');
      sendJsonRpcError(res, 500, JSONRPC.serverError, 'Internal server error');
    }
  }

  /** POST /messages?sessionId=. Never rejects. */
  async handleMessage(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const { sessions, tracker } = this.options;
    try {
      if (req.method !== 'POST') {
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
        starting.monitored.client = start;
        starting.monitored.protocolVersion = start.protocolVersion;
      }
      sessions.begin(session, res);
      await session.handle(req, res, read.body);
      if (res.statusCode >= 400 && res.statusCode < 500) {
        tracker.reject('invalid_request');
        return;
      }
      if (start && this.unestablished.delete(sessionId)) {
        start.id = sessions.register(sessionId, session);
        tracker.establish(start);
        // Established by its GET /sse; this POST is its second request.
        tracker.touch(start.id);
        // The open stream is a request in flight for as long as the session lives.
        session.inFlight += 1;
      }
    } catch (error) {
      this.options.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'SSE message failed');
      sendJsonRpcError(res, 500, JSONRPC.serverError, 'Internal server error');
    }
  }
}
