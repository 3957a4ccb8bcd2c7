import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport, type EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { IpMasker } from '../core/ip-masking.js';
import type { Logger } from '../core/logger.js';
import type { SessionTracker } from '../core/session-tracker.js';
import type { CloseReason } from '../core/types.js';
import { JSONRPC, sendJsonRpcError } from './http-answers.js';
import { DEFAULT_MAX_BODY_BYTES, readBody } from './read-body.js';

/** What a server factory must return: an McpServer or a low-level Server both fit. */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** Builds one server per session; the SDK refuses to connect one server to two transports. */
export type ServerFactory = () => ConnectableServer | Promise<ConnectableServer>;

/** Longest user agent kept; longer ones are cut. */
export const MAX_USER_AGENT_LENGTH = 256;

export interface StreamableHttpHostOptions {
  serverFactory: ServerFactory;
  tracker: SessionTracker;
  maskIp: IpMasker;
  logger: Logger;
  /** Lets clients resume streams after a reconnect. @default none */
  eventStore?: EventStore;
  /** Answer requests with JSON instead of an SSE stream. @default false */
  enableJsonResponse?: boolean;
  /** Largest request body accepted. @default 4 MiB */
  maxBodyBytes?: number;
}

interface HostedSession {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: ConnectableServer;
  id: string | undefined;
  /** Set by whoever starts the close; a close nobody asked for is a transport error. */
  closeReason: CloseReason | undefined;
}

interface InitializeParams {
  protocolVersion?: unknown;
  clientInfo?: { name?: unknown; version?: unknown };
}

const asString = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The initialize request's params when `body` is one, else undefined (the SDK validates it fully). */
function initializeParams(body: unknown): InitializeParams | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const message = body as { method?: unknown; params?: unknown };
  if (message.method !== 'initialize') return undefined;
  return typeof message.params === 'object' && message.params !== null ? (message.params as InitializeParams) : {};
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
  private readonly sessions = new Map<string, HostedSession>();
  /** Sessions being set up or open, for shutdown: some have no id yet. */
  private readonly live = new Set<HostedSession>();
  private readonly maxBodyBytes: number;
  private closing = false;

  constructor(private readonly options: StreamableHttpHostOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** Sessions open now. */
  get size(): number {
    return this.sessions.size;
  }

  /** Answers one HTTP request for the MCP endpoint. Never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.route(req, res);
    } catch (error) {
      this.options.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'MCP request failed');
      sendJsonRpcError(res, 500, JSONRPC.serverError, 'Internal server error');
    }
  }

  /** Closes every session with `reason` and refuses new ones. */
  async closeAll(reason: CloseReason): Promise<void> {
    this.closing = true;
    await Promise.all([...this.live].map((session) => this.closeSession(session, reason)));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { tracker } = this.options;
    const method = req.method ?? '';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      sendJsonRpcError(res, 405, JSONRPC.serverError, 'Method not allowed: use POST, GET or DELETE', { Allow: 'GET, POST, DELETE' });
      return;
    }
    const sessionId = headerValue(req, 'mcp-session-id');

    let body: unknown;
    if (method === 'POST') {
      const declared = Number(req.headers['content-length']);
      if (declared > this.maxBodyBytes) return this.tooLarge(res);
      const read = await readBody(req, this.maxBodyBytes);
      if (!read.ok) {
        if (read.reason === 'too_large') return this.tooLarge(res);
        return; // the client went away; nobody to answer
      }
      try {
        body = JSON.parse(read.text);
      } catch {
        tracker.reject('parse_error');
        sendJsonRpcError(res, 400, JSONRPC.parseError, 'Parse error: the body is not valid JSON');
        return;
      }
    }

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
        return;
      }
      await this.startSession(req, res, body, init);
      return;
    }

    const session = this.sessions.get(sessionId);
    if (!session) {
      tracker.reject('unknown_session');
      sendJsonRpcError(res, 404, JSONRPC.sessionNotFound, 'Session not found: start a new session with an initialize request');
      return;
    }
    tracker.touch(sessionId);
    await session.transport.handleRequest(req, res, body);
    this.countRefusal(res);
  }

  private tooLarge(res: ServerResponse): void {
    this.options.tracker.reject('payload_too_large');
    sendJsonRpcError(res, 413, JSONRPC.serverError, `Payload too large: the limit is ${this.maxBodyBytes} bytes`, {
      Connection: 'close',
    });
  }

  /** The SDK's own refusals (bad JSON-RPC, wrong headers, a second initialize) count as invalid requests. */
  private countRefusal(res: ServerResponse): void {
    if (res.statusCode >= 400 && res.statusCode < 500) this.options.tracker.reject('invalid_request');
  }

  private async startSession(req: IncomingMessage, res: ServerResponse, body: unknown, init: InitializeParams): Promise<void> {
    const { tracker, maskIp, logger } = this.options;
    if (this.closing) {
      sendJsonRpcError(res, 503, JSONRPC.serverError, 'Server is shutting down', { Connection: 'close' });
      return;
    }
    const requested = asString(init.protocolVersion);
    const protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
    const userAgent = asString(req.headers['user-agent']).slice(0, MAX_USER_AGENT_LENGTH);

    let hosted: HostedSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      eventStore: this.options.eventStore,
      enableJsonResponse: this.options.enableJsonResponse,
      onsessioninitialized: (id) => {
        if (!hosted) return;
        hosted.id = id;
        this.sessions.set(id, hosted);
        tracker.establish({
          sessionId: id,
          clientIP: maskIp(req.socket.remoteAddress),
          userAgent,
          transport: 'streamable_http',
          clientName: asString(init.clientInfo?.name),
          clientVersion: asString(init.clientInfo?.version),
          protocolVersion,
        });
      },
      // Called only for a DELETE the SDK accepted, just before it closes the transport.
      onsessionclosed: () => {
        if (hosted) hosted.closeReason ??= 'client_delete';
      },
    });
    transport.onerror = (error) => logger.debug({ err: error.message }, 'MCP transport reported an error');

    const server = await this.options.serverFactory();
    hosted = { transport, server, id: undefined, closeReason: undefined };
    this.live.add(hosted);
    const session = hosted;
    transport.onclose = () => this.finish(session);
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
    if (session.id === undefined) {
      // The SDK refused the initialize request: nothing was established, release it all.
      this.countRefusal(res);
      await this.closeSession(session, 'transport_error');
    }
  }

  private async closeSession(session: HostedSession, reason: CloseReason): Promise<void> {
    session.closeReason ??= reason;
    try {
      await session.server.close();
    } catch (error) {
      this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'closing an MCP server failed');
    }
    this.finish(session);
  }

  /** Runs once per session, whoever closed it. */
  private finish(session: HostedSession): void {
    if (!this.live.delete(session)) return;
    if (session.id === undefined) return;
    this.sessions.delete(session.id);
    this.options.tracker.close(session.id, session.closeReason ?? 'transport_error');
    // The server may still hold the transport when the transport closed first.
    void session.server.close().catch(() => {});
  }
}
