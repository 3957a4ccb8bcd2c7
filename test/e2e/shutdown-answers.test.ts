import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createServer } from 'node:http';
import { createMcpHandler, McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { McpMonitor } from '../../src/monitor.js';
import { startMonitoredServer } from '../../src/server.js';
import { useCliProcesses } from '../cli-process.js';
import { samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { listen, sdkServer, v1, v2 } = useTestPeers();

/** A server whose `hang` tool never answers; `arrived` resolves once a call reached it. */
function hangingFactory() {
  let reached: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  const factory = () => {
    const server = new McpServer({ name: 'hanging', version: '1.0.0' });
    server.registerTool('hang', { description: 'never answers' }, async () => {
      reached();
      return new Promise<never>(() => {});
    });
    return server;
  };
  return { factory, arrived };
}

describe('calls still pending at shutdown', () => {
  it.each(['streamable_http', 'sse'] as const)('get a JSON-RPC error at once over %s, and are counted with its code', async (kind) => {
    const { factory, arrived } = hangingFactory();
    const registry = new Registry();
    const server = await startMonitoredServer({ serverFactory: factory, port: 0, registry });
    const client = new Client({ name: 'pending-client', version: '1.0.0' });
    const base = server.url.replace(/\/mcp$/, '');
    await client.connect(kind === 'sse' ? new SSEClientTransport(new URL(`${base}/sse`)) : new StreamableHTTPClientTransport(new URL(server.url)));
    const call = client.callTool({ name: 'hang', arguments: {} }).then(
      () => 'answered',
      (error: { code?: number; message?: string }) => [error.code, error.message],
    );
    await arrived;
    await server.close();
    expect(await call).toEqual([-32000, 'MCP error -32000: Server shutting down']);
    expect(samples(await registry.metrics(), 'mcp_server_operation_duration_seconds_count').filter((line) => line.includes('tools/call'))).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="hang",error_type="-32000",mcp_protocol_version="2025-11-25"} 1',
    ]);
    await client.close();
  });
});

describe('proxy --upstream at SIGTERM', () => {
  it('answers a call still waiting on the upstream with a JSON-RPC error, then exits 0', async () => {
    const { factory, arrived } = hangingFactory();
    const upstream = await sdkServer(factory);
    const proxy = await start(['proxy', '--upstream', upstream.url]);
    const { client } = await v1(proxy.url, 'pending-client');
    const call = client.callTool({ name: 'hang', arguments: {} }).then(
      () => 'answered',
      (error: { code?: number; message?: string }) => [error.code, error.message],
    );
    await arrived;
    proxy.child.kill('SIGTERM');
    expect(await call).toEqual([-32000, 'MCP error -32000: Server shutting down']);
    expect(await proxy.exited).toBe(0);
  });
});

describe('2026-07-28 requests still waiting at shutdown', () => {
  it.each(['json', 'sse'] as const)('get a JSON-RPC error (answer as %s), and are counted with its code', async (shape) => {
    let reached: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const modernHandler = createMcpHandler(
      () => {
        const server = new McpServerV2({ name: 'hanging-v2', version: '1.0.0' }, { capabilities: { logging: {} } });
        server.registerTool('hang', { description: 'never answers' }, async (ctx) => {
          // A notification first: the answer's SSE stream is open before shutdown.
          if (shape === 'sse') await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data: 'working' } });
          reached();
          return new Promise<never>(() => {});
        });
        return server;
      },
      shape === 'sse' ? { responseMode: 'sse' } : {},
    );
    const registry = new Registry();
    const server = await startMonitoredServer({ serverFactory: hangingFactory().factory, modernHandler, port: 0, registry });
    const client = await v2(server.url, 'modern-client', { pin: '2026-07-28' });
    const call = client
      .callTool({ name: 'hang', arguments: {} })
      .then(
        () => 'answered',
        (error: { code?: number; message?: string }) => [error.code, error.message],
      );
    await arrived;
    await server.close();
    expect(await call).toEqual([-32000, 'Server shutting down']);
    expect(samples(await registry.metrics(), 'mcp_server_operation_duration_seconds_count').filter((line) => line.includes('tools/call'))).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="hang",error_type="-32000",mcp_protocol_version="2026-07-28"} 1',
    ]);
  });
});

describe('a streamed answer still pending at shutdown', () => {
  it('ends with a last frame carrying the JSON-RPC error, for a handler that opened its SSE stream early', async () => {
    const encoder = new TextEncoder();
    // A handler that opens the answer's stream at once, sends a notification, and never answers.
    const handler = {
      fetch: async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start: (controller) => controller.enqueue(encoder.encode('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"working"}}\n\n')),
          }),
          { status: 200, headers: { 'content-type': 'text/event-stream' } },
        ),
    };
    const registry = new Registry();
    const monitor = new McpMonitor({ registry });
    const mcp = monitor.nodeHandler(handler);
    const base = await listen(createServer((req, res) => void mcp(req, res)));
    const answer = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'slow', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } } },
      }),
    });
    const reader = (answer.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    expect(text).toContain('"data":"working"');
    await monitor.close();
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += decoder.decode(part.value);
    expect(text.split('\n\n').filter((frame) => frame !== '').at(-1)).toBe('event: message\ndata: {"jsonrpc":"2.0","error":{"code":-32000,"message":"Server shutting down"},"id":7}');
    expect(samples(await registry.metrics(), 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="-32000",mcp_protocol_version="2026-07-28"} 1',
    ]);
  });
});
