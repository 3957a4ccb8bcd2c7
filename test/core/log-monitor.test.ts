import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogMonitor, sessionRef } from '../../src/core/log-monitor.js';
import type { Logger } from '../../src/core/logger.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ClosedConnectionInfo, ConnectionInfo } from '../../src/core/types.js';

const SESSION = '9b2f6c1e-5e55-4a0d-9c1e-0123456789ab';
/** What the tracker hands monitors: the session's reference, never its id. */
const REF = sessionRef(SESSION);

const connection: ConnectionInfo = {
  id: REF,
  kind: 'session',
  clientIP: '203.0.113.0',
  userAgent: 'test-agent/1.0',
  connectedAt: '2025-01-02T03:04:05.000Z',
  lastActivity: '2025-01-02T03:04:06.000Z',
  requestCount: 3,
  transport: 'streamable_http',
  clientName: 'test-client',
  clientVersion: '1.2.3',
  protocolVersion: '2025-06-18',
};
const closed: ClosedConnectionInfo = { ...connection, closedAt: '2025-01-02T03:04:07.000Z', durationMs: 2000, reason: 'client_delete' };

/** A real pino logger at `level` whose lines land in an array. */
function pinoLines(level: string): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level, base: undefined, timestamp: false }, sink), lines };
}

/** Every event a monitor can get, once each. */
function sendAll(logger: Logger): void {
  const monitor = createLogMonitor(logger);
  monitor.onConnectionEstablished?.(connection);
  monitor.onConnectionClosed?.(REF, 2000, closed);
  monitor.onRequestRejected?.('unknown_session');
}

describe('createLogMonitor', () => {
  it('writes one structured line per event at info, the session as a one-way reference', () => {
    const { logger, lines } = pinoLines('debug');
    sendAll(logger);
    const ref = sessionRef(SESSION);
    expect(ref).toMatch(/^[0-9a-f]{12}$/);
    expect(lines).toEqual([
      {
        level: 30,
        event: 'mcp_connection_established',
        session: ref,
        kind: 'session',
        transport: 'streamable_http',
        clientIP: '203.0.113.0',
        clientName: 'test-client',
        clientVersion: '1.2.3',
        protocolVersion: '2025-06-18',
        userAgent: 'test-agent/1.0',
        msg: 'MCP session established',
      },
      {
        level: 30,
        event: 'mcp_connection_closed',
        session: ref,
        kind: 'session',
        transport: 'streamable_http',
        clientIP: '203.0.113.0',
        clientName: 'test-client',
        reason: 'client_delete',
        durationMs: 2000,
        requestCount: 3,
        msg: 'MCP session closed',
      },
      { level: 20, event: 'mcp_request_rejected', reason: 'unknown_session', msg: 'MCP request rejected' },
    ]);
    expect(JSON.stringify(lines)).not.toContain(SESSION);
  });

  it('at info, leaves out the debug line; at warn, writes nothing', () => {
    const info = pinoLines('info');
    sendAll(info.logger);
    expect(info.lines.map((line) => line.event)).toEqual(['mcp_connection_established', 'mcp_connection_closed']);
    const warn = pinoLines('warn');
    sendAll(warn.logger);
    expect(warn.lines).toEqual([]);
  });

  it('builds no line, and hashes no session id, for a level the logger drops', () => {
    let reads = 0;
    const watched = { ...connection };
    Object.defineProperty(watched, 'id', {
      get: () => {
        reads += 1;
        return SESSION;
      },
    });
    createLogMonitor(silentLogger).onConnectionEstablished?.(watched);
    expect(reads).toBe(0);
    createLogMonitor(pinoLines('info').logger).onConnectionEstablished?.(watched);
    expect(reads).toBe(1);
  });

  it('logs every level for a logger that cannot say which are on', () => {
    const calls: string[] = [];
    const plain: Logger = {
      debug: (fields) => calls.push(`debug ${(fields as { event: string }).event}`),
      info: (fields) => calls.push(`info ${(fields as { event: string }).event}`),
      warn: () => {},
      error: () => {},
    };
    sendAll(plain);
    expect(calls).toEqual(['info mcp_connection_established', 'info mcp_connection_closed', 'debug mcp_request_rejected']);
  });
});
