import type { Logger } from './logger.js';
import type { ConnectionMonitor } from './types.js';

export { sessionRef } from './session-ref.js';

/**
 * Logs every connection event as one structured line, the session named by its opaque
 * reference (`session`, the API's `id`). At a level the logger drops, an event costs
 * nothing: the line is not even built.
 */
export function createLogMonitor(logger: Logger): ConnectionMonitor {
  const enabled = (level: 'debug' | 'info'): boolean => logger.isLevelEnabled?.(level) ?? true;
  return {
    onConnectionEstablished: (c) => {
      if (!enabled('info')) return;
      logger.info(
        {
          event: 'mcp_connection_established',
          session: c.id,
          kind: c.kind,
          transport: c.transport,
          clientIP: c.clientIP,
          clientName: c.clientName,
          clientVersion: c.clientVersion,
          protocolVersion: c.protocolVersion,
          userAgent: c.userAgent,
        },
        c.kind === 'subscription' ? 'MCP listen stream opened' : 'MCP session established',
      );
    },
    onConnectionClosed: (id, durationMs, c) => {
      if (!enabled('info')) return;
      logger.info(
        {
          event: 'mcp_connection_closed',
          session: id,
          kind: c.kind,
          transport: c.transport,
          clientIP: c.clientIP,
          clientName: c.clientName,
          reason: c.reason,
          durationMs,
          requestCount: c.requestCount,
        },
        c.kind === 'subscription' ? 'MCP listen stream closed' : 'MCP session closed',
      );
    },
    onRequestRejected: (reason) => {
      if (enabled('debug')) logger.debug({ event: 'mcp_request_rejected', reason }, 'MCP request rejected');
    },
    onUpstreamChange: (state) => {
      if (state.up) logger.info({ event: 'upstream_up' }, 'the MCP server behind the proxy answers');
      else logger.warn({ event: 'upstream_down', reason: state.reason }, `the MCP server behind the proxy does not answer (${state.reason ?? 'unknown'})`);
    },
  };
}
