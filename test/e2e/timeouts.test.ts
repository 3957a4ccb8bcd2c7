import { connect } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startMonitoredServer, type MonitoredServer } from '../../src/server.js';

let server: MonitoredServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Opens a raw connection, writes `text`, and resolves with the seconds until the server closes it, and what it answered. */
function stall(port: number, text: string): Promise<{ seconds: number; answer: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ seconds: (performance.now() - started) / 1000, answer: answer.split('\r\n')[0] ?? '' }));
  });
}

describe('slow clients are cut within a second of their limit', () => {
  it('unfinished headers at headersTimeoutMs, an unfinished body at requestTimeoutMs', async () => {
    server = await startMonitoredServer({ serverFactory: () => new McpServer({ name: 's', version: '1' }), port: 0, headersTimeoutMs: 1500, requestTimeoutMs: 3000 });
    const [headers, body] = await Promise.all([
      stall(server.port, 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n'),
      stall(server.port, 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc"'),
    ]);
    expect(headers.answer).toBe('HTTP/1.1 408 Request Timeout');
    expect(headers.seconds).toBeGreaterThanOrEqual(1.5);
    expect(headers.seconds).toBeLessThan(2.5);
    expect(body.answer).toBe('HTTP/1.1 408 Request Timeout');
    expect(body.seconds).toBeGreaterThanOrEqual(3);
    expect(body.seconds).toBeLessThan(4);
  });
});
