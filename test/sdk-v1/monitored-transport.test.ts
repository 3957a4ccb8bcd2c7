import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { ToolCatalog } from '../../src/core/tool-catalog.js';
import type { OperationInfo } from '../../src/core/types.js';
import { MonitoredTransport } from '../../src/sdk-v1/monitored-transport.js';

const CLIENT = { clientName: 'rig', clientVersion: '1', clientIP: '127.0.0.0', userAgent: 'test' };

/** A MonitoredTransport over one end of an in-memory pair, with a clock the test moves. */
async function rig() {
  const [client, server] = InMemoryTransport.createLinkedPair();
  const records: OperationInfo[] = [];
  let now = 0;
  const tools = new ToolCatalog();
  tools.offer([{ name: 'echo' }, { name: 'fail' }, { name: 'sleep' }]);
  const sink = { tools, recordOperation: (op: OperationInfo) => void records.push(op) };
  const monitored = new MonitoredTransport(server, 'streamable_http', sink, () => now);
  monitored.client = CLIENT;
  monitored.protocolVersion = '2025-06-18';
  const received: JSONRPCMessage[] = [];
  monitored.onmessage = (message) => void received.push(message);
  await monitored.start();
  await client.start();
  const request = (id: number, method: string, name?: string) =>
    client.send({ jsonrpc: '2.0', id, method, params: name === undefined ? {} : { name, arguments: {} } });
  return { client, monitored, records, received, request, tools, setNow: (ms: number) => void (now = ms) };
}

describe('MonitoredTransport', () => {
  it('times requests answered out of order, one or several pending at a time', async () => {
    const { monitored, records, received, request, setNow } = await rig();
    await request(1, 'tools/call', 'echo');
    await request(2, 'tools/list');
    await request(3, 'tools/call', 'fail');
    expect(received).toHaveLength(3);
    expect(monitored.pendingCount).toBe(3);

    setNow(250);
    await monitored.send({ jsonrpc: '2.0', id: 2, result: { tools: [] } });
    setNow(500);
    await monitored.send({ jsonrpc: '2.0', id: 3, result: { content: [], isError: true } });
    setNow(1000);
    await monitored.send({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad' } });
    expect(monitored.pendingCount).toBe(0);

    // A notification and an answer to nothing pending are not operations.
    await request(4, 'ping');
    setNow(1500);
    await monitored.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
    await monitored.send({ jsonrpc: '2.0', id: 99, result: {} });
    await monitored.send({ jsonrpc: '2.0', id: 4, result: {} });

    expect(records).toEqual([
      { transport: 'streamable_http', method: 'tools/list', toolName: '', protocolVersion: '2025-06-18', client: CLIENT, errorType: '', durationSeconds: 0.25 },
      { transport: 'streamable_http', method: 'tools/call', toolName: 'fail', protocolVersion: '2025-06-18', client: CLIENT, errorType: 'tool_error', durationSeconds: 0.5 },
      { transport: 'streamable_http', method: 'tools/call', toolName: 'echo', protocolVersion: '2025-06-18', client: CLIENT, errorType: '-32602', durationSeconds: 1 },
      { transport: 'streamable_http', method: 'ping', toolName: '', protocolVersion: '2025-06-18', client: CLIENT, errorType: '', durationSeconds: 0.5 },
    ]);
  });

  it('records every request still pending at close as _OTHER, once', async () => {
    const { client, monitored, records, request, setNow } = await rig();
    let closed = 0;
    monitored.onclose = () => void closed++;
    await request(1, 'tools/call', 'sleep');
    await request(2, 'tools/call', 'sleep');
    await request(3, 'resources/list');
    setNow(2000);
    await monitored.send({ jsonrpc: '2.0', id: 2, result: { content: [] } });
    setNow(3000);
    await client.close(); // the client goes away with two requests unanswered

    expect(closed).toBe(1);
    expect(monitored.pendingCount).toBe(0);
    expect(records).toEqual([
      { transport: 'streamable_http', method: 'tools/call', toolName: 'sleep', protocolVersion: '2025-06-18', client: CLIENT, errorType: '', durationSeconds: 2 },
      { transport: 'streamable_http', method: 'tools/call', toolName: 'sleep', protocolVersion: '2025-06-18', client: CLIENT, errorType: '_OTHER', durationSeconds: 3 },
      { transport: 'streamable_http', method: 'resources/list', toolName: '', protocolVersion: '2025-06-18', client: CLIENT, errorType: '_OTHER', durationSeconds: 3 },
    ]);
  });

  it('records made-up tools and methods as other, and learns tools from a tools/list answer', async () => {
    const { monitored, records, request, tools } = await rig();
    await request(1, 'tools/call', 'later');
    await monitored.send({ jsonrpc: '2.0', id: 1, result: { content: [], isError: true } });
    await request(2, 'bogus/method');
    await monitored.send({ jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'Method not found' } });
    await request(3, 'tools/list');
    await monitored.send({ jsonrpc: '2.0', id: 3, result: { tools: [{ name: 'echo', inputSchema: {} }, { name: 'later', inputSchema: {} }] } });
    await request(4, 'tools/call', 'later');
    await monitored.send({ jsonrpc: '2.0', id: 4, result: { content: [] } });
    expect(tools.size).toBe(4);
    expect(records.map((r) => [r.method, r.toolName, r.errorType])).toEqual([
      ['tools/call', 'other', 'tool_error'],
      ['other', '', '-32601'],
      ['tools/list', '', ''],
      ['tools/call', 'later', ''],
    ]);
  });
  it("keeps the user's own onclose and onerror on the inner transport, set before or after wrapping", async () => {
    for (const order of ['before', 'after'] as const) {
      const [client, inner] = InMemoryTransport.createLinkedPair();
      const calls: string[] = [];
      const own = () => {
        inner.onclose = () => void calls.push('user onclose');
        inner.onerror = (error) => void calls.push(`user onerror ${error.message}`);
      };
      if (order === 'before') own();
      const sink = { tools: new ToolCatalog(), recordOperation: (op: OperationInfo) => void calls.push(`recorded ${op.method} ${op.errorType}`) };
      const monitored = new MonitoredTransport(inner, 'streamable_http', sink);
      monitored.onclose = () => void calls.push('wrapper onclose');
      monitored.onerror = (error) => void calls.push(`wrapper onerror ${error.message}`);
      if (order === 'after') own();
      await monitored.start();
      await client.start();
      await client.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
      inner.onerror?.(new Error('boom'));
      await client.close();
      expect(calls, order).toEqual(['user onerror boom', 'wrapper onerror boom', 'recorded ping _OTHER', 'user onclose', 'wrapper onclose']);
    }
  });
  it("keeps the user's onclose on a transport that holds it behind an accessor (the SDK's Streamable HTTP one), set before or after", async () => {
    for (const order of ['before', 'after'] as const) {
      const inner = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      const calls: string[] = [];
      if (order === 'before') inner.onclose = () => void calls.push('user onclose');
      const monitored = new MonitoredTransport(inner, 'streamable_http', { tools: new ToolCatalog(), recordOperation: () => {} });
      monitored.onclose = () => void calls.push('wrapper onclose');
      if (order === 'after') inner.onclose = () => void calls.push('user onclose');
      await monitored.start();
      await monitored.close();
      expect(calls, order).toEqual(['user onclose', 'wrapper onclose']);
    }
  });
});
