import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { JSONRPC, sendJsonRpcError } from './http-answers.js';

export interface RequestGuardOptions {
  /**
   * Host header values accepted (`host` matches any port, `host:port` only that port).
   * @default loopback names when `bindHost` is a loopback address; any Host otherwise
   */
  allowedHosts?: readonly string[];
  /**
   * Origin header values accepted when a request carries one, and answered with CORS
   * headers; `*` accepts every origin. @default loopback origins when the Host check is the
   * loopback default; any origin otherwise, without CORS headers
   */
  allowedOrigins?: readonly string[];
  /** The address the listener is bound to. @default '127.0.0.1' */
  bindHost?: string;
}

/** What the guard refuses is counted through this (a SessionTracker is one). */
export interface GuardRefusals {
  reject(reason: 'forbidden_host'): void;
}

/** How Host or Origin headers are checked. */
export type HeaderCheck = 'list' | 'loopback' | 'off';

export interface RequestGuard {
  readonly hostCheck: HeaderCheck;
  readonly originCheck: HeaderCheck;
  /**
   * Checks Host and Origin before any session work. Answers a refusal (403, counted as
   * forbidden_host) or a CORS preflight itself and returns false; otherwise adds the CORS
   * headers an allowed browser origin needs and returns true.
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean;
  /** Whether a request with this Host header passes the Host check (answers nothing, counts nothing). */
  hostAllowed(header: string | undefined): boolean;
}

/** Host names of the loopback interface, as Host and Origin headers write them. */
const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Request headers a browser MCP client sends (both protocol eras), for preflights. */
export const CORS_ALLOW_HEADERS = 'Accept, Authorization, Content-Type, Last-Event-ID, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name';
/** Response headers a browser MCP client must be able to read. */
export const CORS_EXPOSE_HEADERS = 'Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate';
const CORS_ALLOW_METHODS = 'GET, POST, DELETE';
/** Distinct accepted Host values remembered, so most requests cost one Set lookup. */
const HOST_CACHE_LIMIT = 64;

/** Whether a bind address is the loopback interface: then only this machine's clients reach it. */
export function isLoopbackBind(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/;

/** `host[:port]` of a Host header, lower-cased, or undefined when it is not one. */
function parseHost(header: string): { name: string; port: string | undefined } | undefined {
  const match = HOST_HEADER.exec(header.toLowerCase());
  return match ? { name: match[1] ?? '', port: match[2] } : undefined;
}

/** `host:port` (or `host`) of an origin, or undefined for `null` and anything that is not an http(s) origin. */
function originHost(origin: string): { name: string; port: string | undefined } | undefined {
  const scheme = /^https?:\/\//i.exec(origin);
  return scheme ? parseHost(origin.slice(scheme[0].length)) : undefined;
}

/**
 * DNS-rebinding protection and CORS for the MCP routes, done once before any session work
 * so every refusal is answered alike and counted as forbidden_host. Bound to loopback, only
 * loopback Host names (any port, as the SDK's own check) and loopback origins pass unless
 * lists say otherwise; bound to a wildcard address, only what the lists name is checked.
 */
export function createRequestGuard(options: RequestGuardOptions, refusals: GuardRefusals): RequestGuard {
  const hostList = (options.allowedHosts ?? []).map((entry) => entry.toLowerCase());
  const originList = options.allowedOrigins ?? [];
  const hostCheck: HeaderCheck = hostList.length > 0 ? 'list' : isLoopbackBind(options.bindHost ?? '127.0.0.1') ? 'loopback' : 'off';
  const originCheck: HeaderCheck = originList.length > 0 ? 'list' : hostCheck === 'loopback' ? 'loopback' : 'off';
  const anyOrigin = originList.includes('*');
  const origins = new Set(originList);
  const hostEntries = new Set(hostList);
  const okHosts = new Set<string>();

  const hostAllowed = (header: string | undefined): boolean => {
    if (hostCheck === 'off') return true;
    if (header === undefined) return false;
    if (okHosts.has(header)) return true;
    const host = parseHost(header);
    if (!host) return false;
    const ok =
      hostCheck === 'loopback'
        ? LOOPBACK_NAMES.has(host.name)
        : hostEntries.has(host.name) || (host.port !== undefined && hostEntries.has(`${host.name}:${host.port}`));
    if (ok && okHosts.size < HOST_CACHE_LIMIT) okHosts.add(header);
    return ok;
  };
  /** Whether a request with this Origin is served and answered with CORS headers. */
  const originAllowed = (origin: string): boolean => {
    if (originCheck === 'list') return anyOrigin || origins.has(origin);
    if (originCheck === 'loopback') return LOOPBACK_NAMES.has(originHost(origin)?.name ?? '');
    return false;
  };

  const refuse = (res: ServerResponse): false => {
    refusals.reject('forbidden_host');
    sendJsonRpcError(res, 403, JSONRPC.serverError, 'Forbidden: this Host or Origin is not allowed (see --allowed-hosts, --allowed-origins)');
    return false;
  };

  return {
    hostCheck,
    originCheck,
    hostAllowed,
    admit(req, res) {
      if (!hostAllowed(req.headers.host)) return refuse(res);
      const origin = req.headers.origin;
      const cors = origin !== undefined && originAllowed(origin);
      // Without a check, any origin is served as before, but no CORS header lets a browser read it.
      if (origin !== undefined && !cors && originCheck !== 'off') return refuse(res);
      if (req.method === 'OPTIONS') {
        const headers: Record<string, string> = { Allow: `${CORS_ALLOW_METHODS}, OPTIONS` };
        if (cors) {
          headers['Access-Control-Allow-Origin'] = origin;
          headers['Access-Control-Allow-Methods'] = CORS_ALLOW_METHODS;
          headers['Access-Control-Allow-Headers'] = CORS_ALLOW_HEADERS;
          headers['Access-Control-Max-Age'] = '7200';
          headers.Vary = 'Origin';
        }
        res.writeHead(204, headers);
        res.end();
        return false;
      }
      if (cors) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
        res.setHeader('Vary', 'Origin');
      }
      return true;
    },
  };
}
