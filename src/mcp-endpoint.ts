import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpMonitor } from './monitor.js';
import type { StreamableHttpHost } from './sdk-v1/streamable-http-host.js';
import { isModernRequest } from './transport/era.js';
import { DEFAULT_MAX_BODY_BYTES, readNodeRequest, type ReadRequest } from './transport/read-body.js';
import type { WireHandler } from './wire/exchange.js';
import { serveNode } from './wire/serve-node.js';

export interface McpEndpointOptions {
  monitor: McpMonitor;
  /** Hosts 2025 sessions on the SDK v1 (unless `legacy` or `everything` answer them). */
  sessions: StreamableHttpHost;
  /** Answers requests of the 2026-07-28 era, monitored on the wire. @default none: the SDK v1 host answers them (it refuses) */
  modern?: WireHandler;
  /** Answers requests of the 2025 era in place of the SDK v1 host, monitored on the wire (a proxy's stdio sessions). @default none */
  legacy?: WireHandler;
  /** Answers every request, monitored on the wire (a proxy's HTTP upstream, which keeps its own sessions). @default none */
  everything?: WireHandler;
  /** Largest request body accepted. @default 4 MiB */
  maxBodyBytes?: number;
}

/**
 * The hosted MCP endpoint: each request's body is read once, its era decided once
 * (transport/era.ts), and the request served by the handler of its era: the SDK v1 host for
 * 2025 sessions, or a handler followed on the wire. Never rejects.
 */
export function createMcpEndpoint(options: McpEndpointOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { monitor, sessions } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const on = (handler: WireHandler | undefined) => handler && { exchanges: monitor.exchanges, handler, logger: monitor.logger };
  const everything = on(options.everything);
  const modern = on(options.modern);
  const legacy = on(options.legacy);
  const serve = (req: IncomingMessage, res: ServerResponse, read: ReadRequest | undefined): Promise<void> | undefined => {
    if (!read) return undefined;
    let route = everything;
    if (!route) {
      const version = req.headers['mcp-protocol-version'];
      route = isModernRequest(Array.isArray(version) ? version[0] : version, read.body) ? modern : legacy;
    }
    return route ? serveNode(req, res, read, monitor.clientFacts(req), route) : sessions.handle(req, res, read.body);
  };
  return (req, res) => readNodeRequest(req, res, maxBodyBytes, monitor.tracker).then((read) => serve(req, res, read));
}
