import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Meter, MeterProvider, TracerProvider } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { boundedText, MAX_USER_AGENT_LENGTH } from './core/bounded-text.js';
import { ConnectionHistory } from './core/history.js';
import { createIpMasker, type IpMaskingMode } from './core/ip-masking.js';
import { createLogMonitor } from './core/log-monitor.js';
import { silentLogger, type Logger } from './core/logger.js';
import { RecentClients } from './core/recent-clients.js';
import { SessionTracker } from './core/session-tracker.js';
import { TrustedProxies } from './core/trusted-proxies.js';
import type { ConnectionMonitor } from './core/types.js';
import { createAdminHandler, type AdminHandler, type ToolSummary } from './http/admin-routes.js';
import { notReadyBecause } from './http/probes.js';
import { ConnectionEventStream } from './http/event-stream.js';
import { promClientRenderer, type MetricsRenderer } from './metrics/exposition.js';
import { OtelMonitor } from './metrics/otel-monitor.js';
import { PromClientMonitor } from './metrics/prom-client-monitor.js';
import { OperationSpans } from './tracing/operation-spans.js';
import { MonitoredStdioTransport } from './sdk-v1/stdio-session.js';
import type { McpTransport as Transport } from './sdk-v1/transport-shape.js';
import { keepAlive } from './transport/liveness.js';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody, readNodeRequest } from './transport/read-body.js';
import type { ExchangeFacts, FetchHandler } from './wire/exchange.js';
import { readNodeHeaders } from './wire/classifier.js';
import { HttpExchangeMonitor } from './wire/exchange-monitor.js';
import { tapResponse } from './wire/node-tap.js';
import { serveNode } from './wire/serve-node.js';

export interface McpMonitorOptions {
  /** prom-client registry the metrics go to; null for none. @default a new Registry */
  registry?: Registry | null;
  /** Also record every metric through OpenTelemetry on this provider's meter. Nothing global is set. @default none */
  meterProvider?: MeterProvider;
  /** Or on this meter (takes precedence over meterProvider). @default none */
  meter?: Meter;
  /**
   * A SERVER span for every operation, by the OpenTelemetry MCP semantic conventions, on this
   * provider's tracer; null for none. @default the global tracer provider of `@opentelemetry/api`
   * (with none registered, its no-op tracer: nothing is recorded)
   */
  tracerProvider?: TracerProvider | null;
  /** What /metrics serves. @default the registry's metrics (null: no /metrics route) */
  metricsRenderer?: MetricsRenderer | null;
  /** Told about every connection event, beside the built-in metrics and logs. @default none */
  monitor?: ConnectionMonitor | readonly ConnectionMonitor[];
  /** Structured logger (pino fits). @default silent */
  logger?: Logger;
  /** How client addresses are shown. @default 'truncate' */
  ipMasking?: IpMaskingMode;
  /** Peers (addresses, CIDRs) whose X-Forwarded-For / X-Real-IP is believed. @default none */
  trustProxy?: readonly string[];
  /** Clients (clientInfo.name) that get a client_name label of their own. @default the first 20 seen */
  clientNames?: readonly string[];
  /** Closed connections kept for /api/mcp/connections/history. @default 1000 */
  historyLimit?: number;
  /** Least time between two mcp_connections_data events, in ms. @default 1000 */
  eventsSummaryIntervalMs?: number;
  /** 2025 sessions seen on the wire are forgotten after this long without a request, in seconds. @default 1800 */
  sessionIdleTimeoutSeconds?: number;
  /** A 2025 session followed on the wire that the monitor lets go of (idle, shutdown) is ended by this: a proxy ends it upstream. @default none */
  endWireSession?: (sessionId: string, protocolVersion: string) => Promise<void> | void;
  /**
   * Answer /-/ready 200 while the MCP server behind a proxy does not answer. @default false:
   * 503, so a load balancer sends clients to a proxy that can serve them
   */
  readyWhenUpstreamDown?: boolean;
  /** Bearer token required on /metrics and /api/mcp/* (not on the probes). @default none */
  adminToken?: string;
  /** The MCP endpoint path, shown by /api/mcp/status. @default '/mcp' */
  endpoint?: string;
  /** The tools the server offers (also teaches the tool label which names are real). @default learnt from tools/list answers */
  tools?: readonly ToolSummary[];
  /** Settings shown by /api/mcp/status; no secrets. @default {} */
  config?: Readonly<Record<string, unknown>>;
  /** Largest request body nodeHandler reads. @default 4 MiB */
  maxBodyBytes?: number;
  /** Epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** A node:http (or express) request handler; `parsedBody` is what a body parser such as express.json() made. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown) => Promise<void>;

/** Express or connect middleware: `next()` hands the request on, `next(error)` to the app's error handler. */
export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** The client id an auth middleware verified (`req.auth`, the SDK's AuthInfo): never its token. */
function authClientOf(req: IncomingMessage): string | undefined {
  // An auth middleware sets its own property: looking `auth` up through the prototypes instead
  // walks them all when there is none, 3,000 instructions under express (see middleware()).
  if (!Object.hasOwn(req, 'auth')) return undefined;
  const id = (req as { auth?: { clientId?: unknown } }).auth?.clientId;
  return typeof id === 'string' && id !== '' ? boundedText(id) : undefined;
}

const asList = <T>(value: T | readonly T[] | undefined): readonly T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value as T]);

/** The request headers that tell who the client is. */
type ClientHeaders = Pick<IncomingHttpHeaders, 'user-agent'> & { 'x-forwarded-for'?: string | string[] | undefined; 'x-real-ip'?: string | string[] | undefined };

/**
 * Everything that monitors MCP, for a server you run yourself: the tracker, the metrics
 * (prom-client and/or OpenTelemetry), logs, history, the clients view, the event stream and
 * the admin routes. Put it in front of your handler (`nodeHandler`, `handler`) and mount
 * `adminHandler` where /metrics should be. Two monitors in one process share nothing.
 */
export class McpMonitor {
  readonly tracker: SessionTracker;
  readonly history: ConnectionHistory;
  readonly clients: RecentClients;
  readonly events: ConnectionEventStream;
  /** The registry the metrics are in, or undefined when prom-client is off. */
  readonly registry: Registry | undefined;
  /** /metrics, /api/mcp/* and /-/healthy, /-/ready, for node:http or express (`app.use(monitor.adminHandler)`). */
  readonly adminHandler: AdminHandler;
  /** Follows MCP over HTTP exchange by exchange (both eras, listen streams, 2025 sessions on the wire). */
  readonly exchanges: HttpExchangeMonitor;
  readonly logger: Logger;
  private readonly maskIp: (address: string | undefined) => string;
  private readonly proxies: TrustedProxies;
  private readonly maxBodyBytes: number;
  private readonly readyWhenUpstreamDown: boolean;
  /** The masked client address of each connection whose peer is the client (see clientIpOf). */
  private readonly addresses = new WeakMap<object, string>();
  private running = true;
  private closing: Promise<void> | undefined;

  constructor(options: McpMonitorOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.registry = options.registry === null ? undefined : (options.registry ?? new Registry());
    this.tracker = new SessionTracker({
      now: options.now,
      logger: this.logger,
      ...(options.tracerProvider === null ? {} : { spans: new OperationSpans(options.tracerProvider) }),
    });
    this.history = new ConnectionHistory(options.historyLimit ?? 1000);
    this.clients = new RecentClients({ now: options.now });
    this.events = new ConnectionEventStream({ tracker: this.tracker, summaryIntervalMs: options.eventsSummaryIntervalMs, now: options.now });
    const clientNames = options.clientNames;
    if (this.registry) this.tracker.subscribe(new PromClientMonitor(this.registry, { clientNames }));
    if (options.meter || options.meterProvider) {
      this.tracker.subscribe(new OtelMonitor({ meter: options.meter, meterProvider: options.meterProvider, clientNames }));
    }
    this.tracker.subscribe(createLogMonitor(this.logger));
    this.tracker.subscribe(this.history);
    this.tracker.subscribe(this.clients);
    this.tracker.subscribe(this.events);
    for (const monitor of asList(options.monitor)) this.tracker.subscribe(monitor);
    const tools = options.tools ?? [];
    this.tracker.tools.offer(tools);

    this.maskIp = createIpMasker(options.ipMasking ?? 'truncate');
    this.proxies = new TrustedProxies(options.trustProxy ?? []);
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.readyWhenUpstreamDown = options.readyWhenUpstreamDown ?? false;
    this.exchanges = new HttpExchangeMonitor({
      tracker: this.tracker,
      now: options.now,
      sessionIdleTimeoutMs: (options.sessionIdleTimeoutSeconds ?? 1800) * 1000,
      endSession: options.endWireSession,
    });
    this.adminHandler = createAdminHandler({
      tracker: this.tracker,
      history: this.history,
      events: this.events,
      clients: this.clients,
      metrics: options.metricsRenderer !== undefined ? options.metricsRenderer : this.registry ? promClientRenderer(this.registry) : null,
      endpoint: options.endpoint ?? '/mcp',
      tools: () => tools,
      config: options.config,
      isRunning: () => this.running,
      readyWhenUpstreamDown: options.readyWhenUpstreamDown,
      token: options.adminToken,
      now: options.now,
    });
  }

  /**
   * What is known of the client of a node:http request: its address (trusted proxies
   * resolved, masked as set), user agent, and the client id an auth middleware before this
   * one verified; and its socket, by which the monitor knows a stateless server's client again
   * after its initialize.
   */
  clientFacts(req: IncomingMessage): ExchangeFacts {
    const facts = this.factsOf(req.socket, req.headers);
    const authClientId = authClientOf(req);
    if (authClientId !== undefined) facts.authClientId = authClientId;
    return facts;
  }

  /** The client's facts but the client id, from a request's socket and headers (those it reads: user-agent, x-forwarded-for, x-real-ip). */
  factsOf(socket: Socket, headers: ClientHeaders): ExchangeFacts {
    return { clientIP: this.clientIpOf(socket, headers), userAgent: boundedText(headers['user-agent'], MAX_USER_AGENT_LENGTH), connection: socket };
  }

  /**
   * The masked address of a request's client. A connection from a peer that is not a trusted
   * proxy has one client for its life: its address is masked once (an HMAC under `hash`),
   * not on every request.
   */
  private clientIpOf(socket: Socket, headers: ClientHeaders): string {
    const known = this.addresses.get(socket);
    if (known !== undefined) return known;
    const peer = socket.remoteAddress;
    const clientIP = this.maskIp(this.proxies.clientAddress(peer, headers['x-forwarded-for'], headers['x-real-ip']));
    if (peer !== undefined && (this.proxies.size === 0 || !this.proxies.trusts(peer))) this.addresses.set(socket, clientIP);
    return clientIP;
  }

  /**
   * A web-standard MCP handler (the SDK v2's `createMcpHandler(...)`, or a router of your own
   * with a `fetch`), monitored: the same object back, for `toNodeHandler`, express, or a
   * runtime that takes `fetch` (Deno, Bun, workers). On this path the runtime does not say
   * who the client is: addresses show as `unknown` (on node, use `nodeHandler`).
   */
  handler<H extends FetchHandler>(handler: H): H {
    return this.exchanges.wrap(handler);
  }

  /**
   * A node:http or express handler for a web-standard MCP handler, like the SDK v2's
   * `toNodeHandler(handler)`, monitored and with each client's (masked) address:
   * `http.createServer(monitor.nodeHandler(handler))`, or
   * `app.all('/mcp', (req, res) => monitor.nodeHandler(handler)(req, res, req.body))`.
   */
  nodeHandler(handler: FetchHandler): NodeHandler {
    const route = { exchanges: this.exchanges, handler: this.exchanges.unwrap(handler), logger: this.logger };
    return async (req, res, parsedBody) => {
      keepAlive(req.socket);
      // express passes `next` third when the handler is mounted bare: that is no body.
      const read = await readNodeRequest(req, res, this.maxBodyBytes, this.tracker, typeof parsedBody === 'function' ? undefined : parsedBody);
      if (!read) return;
      await serveNode(req, res, read, this.clientFacts(req), { ...route, authInfo: (req as { auth?: unknown }).auth });
    };
  }

  /**
   * Middleware for express or connect, in front of MCP routes you wrote yourself (the SDK
   * v1 README's app with its own map of transports, a stateless server, one behind your
   * auth): `app.use('/mcp', monitor.middleware())`, after `express.json()` if you use it
   * and before your auth, so that its refusals are counted (the client id it verifies is
   * read once the answer starts). It watches each request and its answer from outside, as
   * `nodeHandler` does, and changes nothing your handler sees or writes (a head it flushes
   * before the body goes out with the body when that follows within the same turn of the
   * event loop: one write instead of two). A body no parser
   * read yet is read here (up to maxBodyBytes; a bad one is answered 400 or 413 and counted)
   * and left as `req.body`.
   */
  middleware(): NodeMiddleware {
    return (req, res, next) => {
      // express sets the prototype of every request and response, so V8 caches nothing about
      // them and each property read on them is a full lookup: each is read once here.
      const socket = req.socket;
      keepAlive(socket);
      const request = req as IncomingMessage & { body?: unknown };
      const method = req.method ?? 'GET';
      const parsed = request.body;
      if (parsed !== undefined || method !== 'POST' || req.readableEnded) {
        this.watchNode(req, res, socket, method, parsed, next);
        return;
      }
      // No body parser ran: the body is read here, answered and counted when it is bad.
      readJsonBody(req, res, this.maxBodyBytes, this.tracker).then(
        (read) => {
          if (!read) return;
          request.body = read.body;
          this.watchNode(req, res, socket, method, read.body, next);
        },
        (error: unknown) => next(error),
      );
    };
  }

  /** Follows one request and its answer from outside, then hands the request on (once). */
  private watchNode(req: IncomingMessage, res: ServerResponse, socket: Socket, method: string, body: unknown, next: (error?: unknown) => void): void {
    try {
      const headers = req.headers;
      // The client id is read once the answer starts: an auth placed after this middleware has run by then.
      const http = this.factsOf(socket, headers);
      const answered = this.exchanges.watchRequest(readNodeHeaders(method, headers, body), http);
      tapResponse(res, socket, (head) => {
        const authClientId = authClientOf(req);
        if (authClientId !== undefined) http.authClientId = authClientId;
        return answered(head);
      });
    } catch (error) {
      // Monitoring failed: the request goes on unwatched, and the failure is logged.
      this.logger.warn({ event: 'monitoring_failed', err: error instanceof Error ? error.message : String(error) }, 'monitoring an MCP request failed');
    }
    next();
  }

  /**
   * A stdio server transport (SDK v1 `StdioServerTransport`), monitored in process:
   * `await server.connect(monitor.stdio(new StdioServerTransport()))`. The client is a session
   * (transport="stdio") from its initialize until the transport closes; every request is
   * timed. stdout is the protocol's, so serve the metrics on a listener of their own
   * (`http.createServer(monitor.adminHandler).listen(9464)`) or push them over OTLP through
   * your own MeterProvider (`meterProvider` option); log to stderr. When `input` (the
   * stream the transport reads) ends, the client has ended the session: it is recorded as
   * client_delete and the transport closed.
   */
  stdio(transport: Transport, input: NodeJS.ReadableStream = process.stdin): MonitoredStdioTransport {
    return new MonitoredStdioTransport(transport, this.tracker, input);
  }

  /** Ends every connection it follows (reason server_shutdown) and the event stream; /-/ready answers 503 from now on. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.running = false;
      await this.exchanges.closeAll();
      this.events.close();
    })();
    return this.closing;
  }

  /** Whether close() was called. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Why the server is not ready (/-/ready answers 503), or undefined when it is. */
  notReady(): string | undefined {
    return notReadyBecause(this.running, this.tracker.upstream, this.readyWhenUpstreamDown);
  }
}
