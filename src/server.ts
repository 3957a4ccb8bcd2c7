import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Registry } from 'prom-client';
import type { ConnectionHistory } from './core/history.js';
import type { RecentClients } from './core/recent-clients.js';
import type { SessionTracker } from './core/session-tracker.js';
import type { AdminHandler, ToolSummary } from './http/admin-routes.js';
import { FrontDoor, isAnswerRelay } from './http/front-door.js';
import { handleProbe } from './http/probes.js';
import { createMcpEndpoint } from './mcp-endpoint.js';
import { McpMonitor, type McpMonitorOptions } from './monitor.js';
import { SessionTable, type ServerFactory } from './sdk-v1/session-table.js';
import { SseHost } from './sdk-v1/sse-host.js';
import { StreamableHttpHost } from './sdk-v1/streamable-http-host.js';
import { sendJson } from './transport/http-answers.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
  DEFAULT_PING_INTERVAL_SECONDS,
  DEFAULT_PING_TIMEOUT_SECONDS,
  TCP_KEEPALIVE_DELAY_MS,
} from './transport/liveness.js';
import { DEFAULT_MAX_BODY_BYTES } from './transport/read-body.js';
import { createRequestGuard } from './transport/request-guard.js';
import { readNodeHeaders } from './wire/classifier.js';
import type { WireHandler } from './wire/exchange.js';

export interface MonitoredServerOptions extends McpMonitorOptions {
  /** Builds one MCP server per session. */
  serverFactory: ServerFactory;
  /**
   * Answers requests of the 2026-07-28 era on the same endpoint: an MCP SDK v2
   * `createMcpHandler(factory, { legacy: 'reject' })`, or anything with its `fetch`. 2025
   * traffic keeps its sessions on `serverFactory`. @default none (the SDK v1 refuses them)
   */
  modernHandler?: WireHandler & { close?(): Promise<void> };
  /**
   * Answers the endpoint's 2025 requests in place of the SDK v1 host, monitored on the wire
   * (sessions followed by their Mcp-Session-Id): a proxy's stdio sessions. `serverFactory`
   * then serves only the legacy SSE transport. @default none
   */
  legacyHandler?: WireHandler & { close?(): Promise<void> };
  /**
   * Answers every request on the endpoint, both eras, monitored on the wire (2025 sessions
   * are followed by their Mcp-Session-Id): a proxy's upstream. `serverFactory` then serves
   * only the legacy SSE transport. One that also has NodeRelay's `relay` is given node:http
   * streams instead of web Requests (cheaper per request). @default none
   */
  endpointHandler?: WireHandler & { close?(): Promise<void> };
  /** The tools the server offers, when known without asking the factory; otherwise one server from it is asked at start. @default listed at start */
  tools?: readonly ToolSummary[];
  /**
   * Legacy HTTP+SSE transport paths; null turns it off. A stream whose client sends no
   * initialize within `initializeTimeoutMs` is closed. @default { stream: '/sse', messages: '/messages', initializeTimeoutMs: 30000 }
   */
  sse?: { stream: string; messages: string; initializeTimeoutMs?: number } | null;
  /** Close sessions silent this long, in seconds; 0 never does. @default 1800 */
  sessionIdleTimeoutSeconds?: number;
  /** Write an SSE comment on each legacy SSE stream this often, in seconds; 0 never. @default 15 */
  heartbeatIntervalSeconds?: number;
  /**
   * Send an MCP `ping` to each session holding a stream open (legacy SSE, a Streamable HTTP
   * GET stream) this often, in seconds; 0 never. @default 60
   */
  pingIntervalSeconds?: number;
  /** Close a session whose client does not answer its ping within this many seconds, as `ping_timeout`. @default 10 */
  pingTimeoutSeconds?: number;
  /** Time a client has to send its request headers, in ms. @default 20000 */
  headersTimeoutMs?: number;
  /** Time a client has to send its whole request, in ms (responses may stream longer). @default 60000 */
  requestTimeoutMs?: number;
  /** TCP port; 0 picks a free one. @default 3000 */
  port?: number;
  /** Bind address. @default '127.0.0.1' */
  host?: string;
  /** Lets clients resume streams after a reconnect. @default none */
  eventStore?: EventStore;
  /** Serve /metrics and /api/mcp/* on the MCP listener (ignored when adminPort is set). @default true */
  adminRoutes?: boolean;
  /** Serve /metrics and /api/mcp/* only on a listener of their own, on this port (0 picks one). @default none */
  adminPort?: number;
  /** Answer with JSON instead of SSE streams. @default false */
  enableJsonResponse?: boolean;
  /** Sessions open or being set up at most; new ones get 503 past it. 0: no limit. @default 0 */
  maxSessions?: number;
  /**
   * Host header values accepted on the MCP routes (DNS-rebinding protection): `host` (any
   * port) or `host:port`. @default loopback names (localhost, 127.0.0.1, [::1]) when bound
   * to loopback; unchecked on any other address (the start log says so)
   */
  allowedHosts?: readonly string[];
  /**
   * Origin header values accepted on the MCP routes when sent, and answered with CORS
   * headers for browser clients; `*` for every origin. @default loopback origins when the
   * Host check is the loopback default; otherwise any origin, without CORS headers
   */
  allowedOrigins?: readonly string[];
}

/** What startMonitoredServer hands back. */
export interface MonitoredServer {
  readonly httpServer: HttpServer;
  /** The monitoring itself: tracker, metrics, history, clients, admin routes. */
  readonly monitor: McpMonitor;
  readonly tracker: SessionTracker;
  /** The most recent closed sessions. */
  readonly history: ConnectionHistory;
  /** The clients active recently, sessions or not. */
  readonly clients: RecentClients;
  /** The registry the session metrics are in, or undefined when metrics are off. */
  readonly registry: Registry | undefined;
  /** /metrics and /api/mcp/* as a handler, to mount elsewhere when adminRoutes is false. */
  readonly adminHandler: AdminHandler;
  /** The tools a session's server offers, as listed at start. */
  readonly tools: readonly ToolSummary[];
  readonly port: number;
  /** Full URL of the MCP endpoint. */
  readonly url: string;
  /** Base URL of the admin routes (the MCP listener's unless adminPort was given). */
  readonly adminUrl: string;
  /** Closes every session (reason server_shutdown), then the listener. Safe to call twice. */
  close(): Promise<void>;
}

/** Lists the tools of one server built by the factory, over an in-memory pair; also proves the factory works. */
export async function listFactoryTools(serverFactory: ServerFactory): Promise<ToolSummary[]> {
  const server = await serverFactory();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'mcp-exporter-tool-probe', version: '0' });
  try {
    await server.connect(serverSide);
    await client.connect(clientSide);
    if (!client.getServerCapabilities()?.tools) return [];
    const { tools } = await client.listTools();
    return tools.map(({ name, title, description, inputSchema }) => ({ name, title, description, inputSchema }));
  } finally {
    await client.close();
    await server.close();
  }
}

/**
 * Hosts an MCP server over Streamable HTTP with session tracking, metrics and the admin
 * routes. Resolves once the listener is up.
 */
export async function startMonitoredServer(options: MonitoredServerOptions): Promise<MonitoredServer> {
  const endpoint = options.endpoint ?? '/mcp';
  if (options.endpointHandler && (options.modernHandler || options.legacyHandler)) throw new TypeError('give endpointHandler, or modernHandler and legacyHandler, not both');
  const tools = options.tools ?? (await listFactoryTools(options.serverFactory));
  const wireHandlers = [options.endpointHandler, options.modernHandler, options.legacyHandler].filter((handler) => handler !== undefined);
  const monitor = new McpMonitor({ ...options, endpoint, tools });
  const { tracker, logger } = monitor;
  const sessions = new SessionTable({
    tracker,
    logger,
    idleTimeoutMs: (options.sessionIdleTimeoutSeconds ?? 1800) * 1000,
    heartbeatIntervalMs: (options.heartbeatIntervalSeconds ?? DEFAULT_HEARTBEAT_INTERVAL_SECONDS) * 1000,
    pingIntervalMs: (options.pingIntervalSeconds ?? DEFAULT_PING_INTERVAL_SECONDS) * 1000,
    pingTimeoutMs: (options.pingTimeoutSeconds ?? DEFAULT_PING_TIMEOUT_SECONDS) * 1000,
    maxSessions: options.maxSessions,
    now: options.now,
  });
  const clientIp = (req: IncomingMessage): string => monitor.clientFacts(req).clientIP;
  const bindHost = options.host ?? '127.0.0.1';
  const guard = createRequestGuard({ allowedHosts: options.allowedHosts, allowedOrigins: options.allowedOrigins, bindHost }, tracker);
  const host = new StreamableHttpHost({
    serverFactory: options.serverFactory,
    tracker,
    sessions,
    clientIp,
    logger,
    eventStore: options.eventStore,
    enableJsonResponse: options.enableJsonResponse,
  });
  const mcpEndpoint = createMcpEndpoint({
    monitor,
    sessions: host,
    everything: options.endpointHandler,
    modern: options.modernHandler,
    legacy: options.legacyHandler,
    maxBodyBytes: options.maxBodyBytes,
  });
  const ssePaths = options.sse === null ? undefined : (options.sse ?? { stream: '/sse', messages: '/messages' });
  const sseHost = ssePaths
    ? new SseHost({
        serverFactory: options.serverFactory,
        tracker,
        sessions,
        clientIp,
        logger,
        messagesPath: ssePaths.messages,
        maxBodyBytes: options.maxBodyBytes,
        initializeTimeoutMs: ssePaths.initializeTimeoutMs,
      })
    : undefined;

  const adminHandler = monitor.adminHandler;
  const separateAdmin = options.adminPort !== undefined;
  const serveAdmin = !separateAdmin && (options.adminRoutes ?? true);

  // A client must send its headers within headersTimeoutMs and its whole request within
  // requestTimeoutMs; streams that answer for longer are unaffected (these bound the request,
  // not the response). Node checks them every connectionsCheckingInterval (30 s unless told),
  // so the check runs twice a second: a slow client is cut within a second of its limit.
  // Every accepted socket has TCP keepalive, so a peer gone without a FIN is found even where
  // nothing is written (Linux then probes 9 times, 75 s apart).
  const limits = {
    headersTimeout: options.headersTimeoutMs ?? 20_000,
    requestTimeout: options.requestTimeoutMs ?? 60_000,
    connectionsCheckingInterval: 500,
    keepAlive: true,
    keepAliveInitialDelay: TCP_KEEPALIVE_DELAY_MS,
  };
  const httpServer = createServer(limits, (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (path === endpoint) {
      if (guard.admit(req, res)) void mcpEndpoint(req, res);
    } else if (sseHost && path === ssePaths?.stream) {
      if (guard.admit(req, res)) void sseHost.handleStream(req, res);
    } else if (sseHost && path === ssePaths?.messages) {
      if (guard.admit(req, res)) void sseHost.handleMessage(req, res, new URLSearchParams(query < 0 ? '' : url.slice(query + 1)));
    } else if (serveAdmin) {
      adminHandler(req, res);
    } else if (!handleProbe(req, res, path, () => monitor.notReady())) {
      sendJson(res, 404, { error: 'Not found' });
    }
  });

  // A proxy's upstream that writes its own answers: its plain POSTs are relayed by the front
  // door, with no node:http request or response made (see http/front-door.ts).
  const relayer = options.endpointHandler;
  const frontDoor = isAnswerRelay(relayer)
    ? FrontDoor.install(httpServer, {
        endpoint,
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        hostAllowed: (host) => guard.hostAllowed(host),
        serve: ({ head, text, body, socket }, answer) => {
          const read = readNodeHeaders('POST', head.headers, body);
          try {
            relayer.relayTo({ method: 'POST', raw: head.raw, names: head.names, text, parsed: body }, answer, monitor.exchanges.watchRequest(read, monitor.factsOf(socket, head.headers)));
          } catch (error) {
            logger.error({ event: 'mcp_request_failed', err: error instanceof Error ? error.message : String(error) }, 'MCP request failed');
            if (!answer.finished) answer.destroy();
          }
        },
      })
    : undefined;

  const adminServer = separateAdmin ? createServer(limits, (req, res) => adminHandler(req, res)) : undefined;
  const port = await listen(httpServer, options.port ?? 3000, bindHost);
  const adminPort = adminServer
    ? await listen(adminServer, options.adminPort ?? 0, bindHost).catch(async (error: unknown) => {
        await closeListener(httpServer);
        throw error;
      })
    : port;
  if (guard.hostCheck === 'off') {
    logger.warn(
      { event: 'host_check_off', host: bindHost },
      `Host headers are not checked on ${bindHost}: set --allowed-hosts (allowedHosts) to the names clients use, e.g. mcp.example.com, to block DNS rebinding`,
    );
  }
  const address = httpServer.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    httpServer,
    monitor,
    tracker,
    history: monitor.history,
    clients: monitor.clients,
    registry: monitor.registry,
    adminHandler,
    tools,
    port,
    url: `http://${hostForUrl}:${port}${endpoint}`,
    adminUrl: `http://${hostForUrl}:${adminPort}`,
    close: () => {
      closing ??= (async () => {
        // Requests still waiting get their JSON-RPC error first; then the SDK v2 handler ends its
        // listen streams gracefully (a last frame), and the monitor cuts what is left.
        monitor.exchanges.answerPending();
        await Promise.all([sessions.closeAll('server_shutdown'), ...wireHandlers.map((handler) => handler.close?.())]);
        await monitor.close();
        frontDoor?.close();
        await Promise.all([closeListener(httpServer), adminServer && closeListener(adminServer)]);
      })();
      return closing;
    },
  };
}

function listen(server: HttpServer, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeListener(server: HttpServer): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
