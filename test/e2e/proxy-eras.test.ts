import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { createDemoServer } from '../../src/demo/demo-server.js';
import { createDemoServerV2 } from '../../src/demo/demo-server-v2.js';
import { useCliProcesses, type CliProcess } from '../cli-process.js';
import { samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const MODERN = '2026-07-28';
const { start } = useCliProcesses();
const { listen: listenBase, v1: v1Client, v2: v2Client } = useTestPeers();
const listen = async (server: Server, port = 0): Promise<string> => `${await listenBase(server, port)}/mcp`;

/** An SDK v2 server of its own (not this project's host): createMcpHandler on node:http. */
function v2Upstream(legacy: 'stateless' | 'reject', port = 0): Promise<string> {
  return listen(createServer(toNodeHandler(createMcpHandler(() => createDemoServerV2(), { legacy }))), port);
}

/** An SDK v1 server of its own, written the way the SDK README shows (a transport map by session id), counting DELETEs. */
async function v1Upstream(): Promise<{ url: string; open: () => number; deleted: () => number }> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let deleted = 0;
  const server = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    if (req.method === 'DELETE') deleted += 1;
    let transport = typeof id === 'string' ? transports.get(id) : undefined;
    if (!transport) {
      transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (sid) => void transports.set(sid, transport as StreamableHTTPServerTransport) });
      transport.onclose = () => void (transport?.sessionId && transports.delete(transport.sessionId));
      await createDemoServer().connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  const url = await listen(server);
  return { url, open: () => transports.size, deleted: () => deleted };
}

const metrics = async (proxy: CliProcess): Promise<string> => (await fetch(`${proxy.adminUrl}/metrics`)).text();
const nonZero = (text: string, name: string): string[] => samples(text, name).filter((line) => !line.endsWith(' 0'));

describe('proxy --upstream in both eras', () => {
  it("passes a v2 server's 2026-07-28 traffic through, monitored, even one that refuses 2025 (legacy: 'reject')", async () => {
    const upstream = await v2Upstream('reject');
    const proxy = await start(['proxy', '--upstream', upstream]);
    expect(await proxy.line((line) => line.event === 'upstream')).toMatchObject({ reachable: true, versions: [MODERN], tools: 4 });

    const pinned = await v2Client(proxy.url, 'pinned', { pin: MODERN });
    expect((await pinned.callTool({ name: 'echo', arguments: { text: 'through' } })).content).toEqual([{ type: 'text', text: 'through' }]);
    const subscription = await pinned.listen({ toolsListChanged: true });
    let text = await metrics(proxy);
    expect(samples(text, 'mcp_server_subscriptions_active')).toEqual(['mcp_server_subscriptions_active{client_name="pinned"} 1']);
    await subscription.close();
    // A 2025 client gets the upstream's own refusal, counted.
    await expect(v1Client(proxy.url, 'old-client')).rejects.toThrow(/Unsupported protocol version/);
    await proxy.line((line) => line.event === 'mcp_connection_closed');
    text = await metrics(proxy);
    expect(samples(text, 'mcp_server_operation_duration_seconds_count').filter((line) => line.includes('tools/call'))).toEqual([
      `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="${MODERN}"} 1`,
    ]);
    expect(nonZero(text, 'mcp_server_requests_rejected_total')).toEqual(['mcp_server_requests_rejected_total{reason="unsupported_protocol_version"} 1']);
    expect(samples(text, 'mcp_server_subscription_duration_seconds_count')).toEqual(['mcp_server_subscription_duration_seconds_count{reason="client_delete"} 1']);
  });

  it('keeps 2025 sessions of a v1 server as sessions, followed on the wire; auto clients fall back to them', async () => {
    const upstream = await v1Upstream();
    const proxy = await start(['proxy', '--upstream', upstream.url]);
    expect(await proxy.line((line) => line.event === 'upstream')).toMatchObject({ reachable: true, versions: ['2025-11-25'], tools: 4 });
    const { client, transport } = await v1Client(proxy.url, 'v1-through');
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    const auto = await v2Client(proxy.url, 'auto-through', 'auto');
    expect(auto.getProtocolEra()).toBe('legacy');
    await auto.callTool({ name: 'echo', arguments: { text: 'y' } });
    let text = await metrics(proxy);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="v1-through"} 1',
      'mcp_server_sessions_active{transport="streamable_http",client_name="auto-through"} 1',
    ]);
    await transport.terminateSession();
    text = await metrics(proxy);
    expect(samples(text, 'mcp_server_sessions_active')[0]).toBe('mcp_server_sessions_active{transport="streamable_http",client_name="v1-through"} 0');
    expect(nonZero(text, 'mcp_server_sessions_closed_total')).toEqual(['mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1']);
    expect(upstream.open()).toBe(1);

    // At shutdown the proxy ends the sessions it still follows upstream.
    const deletedBefore = upstream.deleted();
    proxy.child.kill('SIGTERM');
    expect(await proxy.exited).toBe(0);
    expect(upstream.deleted() - deletedBefore).toBe(1);
    expect(upstream.open()).toBe(0);
  });

  it('starts before its upstream is up, answers 502 naming it, and serves clients once it is', async () => {
    const reserved = createServer();
    await new Promise<void>((resolve) => reserved.listen(0, '127.0.0.1', resolve));
    const port = (reserved.address() as AddressInfo).port;
    await new Promise((resolve) => reserved.close(resolve));
    const url = `http://127.0.0.1:${port}/mcp`;

    const proxy = await start(['proxy', '--upstream', url]);
    expect(await proxy.line((line) => line.event === 'upstream')).toMatchObject({
      level: 40,
      reachable: false,
      reason: 'ECONNREFUSED',
      msg: `the upstream MCP server at ${url} did not answer (ECONNREFUSED); clients get 502 until it does`,
    });
    const early = await fetch(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'early', version: '1' } } }),
    });
    expect([early.status, await early.json()]).toEqual([
      502,
      { jsonrpc: '2.0', error: { code: -32000, message: `Bad Gateway: the upstream MCP server at ${url} did not answer (ECONNREFUSED)` }, id: null },
    ]);

    await v2Upstream('stateless', port);
    const late = await v2Client(proxy.url, 'late', { pin: MODERN });
    expect((await late.callTool({ name: 'echo', arguments: { text: 'up now' } })).content).toEqual([{ type: 'text', text: 'up now' }]);
  });
});

const V2_STDIO = fileURLToPath(new URL('../fixtures/v2-stdio-server.mjs', import.meta.url));

describe('proxy --stdio in both eras', () => {
  it('serves 2026-07-28 clients from an SDK v2 stdio server, 2025 sessions beside them', async () => {
    const proxy = await start(['proxy', '--stdio', `${process.execPath} ${V2_STDIO} serve`]);
    expect(await proxy.line((line) => line.event === 'upstream')).toMatchObject({ tools: 4 });
    const pinned = await v2Client(proxy.url, 'stdio-pinned', { pin: MODERN });
    expect((await pinned.callTool({ name: 'echo', arguments: { text: 'over stdio' } })).content).toEqual([{ type: 'text', text: 'over stdio' }]);
    expect((await pinned.callTool({ name: 'fail', arguments: {} })).isError).toBe(true);
    const subscription = await pinned.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true });
    const { client: old } = await v1Client(proxy.url, 'stdio-2025');
    expect(await old.callTool({ name: 'echo', arguments: { text: 'session' } })).toEqual({ content: [{ type: 'text', text: 'session' }] });

    const text = await metrics(proxy);
    expect(samples(text, 'mcp_server_client_requests_total')).toEqual([
      `mcp_server_client_requests_total{client_name="stdio-pinned",mcp_protocol_version="${MODERN}"} 4`,
      'mcp_server_client_requests_total{client_name="stdio-2025",mcp_protocol_version="2025-11-25"} 2',
    ]);
    expect(samples(text, 'mcp_server_subscriptions_active')).toEqual(['mcp_server_subscriptions_active{client_name="stdio-pinned"} 1']);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="stdio-2025"} 1']);
    await subscription.close();
    expect(await proxy.line((line) => line.event === 'mcp_connection_closed' && line.kind === 'subscription')).toMatchObject({ reason: 'client_delete' });
  });

  it("starts in front of a stdio server that refuses 2025 (legacy: 'reject'), says so, and serves the new era", async () => {
    const proxy = await start(['proxy', '--stdio', `${process.execPath} ${V2_STDIO} reject`]);
    expect(await proxy.line((line) => line.event === 'upstream')).toMatchObject({ level: 40, reachable: false });
    const pinned = await v2Client(proxy.url, 'stdio-pinned', { pin: MODERN });
    expect((await pinned.callTool({ name: 'echo', arguments: { text: 'still served' } })).content).toEqual([{ type: 'text', text: 'still served' }]);
  });
});
