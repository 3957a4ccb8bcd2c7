import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionTracker } from '../core/session-tracker.js';
import { JSONRPC, sendJsonRpcError } from './http-answers.js';

export interface RequestGuardOptions {
  /** Host header values accepted (`host` matches any port, `host:port` only that port). Empty: any. */
  allowedHosts?: readonly string[];
  /** Origin header values accepted when a request carries one. Empty: any. */
  allowedOrigins?: readonly string[];
}

/**
 * DNS-rebinding protection for the MCP routes, as the SDK's transports offer it, done
 * once before any session work so every refusal is answered alike and counted as
 * forbidden_host.
 */
export function createRequestGuard(options: RequestGuardOptions, tracker: SessionTracker): ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined {
  const hosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  const origins = new Set(options.allowedOrigins ?? []);
  if (hosts.size === 0 && origins.size === 0) return undefined;
  const hostAllowed = (header: string | undefined): boolean => {
    if (hosts.size === 0) return true;
    if (!header) return false;
    const host = header.toLowerCase();
    if (hosts.has(host)) return true;
    const bare = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':', 1)[0];
    return bare !== undefined && hosts.has(bare);
  };
  return (req, res) => {
    const origin = req.headers.origin;
    if (hostAllowed(req.headers.host) && (origins.size === 0 || origin === undefined || origins.has(origin))) return true;
    tracker.reject('forbidden_host');
    sendJsonRpcError(res, 403, JSONRPC.serverError, 'Forbidden: this Host or Origin is not allowed (see --allowed-hosts, --allowed-origins)');
    return false;
  };
}
