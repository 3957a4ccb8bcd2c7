import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpMonitor } from './monitor.js';
import type { StreamableHttpHost } from './sdk-v1/streamable-http-host.js';
import { isModernRequest } from './transport/era.js';
import { DEFAULT_MAX_BODY_BYTES, readNodeRequest } from './transport/read-body.js';
import type { FetchHandler, NodeRelay } from './wire/exchange.js';
import { serveNode } from './wire/serve-node.js';

export interface McpEndpointOptions {
  monitor: McpMonitor;
  /** Hosts 2025 sessions on the SDK v1. */
  sessions: StreamableHttpHost;
  /**
   * A web-standard handler, monitored on the wire, that answers requests of the 2026-07-28 era
   * (`scope: 'modern'`) or every request (`scope: 'all'`: a proxy's upstream, which keeps its
   * own 2025 sessions). @default none: every request goes to the SDK v1 host
   */
  fetchHandler?: { handler: FetchHandler & Partial<NodeRelay>; scope: 'modern' | 'all' };
  /** Largest request body accepted. @default 4 MiB */
  maxBodyBytes?: number;
}

/**
 * The hosted MCP endpoint: each request's body is read once, its era decided once
 * (transport/era.ts), and the request served by the SDK v1 host (2025 sessions) or through
 * the fetch handler on the wire (the 2026-07-28 era, or everything for a proxy). Never rejects.
 */
export function createMcpEndpoint(options: McpEndpointOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { monitor, sessions, fetchHandler } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const route = fetchHandler && { exchanges: monitor.exchanges, handler: fetchHandler.handler, logger: monitor.logger };
  const everything = fetchHandler?.scope === 'all';
  return async (req, res) => {
    const read = await readNodeRequest(req, res, maxBodyBytes, monitor.tracker);
    if (!read) return;
    const version = req.headers['mcp-protocol-version'];
    if (route && (everything || isModernRequest(Array.isArray(version) ? version[0] : version, read.body))) {
      await serveNode(req, res, read, monitor.clientFacts(req), route);
      return;
    }
    await sessions.handle(req, res, read.body);
  };
}
