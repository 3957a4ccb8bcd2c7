import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionHistory } from '../core/history.js';
import type { RecentClients } from '../core/recent-clients.js';
import type { SessionTracker } from '../core/session-tracker.js';
import { CONNECTION_KINDS, type ConnectionKind } from '../core/types.js';
import type { MetricsRenderer } from '../metrics/exposition.js';
import { sendJson } from '../transport/http-answers.js';
import { bearerTokenCheck } from './bearer-auth.js';
import { handleProbe, notReadyBecause } from './probes.js';
import type { ConnectionEventStream } from './event-stream.js';

/** A tool as tools/list describes it. */
export interface ToolSummary {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
}

export interface AdminRoutesOptions {
  tracker: SessionTracker;
  /** Renders /metrics; null turns the route off. */
  metrics: MetricsRenderer | null;
  /** Closed sessions for /connections/history; without it the route answers 404. @default none */
  history?: ConnectionHistory;
  /** The live event stream for /connections/events; without it the route answers 404. @default none */
  events?: ConnectionEventStream;
  /** The clients active recently, for /clients; without it the route answers 404. @default none */
  clients?: RecentClients;
  /** The MCP endpoint path, shown by /status and /health. */
  endpoint: string;
  /** The tools the server offers. @default none */
  tools?: () => readonly ToolSummary[];
  /** Effective settings shown by /status; never put secrets here. @default {} */
  config?: Readonly<Record<string, unknown>>;
  /** Whether the MCP server is up, for /status, /health and /-/ready. @default always true */
  isRunning?: () => boolean;
  /**
   * Whether /-/ready answers 200 while the server behind a proxy is down (the tracker's
   * `upstream`). @default false: 503, so a load balancer sends clients to a proxy that can serve them
   */
  readyWhenUpstreamDown?: boolean;
  /** Bearer token required on every route (401 otherwise). @default none */
  token?: string;
  /** @default Date.now */
  now?: () => number;
}

/** Node-style handler; `next` (as express passes it) is called for paths it does not serve. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/** The largest page /api/mcp/connections hands out. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

const API = '/api/mcp';
/** Longest id a 404 repeats back. */
const MAX_ID_ECHO = 64;

type Page = { ok: true; limit: number; offset: number } | { ok: false; error: string };

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function parsePage(query: URLSearchParams, maxLimit = MAX_PAGE, defaultLimit = DEFAULT_PAGE): Page {
  const read = (name: string, fallback: number, min: number, max: number): number | string => {
    const raw = query.get(name);
    if (raw === null || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) return `${name} must be a whole number from ${min} to ${max}`;
    return value;
  };
  const limit = read('limit', Math.min(defaultLimit, maxLimit), 1, Math.max(1, maxLimit));
  if (typeof limit === 'string') return { ok: false, error: limit };
  const offset = read('offset', 0, 0, Number.MAX_SAFE_INTEGER);
  if (typeof offset === 'string') return { ok: false, error: offset };
  return { ok: true, limit, offset };
}

/**
 * /metrics and /api/mcp/* as one handler, for our own listener or any host app
 * (`app.use(createAdminHandler(...))` in express, or call it from node:http).
 */
export function createAdminHandler(options: AdminRoutesOptions): AdminHandler {
  const { tracker, metrics, endpoint } = options;
  const tools = options.tools ?? (() => []);
  const config = options.config ?? {};
  const isRunning = options.isRunning ?? (() => true);
  const notReady = (): string | undefined => notReadyBecause(isRunning(), tracker.upstream, options.readyWhenUpstreamDown === true);
  const now = options.now ?? Date.now;
  const authorized = options.token === undefined ? undefined : bearerTokenCheck(options.token);
  const counts = () => ({ active: tracker.activeCount, total: tracker.totalCount });
  const byKind = () => ({
    session: { active: tracker.activeOf('session'), total: tracker.totalOf('session') },
    subscription: { active: tracker.activeOf('subscription'), total: tracker.totalOf('subscription') },
  });

  const routes: Record<string, (res: ServerResponse, query: URLSearchParams, req: IncomingMessage) => void | Promise<void>> = {
    [`${API}/connections`]: (res, query) => {
      const page = parsePage(query);
      if (!page.ok) return sendJson(res, 400, { error: page.error });
      const kind = query.get('kind');
      if (kind !== null && !CONNECTION_KINDS.includes(kind as ConnectionKind)) {
        return sendJson(res, 400, { error: `kind must be one of ${CONNECTION_KINDS.join(', ')}` });
      }
      sendJson(res, 200, {
        activeConnections: tracker.activeCount,
        totalConnections: tracker.totalCount,
        byKind: byKind(),
        limit: page.limit,
        offset: page.offset,
        connections: tracker.getConnections(page.offset, page.limit, (kind ?? undefined) as ConnectionKind | undefined),
        lastUpdated: new Date(now()).toISOString(),
      });
    },
    [`${API}/clients`]: (res, query) => {
      const { clients } = options;
      if (!clients) return sendJson(res, 404, { error: 'Not found: the clients view is off' });
      const page = parsePage(query, clients.capacity);
      if (!page.ok) return sendJson(res, 400, { error: page.error });
      const list = clients.list();
      sendJson(res, 200, {
        windowSeconds: clients.windowSeconds,
        activeClients: list.length,
        limit: page.limit,
        clients: list.slice(0, page.limit),
        lastUpdated: new Date(now()).toISOString(),
      });
    },
    [`${API}/connections/history`]: (res, query) => {
      const { history } = options;
      if (!history) return sendJson(res, 404, { error: 'Not found: connection history is off' });
      const page = parsePage(query, history.capacity, history.capacity);
      if (!page.ok) return sendJson(res, 400, { error: page.error });
      sendJson(res, 200, { limit: page.limit, connections: history.newest(page.limit) });
    },
    [`${API}/connections/events`]: (res, _query, req) => {
      const { events } = options;
      if (!events) return sendJson(res, 404, { error: 'Not found: the event stream is off' });
      if (req.method !== 'GET') return sendJson(res, 405, { error: 'Method not allowed: use GET' }, { Allow: 'GET' });
      events.subscribe(req, res);
    },
    [`${API}/connections/count`]: (res) =>
      sendJson(res, 200, { activeConnections: tracker.activeCount, byKind: byKind(), timestamp: new Date(now()).toISOString() }),
    [`${API}/status`]: (res) => {
      const list = tools();
      sendJson(res, 200, {
        isRunning: isRunning(),
        toolsCount: list.length,
        endpoint,
        tools: list.map((tool) => tool.name),
        config,
        connections: counts(),
      });
    },
    [`${API}/health`]: (res) => {
      const running = isRunning();
      const upstream = tracker.upstream;
      const healthy = running && upstream?.up !== false;
      sendJson(res, healthy ? 200 : 503, {
        healthy,
        serverRunning: running,
        ...(!running ? { reason: 'the server is starting or shutting down' } : upstream?.up === false ? { reason: `the MCP server behind the proxy does not answer (${upstream.reason ?? 'unknown'})` } : {}),
        ...(upstream ? { upstream: { up: upstream.up, since: new Date(upstream.since).toISOString(), ...(upstream.reason ? { reason: upstream.reason } : {}) } } : {}),
        toolsCount: tools().length,
        endpoint,
        connections: counts(),
        lastCheck: new Date(now()).toISOString(),
      });
    },
    [`${API}/tools`]: (res) => {
      const list = tools();
      sendJson(res, 200, { count: list.length, tools: list });
    },
  };
  if (metrics) {
    routes['/metrics'] = async (res, _query, req) => {
      const answer = await metrics(req.headers.accept);
      res.writeHead(200, {
        'Content-Type': answer.contentType,
        'Content-Length': Buffer.byteLength(answer.body),
        'Cache-Control': 'no-store',
      });
      res.end(answer.body);
    };
  }

  return (req, res, next) => {
    // Mounted in an app, most requests are the app's (its MCP route among them): passed on at once.
    if (next && !mayServe(req.url ?? '/')) return next();
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const path = url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
    // Probes come before the token: a healthcheck holds no secret, and they show nothing of sessions.
    if (handleProbe(req, res, path, notReady)) return;
    // A listener of its own (no app around it to pass on to) has a landing page, as exporters do: links only.
    if (path === '/' && !next) return landingPage(req, res, endpoint, metrics !== undefined);
    let route = routes[path];
    if (!route && path.startsWith(`${API}/connections/`)) {
      // The connection's reference (its `id`), never a session id: those are not looked up.
      const id = safeDecode(path.slice(`${API}/connections/`.length)).slice(0, MAX_ID_ECHO);
      route = (res) => {
        const connection = tracker.getConnection(id);
        if (connection) sendJson(res, 200, connection);
        else sendJson(res, 404, { error: 'Connection not found', id });
      };
    }
    if (!route) {
      if (next) return next();
      if (path === API || path.startsWith(`${API}/`)) return sendJson(res, 404, { error: 'Not found', path });
      return sendJson(res, 404, { error: 'Not found' });
    }
    if (authorized && !authorized(req)) {
      tracker.reject('unauthorized');
      return sendJson(res, 401, { error: 'Unauthorized: send Authorization: Bearer <admin token>' }, {
        'WWW-Authenticate': 'Bearer realm="mcp-exporter"',
      });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { error: 'Method not allowed: use GET' }, { Allow: 'GET, HEAD' });
    }
    Promise.resolve(route(res, url.searchParams, req)).catch((error: unknown) => {
      if (next) return next(error);
      sendJson(res, 500, { error: 'Internal error', detail: error instanceof Error ? error.message : String(error) });
    });
  };
}

/** Whether a request's path may be one of the admin routes (checked before the URL is parsed). */
function mayServe(url: string): boolean {
  return url.startsWith('/metrics') || url.startsWith(API) || url.startsWith('/-/');
}

/** `/`: what a browser pointed at the exporter sees, links to every route; no data, so no token. */
function landingPage(req: IncomingMessage, res: ServerResponse, endpoint: string, metrics: boolean): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'Method not allowed: use GET' }, { Allow: 'GET, HEAD' });
  const link = (href: string, text: string): string => `<li><a href="${href}">${href}</a> ${text}</li>`;
  const body = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>mcp-exporter</title></head><body>',
    '<h1>mcp-exporter</h1>',
    `<p>Sessions, operations and clients of the MCP server at <code>${endpoint.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</code>.</p>`,
    '<ul>',
    metrics ? link('/metrics', 'Prometheus metrics') : '',
    link(`${API}/status`, 'status and settings'),
    link(`${API}/connections`, 'open sessions and listen streams'),
    link(`${API}/connections/history`, 'closed sessions'),
    link(`${API}/connections/events`, 'live events (Server-Sent Events)'),
    link(`${API}/clients`, 'clients of the last hour'),
    link('/-/healthy', 'liveness'),
    link('/-/ready', 'readiness'),
    '</ul>',
    '</body></html>',
    '',
  ].join('\n');
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
