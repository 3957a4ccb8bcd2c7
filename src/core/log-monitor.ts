import { createHash } from 'node:crypto';
import type { Logger } from './logger.js';
import type { ConnectionMonitor } from './types.js';

/**
 * A short, one-way reference to a session for log lines: enough to follow one session
 * through the log, useless for taking it over (the session id itself is a credential).
 */
export function sessionRef(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex').slice(0, 12);
}

/**
 * Logs every connection event as one structured line. At a level the logger drops, an
 * event costs nothing: the line (and its session hash) is not even built.
 */
export function createLogMonitor(logger: Logger): ConnectionMonitor {
  const enabled = (level: 'debug' | 'info'): boolean => logger.isLevelEnabled?.(level) ?? true;
  return {
    onConnectionEstablished: (c) => {
      if (!enabled('info')) return;
      logger.info(
        {
          event: 'mcp_connection_established',
          session: sessionRef(c.sessionId),
          transport: c.transport,
          clientIP: c.clientIP,
          clientName: c.clientName,
          clientVersion: c.clientVersion,
          protocolVersion: c.protocolVersion,
          userAgent: c.userAgent,
        },
        'MCP session established',
      );
    },
    onConnectionClosed: (sessionId, durationMs, c) => {
      if (!enabled('info')) return;
      logger.info(
        {
          event: 'mcp_connection_closed',
          session: sessionRef(sessionId),
          transport: c.transport,
          clientIP: c.clientIP,
          clientName: c.clientName,
          reason: c.reason,
          durationMs,
          requestCount: c.requestCount,
        },
        'MCP session closed',
      );
    },
    onRequestRejected: (reason) => {
      if (enabled('debug')) logger.debug({ event: 'mcp_request_rejected', reason }, 'MCP request rejected');
    },
  };
}
