import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, isLegacyRequest, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import express from 'express';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ClosedConnectionInfo } from '../../src/core/types.js';
import { createDemoServerV2 } from '../../src/demo/demo-server-v2.js';
import { McpMonitor } from '../../src/monitor.js';
import { getJson, samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const MODERN = '2026-07-28';
const { defer, listen, v1: v1Client, v2: v2Client } = useTestPeers();

function monitor(): McpMonitor {
  const m = new McpMonitor({ registry: new Registry() });
  defer(() => m.close());
  return m;
}

const operations = async (m: McpMonitor): Promise<string[]> => samples(await (m.registry as Registry).metrics(), 'mcp_server_operation_duration_seconds_count');

describe('the library for SDK v2 servers', () => {
  it('monitors a createMcpHandler (stateless 2025 and 2026-07-28) on node:http, with client addresses and the admin routes beside it', async () => {
    const m = monitor();
    const handler = createMcpHandler(() => createDemoServerV2());
    const mcp = m.nodeHandler(handler);
    const base = await listen(createServer((req, res) => (req.url?.startsWith('/mcp') ? void mcp(req, res) : m.adminHandler(req, res))));
    const url = `${base}/mcp`;
    const { client: v1 } = await v1Client(url, 'v1-stateless');
    // No tool list was given and none was asked for: a tool is learnt from its first answer without an error.
    await v1.callTool({ name: 'echo', arguments: { text: 'a' } });
    const pinned = await v2Client(url, 'v2-pinned', { pin: MODERN });
    await pinned.callTool({ name: 'echo', arguments: { text: 'b' } });
    await pinned.callTool({ name: 'fail', arguments: {} });
    // A tools/list answer teaches every tool.
    await pinned.listTools();
    await pinned.callTool({ name: 'fail', arguments: {} });

    expect(await operations(m)).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1',
      `mcp_server_operation_duration_seconds_count{mcp_method_name="server/discover",gen_ai_tool_name="",error_type="",mcp_protocol_version="${MODERN}"} 1`,
      `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="${MODERN}"} 1`,
      `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="tool_error",mcp_protocol_version="${MODERN}"} 1`,
      `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/list",gen_ai_tool_name="",error_type="",mcp_protocol_version="${MODERN}"} 1`,
      `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="fail",error_type="tool_error",mcp_protocol_version="${MODERN}"} 1`,
    ]);
    const clients = (await getJson(`${base}/api/mcp/clients`)).body as { clients: { clientName: string; clientIP: string; protocolVersions: string[]; requests: number }[] };
    // A stateless 2025 request after initialize names no client: it is known by the initialize
    // before it (same connection), so the client has one name in the metrics and the API.
    expect(clients.clients.map((c) => [c.clientName, c.clientIP, c.protocolVersions, c.requests]).sort()).toEqual(
      [
        ['v1-stateless', '127.0.0.0', ['2025-11-25'], 2],
        ['v2-pinned', '127.0.0.0', [MODERN], 5],
      ].sort(),
    );
    const text = await (m.registry as Registry).metrics();
    expect(samples(text, 'mcp_server_client_requests_total')).toEqual([
      'mcp_server_client_requests_total{client_name="v1-stateless",mcp_protocol_version="2025-11-25"} 2',
      `mcp_server_client_requests_total{client_name="v2-pinned",mcp_protocol_version="${MODERN}"} 5`,
    ]);
    // The SDK v2 answers the v1 client's GET stream with 405: a server without a standalone stream, not bad input.
    expect(samples(text, 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual(['mcp_server_requests_rejected_total{reason="method_not_allowed"} 1']);
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
  });

  it('monitors the handler mounted with toNodeHandler, in express, and through fetch alone', async () => {
    const m = monitor();
    const monitored = m.handler(createMcpHandler(() => createDemoServerV2(), { legacy: 'reject' }));
    // The SDK's own adapter on node:http.
    const viaAdapter = await listen(createServer(toNodeHandler(monitored)));
    // express, with its JSON body parser, and the admin routes on the same app. (Given the
    // monitored handler, nodeHandler does not monitor it twice.)
    const app = express();
    const nodeHandler = m.nodeHandler(monitored);
    app.post('/mcp', express.json(), (req, res) => void nodeHandler(req, res, req.body));
    app.use(m.adminHandler);
    const viaExpress = await listen(createServer(app));
    await (await v2Client(`${viaAdapter}/mcp`, 'via-adapter', { pin: MODERN })).callTool({ name: 'echo', arguments: { text: '1' } });
    await (await v2Client(`${viaExpress}/mcp`, 'via-express', { pin: MODERN })).callTool({ name: 'echo', arguments: { text: '2' } });
    // A runtime that only has fetch (Deno, Bun, workers): no socket, no HTTP server at all.
    const viaFetch = await v2Client('http://worker.invalid/mcp', 'via-fetch', { pin: MODERN }, { fetch: (input, init) => monitored.fetch(new Request(input, init)) });
    await viaFetch.callTool({ name: 'echo', arguments: { text: '3' } });

    expect(samples(await (m.registry as Registry).metrics(), 'mcp_server_client_requests_total')).toEqual([
      `mcp_server_client_requests_total{client_name="via-adapter",mcp_protocol_version="${MODERN}"} 2`,
      `mcp_server_client_requests_total{client_name="via-express",mcp_protocol_version="${MODERN}"} 2`,
      `mcp_server_client_requests_total{client_name="via-fetch",mcp_protocol_version="${MODERN}"} 2`,
    ]);
    const clients = (await getJson(`${viaExpress}/api/mcp/clients`)).body as { clients: { clientName: string; clientIP: string }[] };
    // Only nodeHandler sees the socket; the other two paths do not say who the client is.
    expect(clients.clients.map((c) => [c.clientName, c.clientIP]).sort()).toEqual([
      ['via-adapter', 'unknown'],
      ['via-express', '127.0.0.0'],
      ['via-fetch', 'unknown'],
    ]);
    // The monitored handler is still the SDK's: its notify and close are there.
    expect(typeof monitored.notify.toolsChanged).toBe('function');
  });

  it('keeps session metrics for a server that routes 2025 traffic to a sessionful transport', async () => {
    const closed: ClosedConnectionInfo[] = [];
    const m = new McpMonitor({ registry: new Registry(), monitor: { onConnectionClosed: (_id, _ms, info) => void closed.push(info) } });
    defer(() => m.close());
    const modern = createMcpHandler(() => createDemoServerV2(), { legacy: 'reject' });
    const transports = new Map<string, WebStandardStreamableHTTPServerTransport>();
    const legacy = async (request: Request, options?: { parsedBody?: unknown }): Promise<Response> => {
      const id = request.headers.get('mcp-session-id');
      if (id) {
        const transport = transports.get(id);
        if (!transport) return Response.json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }, { status: 404 });
        return transport.handleRequest(request, options);
      }
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (sessionId) => void transports.set(sessionId, transport),
        onsessionclosed: (sessionId) => void transports.delete(sessionId),
      });
      await createDemoServerV2().connect(transport);
      return transport.handleRequest(request, options);
    };
    const router = { fetch: async (request: Request, options?: { parsedBody?: unknown }) => ((await isLegacyRequest(request, options?.parsedBody)) ? legacy(request, options) : modern.fetch(request, options)) };
    const base = await listen(createServer(m.nodeHandler(router)));

    const { client, transport } = await v1Client(`${base}/mcp`, 'sessionful');
    await client.callTool({ name: 'echo', arguments: { text: 's' } });
    const pinned = await v2Client(`${base}/mcp`, 'modern-beside', { pin: MODERN });
    await pinned.callTool({ name: 'echo', arguments: { text: 'm' } });
    let text = await (m.registry as Registry).metrics();
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="sessionful"} 1']);
    expect(samples(text, 'mcp_server_client_requests_total')).toEqual([
      'mcp_server_client_requests_total{client_name="sessionful",mcp_protocol_version="2025-11-25"} 2',
      `mcp_server_client_requests_total{client_name="modern-beside",mcp_protocol_version="${MODERN}"} 2`,
    ]);
    expect(m.tracker.getConnections().map((c) => [c.kind, c.clientName, c.requestCount])).toEqual([['session', 'sessionful', 4]]);

    await transport.terminateSession();
    expect(closed.map((c) => [c.kind, c.clientName, c.reason])).toEqual([['session', 'sessionful', 'client_delete']]);
    text = await (m.registry as Registry).metrics();
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="sessionful"} 0']);
  });
});
