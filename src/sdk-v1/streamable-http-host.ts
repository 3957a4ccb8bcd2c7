import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Logger } from '../core/logger.js';
import type { ConnectionStart, SessionTracker } from '../core/session-tracker.js';
import type { CloseReason } from '../core/types.js';
import { JSONRPC, sendJsonRpcError } from '../transport/http-answers.js';
import { refusalOfStatus } from '../transport/refusals.js';
import { headOnlyRequest, writeWebResponse } from '../wire/fetch-bridge.js';
import { initializeParams, sessionFacts, type InitializeParams } from './initialize.js';
import { releaseAnsweredJsonStreams } from './json-stream-release.js';
import { MonitoredTransport } from './monitored-transport.js';
import type { ConnectableServer, HostedSession, ServerFactory, SessionTable } from './session-table.js';

export type { ConnectableServer, ServerFactory } from './session-table.js';

export interface StreamableHttpHostOptions {
  serverFactory: ServerFactory;
  tracker: SessionTracker;
  /** Shared with the other transports of the same server. */
  sessions: SessionTable;
  /** The client's address as the API may show it (trusted proxies resolved, masked). */
  clientIp: (req: IncomingMessage) => string;
  logger: Logger;
  /** Lets clients resume streams after a reconnect. @default none */
  eventStore?: EventStore;
  /** Answer requests with JSON instead of an SSE stream. @default false */
  enableJsonResponse?: boolean;
}

const DONE: Promise<void> = Promise.resolve();

/**
 * One request answered by the SDK's web-standard transport, on node:http: the request it
 * reads (method, URL, headers; the body handed over parsed), and its Response written back.
 * The SDK's node transport (StreamableHTTPServerTransport) does the same through a general
 * adapter (@hono/node-server, set up anew for every request) that flushes each SSE answer's
 * head in a write of its own before the body; here an answer that is ready leaves in one
 * write (see writeWebResponse). CPU per call against the bare SDK server, side by side:
 * 0.89 this way, 1.02 through the SDK's node transport (docs/benchmarks.md).
 */
async function answer(transport: WebStandardStreamableHTTPServerTransport, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const request = headOnlyRequest(req, () => (body === undefined ? undefined : JSON.stringify(body)));
  if (request === undefined) {
    // Counted as invalid_request with the rest of the 4xx answers (countRefusal).
    sendJsonRpcError(res, 400, JSONRPC.serverError, 'Bad Request: the Host header is not a host name');
    return;
  }
  const response = await transport.handleRequest(request, { parsedBody: body, authInfo: (req as { auth?: AuthInfo }).auth });
  await writeWebResponse(res, response);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Hosts Streamable HTTP sessions on plain node:http: one transport and one server per
 * session, each HTTP request routed by its Mcp-Session-Id, every session fact reported
 * to the tracker. Nothing on the request path is heavier than the SDK's own work.
 */
export class StreamableHttpHost {
  private readonly sessions: SessionTable;

  constructor(private readonly options: StreamableHttpHostOptions) {
    this.sessions = options.sessions;
  }

  /**
   * Answers one HTTP request of the 2025 era for the MCP endpoint; `body` is its JSON, read
   * already (undefined for a GET or DELETE). Never rejects.
   */
  handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    // Not an async function: the request of an open session takes no promise of its own beyond the SDK's.
    try {
      return this.route(req, res, body).catch((error: unknown) => this.failed(res, error));
    } catch (error) {
      this.failed(res, error);
      return Promise.resolve();
    }
  }

  private failed(res: ServerResponse, error: unknown): void {
    this.options.logger.error({ event: 'mcp_request_failed', err: error instanceof Error ? error.message : String(error) }, 'MCP request failed');
    sendJsonRpcError(res, 500, JSONRPC.internalError, 'Internal server error');
  }

  private route(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const { tracker } = this.options;
    const method = req.method ?? '';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      tracker.reject('method_not_allowed');
      sendJsonRpcError(res, 405, JSONRPC.serverError, 'Method not allowed: use POST, GET or DELETE', { Allow: 'GET, POST, DELETE' });
      return DONE;
    }
    const sessionId = headerValue(req, 'mcp-session-id');
    if (sessionId === undefined) {
      const init = method === 'POST' ? initializeParams(body) : undefined;
      if (init === undefined) {
        tracker.reject('missing_session');
        sendJsonRpcError(
          res,
          400,
          JSONRPC.serverError,
          'Bad Request: Mcp-Session-Id header is required; start a session with an initialize request',
        );
        return DONE;
      }
      return this.startSession(req, res, body, init);
    }

    const found = this.sessions.get(sessionId);
    // A legacy SSE session's id is no Streamable HTTP session: unknown here, like any other.
    const session = found?.transportKind === 'streamable_http' ? found : undefined;
    if (!session) {
      tracker.reject('unknown_session');
      sendJsonRpcError(res, 404, JSONRPC.sessionNotFound, 'Session not found: start a new session with an initialize request');
      return DONE;
    }
    this.sessions.begin(session, res);
    // A GET is the session's stream to the client (the SDK writes its heartbeats); one it refuses closes at once.
    if (method === 'GET') this.sessions.openStream(session, res, false);
    return session.handle(req, res, body).then(() => this.countRefusal(res));
  }

  /**
   * The SDK's own refusals (bad JSON-RPC, wrong headers, a second initialize), named by the
   * rules the wire monitor names every other server's with: 406 `not_acceptable`, 415 and the
   * rest `invalid_request`.
   */
  private countRefusal(res: ServerResponse): void {
    const status = res.statusCode;
    if (status < 400 || status >= 500) return;
    const header = (name: string): string | undefined => {
      const value = res.getHeader(name);
      return value === undefined ? undefined : String(value);
    };
    // Within a session: an unknown id is answered before the SDK sees the request.
    this.options.tracker.reject(refusalOfStatus(status, { header }, false) ?? 'invalid_request');
  }

  /** One function for every session (the SDK passes the id), not a closure per session. */
  private readonly onSessionClosed = (id: string): void => {
    // Called only for a DELETE the SDK accepted, just before it closes the transport.
    const session = this.sessions.get(id);
    if (session) session.closeReason ??= 'client_delete';
  };

  private async startSession(req: IncomingMessage, res: ServerResponse, body: unknown, init: InitializeParams): Promise<void> {
    const { tracker, clientIp } = this.options;
    if (!this.sessions.admit(res)) return;
    // What the session's initialized callback needs, released once it has run: the SDK
    // keeps that callback for the session's life, and so would keep whatever it holds.
    let pending: { session: StreamableSession; facts: ReturnType<typeof sessionFacts>; monitored: MonitoredTransport } | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      eventStore: this.options.eventStore,
      enableJsonResponse: this.options.enableJsonResponse,
      onsessioninitialized: (id) => {
        if (!pending) return;
        const ref = this.sessions.register(id, pending.session);
        // One object for the session's life: its connection facts, and the client of its operations.
        const start: ConnectionStart = { id: ref, transport: 'streamable_http', ...pending.facts };
        tracker.establish(start);
        pending.monitored.client = start;
        pending = undefined;
      },
      onsessionclosed: this.onSessionClosed,
    });
    if (this.options.enableJsonResponse) releaseAnsweredJsonStreams(transport);

    const session = new StreamableSession(await this.options.serverFactory(), transport);
    const facts = sessionFacts(req, init, clientIp(req));
    const monitored = new MonitoredTransport(transport, 'streamable_http', tracker);
    monitored.client = facts;
    monitored.protocolVersion = facts.protocolVersion;
    session.monitored = monitored;
    pending = { session, facts, monitored };
    this.sessions.add(session);
    monitored.onclose = () => this.sessions.finish(session);
    await session.server.connect(monitored);
    await answer(transport, req, res, body);
    if (session.id === undefined) {
      // The SDK refused the initialize request: nothing was established, release it all.
      pending = undefined;
      this.countRefusal(res);
      await this.sessions.close(session, 'transport_error');
    }
  }
}

/** A Streamable HTTP session; a class, so `handle` is shared by every session rather than a closure each. */
class StreamableSession implements HostedSession {
  readonly transportKind = 'streamable_http' as const;
  id: string | undefined = undefined;
  ref: string | undefined = undefined;
  closeReason: CloseReason | undefined = undefined;
  inFlight = 0;
  responseClosed: (() => void) | undefined = undefined;
  monitored: MonitoredTransport | undefined = undefined;
  streams = 0;
  readonly awaitingInitialize = false;

  constructor(
    readonly server: ConnectableServer,
    private readonly transport: WebStandardStreamableHTTPServerTransport,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    return answer(this.transport, req, res, body);
  }
}
