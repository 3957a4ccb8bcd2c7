import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import { JSONRPC, sendJsonRpcError } from '../transport/http-answers.js';
import type { ReadRequest } from '../transport/read-body.js';
import { readNodeRequest } from './classifier.js';
import type { ExchangeFacts, WireHandler } from './exchange.js';
import type { HttpExchangeMonitor } from './exchange-monitor.js';
import { toWebRequest, writeWebResponse } from './fetch-bridge.js';

/**
 * Serves one node:http request through a web-standard handler, monitored exchange by
 * exchange: the one path from node to fetch, for `McpMonitor.nodeHandler` and for the hosted
 * server's 2026-07-28 and proxy traffic. A handler with NodeRelay's `relay` (a proxy's
 * upstream) gets node:http streams end to end, no web Request or Response built. `authInfo`
 * (what the user's auth verified) is handed on. Never rejects: a failure is logged and
 * answered 500 with a JSON-RPC error, or ends an answer already begun.
 */
export async function serveNode(
  req: IncomingMessage,
  res: ServerResponse,
  read: ReadRequest,
  facts: ExchangeFacts,
  route: { exchanges: HttpExchangeMonitor; handler: WireHandler; logger: Logger; authInfo?: unknown },
): Promise<void> {
  const { exchanges, handler, logger, authInfo } = route;
  try {
    if (handler.relay) {
      const relay = handler.relay.bind(handler);
      await exchanges.relay(readNodeRequest(req, read.body), facts, (answered) => relay(req, res, read.text, answered, read.body));
      return;
    }
    if (!handler.fetch) throw new TypeError('a wire handler needs fetch or relay');
    const fetch = handler.fetch.bind(handler);
    const options = authInfo === undefined ? {} : { authInfo };
    const response = await exchanges.exchange(toWebRequest(req, res, read.text), facts, read.body, (request, parsedBody) => fetch(request, { ...options, parsedBody }));
    await writeWebResponse(res, response);
  } catch (error) {
    logger.error({ event: 'mcp_request_failed', err: error instanceof Error ? error.message : String(error) }, 'MCP request failed');
    // The monitor counted its requests as this answer (INTERNAL_ERROR).
    sendJsonRpcError(res, 500, JSONRPC.internalError, 'Internal server error');
  }
}
