import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { acceptedContent, createMcpHandler, inputRequired, McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ClosedConnectionInfo, ConnectionInfo } from '../../src/core/types.js';
import { createDemoModernHandler, createDemoServerV2 } from '../../src/demo/demo-server-v2.js';
import type { ClientInfo } from '../../src/core/recent-clients.js';
import { useCliProcesses } from '../cli-process.js';
import { adminUrl, closeWatcher, getJson, samples, scrape, useDemoServers } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { demo, onCleanup } = useDemoServers();
const { start } = useCliProcesses();

const { v2: v2Client } = useTestPeers();

const MODERN = '2026-07-28';
const envelope = (name = 'raw-modern', protocolVersion = MODERN) => ({
  'io.modelcontextprotocol/protocolVersion': protocolVersion,
  'io.modelcontextprotocol/clientInfo': { name, version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
});

/** A hand-made 2026-07-28 request: `headers` replace the ones a v2 client sends. */
async function postModern(url: string, method: string, params: Record<string, unknown>, headers: Record<string, string | undefined> = {}): Promise<{ status: number; body: unknown }> {
  const sent: Record<string, string> = {};
  const all = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method, ...headers };
  for (const [key, value] of Object.entries(all)) if (value !== undefined) sent[key] = value;
  const res = await fetch(url, { method: 'POST', headers: sent, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return { status: res.status, body: await res.json() };
}

describe('serve answers both eras on /mcp', () => {
  it('a v1 client, a v2 client in each negotiation mode and a legacy SSE client all work, each counted in its era', async () => {
    const server = await demo({ modernHandler: createDemoModernHandler() });
    const v1 = new Client({ name: 'v1-client', version: '1.32.2' });
    await v1.connect(new (await import('@modelcontextprotocol/sdk/client/streamableHttp.js')).StreamableHTTPClientTransport(new URL(server.url)));
    onCleanup(() => v1.close());
    const sse = new Client({ name: 'sse-client', version: '1.32.2' });
    await sse.connect(new SSEClientTransport(new URL(server.url.replace(/\/mcp$/, '/sse'))));
    onCleanup(() => sse.close());
    const legacy = await v2Client(server.url, 'v2-legacy', 'legacy');
    const auto = await v2Client(server.url, 'v2-auto', 'auto');
    const pinned = await v2Client(server.url, 'v2-pinned', { pin: MODERN });
    expect([legacy.getProtocolEra(), auto.getProtocolEra(), pinned.getProtocolEra()]).toEqual(['legacy', 'modern', 'modern']);
    expect(pinned.getNegotiatedProtocolVersion()).toBe(MODERN);

    for (const client of [v1, sse]) {
      expect(await client.callTool({ name: 'echo', arguments: { text: 'x' } })).toEqual({ content: [{ type: 'text', text: 'x' }] });
      expect((await client.callTool({ name: 'fail', arguments: {} })).isError).toBe(true);
    }
    for (const client of [legacy, auto, pinned]) {
      expect((await client.callTool({ name: 'echo', arguments: { text: 'y' } })).content).toEqual([{ type: 'text', text: 'y' }]);
      expect((await client.callTool({ name: 'fail', arguments: {} })).isError).toBe(true);
    }
    await pinned.listTools();

    const text = await scrape(server);
    const count = (labels: string): string | undefined =>
      samples(text, 'mcp_server_operation_duration_seconds_count').find((line) => line.startsWith(`mcp_server_operation_duration_seconds_count{${labels}}`));
    // 2025: three sessions (v1, SSE, v2 legacy), each initialize, echo and fail.
    expect(count('mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"')).toMatch(/ 3$/);
    expect(count('mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"')).toMatch(/ 3$/);
    // 2026-07-28: two clients, no initialize and no session; discovery instead.
    expect(count(`mcp_method_name="server/discover",gen_ai_tool_name="",error_type="",mcp_protocol_version="${MODERN}"`)).toMatch(/ 2$/);
    expect(count(`mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="${MODERN}"`)).toMatch(/ 2$/);
    expect(count(`mcp_method_name="tools/call",gen_ai_tool_name="fail",error_type="tool_error",mcp_protocol_version="${MODERN}"`)).toMatch(/ 2$/);
    expect(count(`mcp_method_name="tools/list",gen_ai_tool_name="",error_type="",mcp_protocol_version="${MODERN}"`)).toMatch(/ 1$/);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="v1-client"} 1',
      'mcp_server_sessions_active{transport="sse",client_name="sse-client"} 1',
      'mcp_server_sessions_active{transport="streamable_http",client_name="v2-legacy"} 1',
    ]);
    expect(samples(text, 'mcp_server_client_requests_total')).toEqual([
      'mcp_server_client_requests_total{client_name="v1-client",mcp_protocol_version="2025-11-25"} 3',
      'mcp_server_client_requests_total{client_name="sse-client",mcp_protocol_version="2025-11-25"} 3',
      'mcp_server_client_requests_total{client_name="v2-legacy",mcp_protocol_version="2025-11-25"} 3',
      `mcp_server_client_requests_total{client_name="v2-auto",mcp_protocol_version="${MODERN}"} 3`,
      `mcp_server_client_requests_total{client_name="v2-pinned",mcp_protocol_version="${MODERN}"} 4`,
    ]);
    expect(samples(text, 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual([]);

    const clients = (await getJson(adminUrl(server, '/api/mcp/clients'))).body as { activeClients: number; clients: ClientInfo[] };
    expect(clients.activeClients).toBe(5);
    expect(clients.clients.map((c) => [c.clientName, c.clientVersion, c.protocolVersions, c.requests, c.clientIP]).sort()).toEqual(
      [
        ['sse-client', '1.32.2', ['2025-11-25'], 3, '127.0.0.0'],
        ['v1-client', '1.32.2', ['2025-11-25'], 3, '127.0.0.0'],
        ['v2-auto', '2.4.0', [MODERN], 3, '127.0.0.0'],
        ['v2-legacy', '2.4.0', ['2025-11-25'], 3, '127.0.0.0'],
        ['v2-pinned', '2.4.0', [MODERN], 4, '127.0.0.0'],
      ].sort(),
    );
  });

  it('mcp-exporter serve does, out of the box: a pinned v2 client calls tools and listens, and is logged', async () => {
    const serve = await start(['serve']);
    const pinned = await v2Client(serve.url, 'cli-pinned', { pin: MODERN });
    expect((await pinned.callTool({ name: 'echo', arguments: { text: 'new era' } })).content).toEqual([{ type: 'text', text: 'new era' }]);
    const subscription = await pinned.listen({ toolsListChanged: true });
    const opened = await serve.line((line) => line.event === 'mcp_connection_established');
    expect(opened).toMatchObject({ kind: 'subscription', clientName: 'cli-pinned', protocolVersion: MODERN, msg: 'MCP listen stream opened' });
    const metrics = await (await fetch(`${serve.adminUrl}/metrics`)).text();
    expect(samples(metrics, 'mcp_server_subscriptions_active')).toEqual(['mcp_server_subscriptions_active{client_name="cli-pinned"} 1']);
    expect(samples(metrics, 'mcp_server_client_requests_total')).toEqual([`mcp_server_client_requests_total{client_name="cli-pinned",mcp_protocol_version="${MODERN}"} 3`]);
    await subscription.close();
    expect(await serve.line((line) => line.event === 'mcp_connection_closed')).toMatchObject({ kind: 'subscription', reason: 'client_delete' });
  });

  it('times a streamed 2026-07-28 answer to its result, not its first byte', async () => {
    const server = await demo({ modernHandler: createMcpHandler(() => createDemoServerV2(), { legacy: 'reject', responseMode: 'sse' }) });
    const client = await v2Client(server.url, 'streamed', { pin: MODERN });
    await client.callTool({ name: 'sleep', arguments: { ms: 120 } });
    const buckets = samples(await scrape(server), 'mcp_server_operation_duration_seconds_bucket').filter((line) => line.includes('gen_ai_tool_name="sleep"'));
    const at = (le: string): string | undefined => buckets.find((line) => line.includes(`le="${le}"`))?.split(' ')[1];
    expect([at('0.1'), at('0.2'), at('+Inf')]).toEqual(['0', '1', '1']);
  });
});

describe('a 2026-07-28 client that leaves mid-call', () => {
  it('leaves an operation pending (_OTHER), not a refusal', async () => {
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const factory = () => {
      const mcp = new McpServer({ name: 'blocking', version: '1' });
      mcp.registerTool('block', { inputSchema: z.object({}) }, async (_args, ctx) => {
        entered();
        await new Promise<void>((resolve) => ctx.mcpReq.signal.addEventListener('abort', () => resolve()));
        return { content: [] };
      });
      return mcp;
    };
    let left: () => void = () => {};
    const recorded = new Promise<void>((resolve) => (left = resolve));
    const server = await demo({
      modernHandler: createMcpHandler(factory, { legacy: 'reject' }),
      monitor: { onOperation: (operation) => void (operation.errorType === '_OTHER' && left()) },
    });
    const client = await v2Client(server.url, 'leaver', { pin: MODERN });
    const abort = new AbortController();
    const call = client.callTool({ name: 'block', arguments: {} }, { signal: abort.signal }).catch((error: unknown) => error);
    await inside;
    abort.abort();
    await call;
    // The server learns the client left when its socket closes.
    await recorded;
    const text = await scrape(server);
    expect(samples(text, 'mcp_server_operation_duration_seconds_count').filter((line) => line.includes('tools/call'))).toEqual([
      `mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="_OTHER",mcp_protocol_version="${MODERN}"} 1`,
    ]);
    expect(samples(text, 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual([]);
  });
});

describe('listen streams are connections', () => {
  it('shows an open subscriptions/listen stream in the API, metrics and history, and its close', async () => {
    const closes = closeWatcher();
    const server = await demo({ modernHandler: createDemoModernHandler(), monitor: closes.monitor });
    const client = await v2Client(server.url, 'listener', { pin: MODERN });
    const subscription = await client.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true });

    const list = (await getJson(adminUrl(server, '/api/mcp/connections?kind=subscription'))).body as {
      byKind: Record<string, { active: number; total: number }>;
      connections: ConnectionInfo[];
    };
    expect(list.byKind).toEqual({ session: { active: 0, total: 0 }, subscription: { active: 1, total: 1 } });
    expect(list.connections).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{12}$/),
        kind: 'subscription',
        clientIP: '127.0.0.0',
        userAgent: 'node',
        connectedAt: expect.any(String),
        lastActivity: expect.any(String),
        requestCount: 1,
        transport: 'streamable_http',
        clientName: 'listener',
        clientVersion: '2.4.0',
        protocolVersion: MODERN,
      },
    ]);
    expect((await getJson(adminUrl(server, '/api/mcp/connections?kind=session'))).body).toMatchObject({ connections: [] });
    let text = await scrape(server);
    expect(samples(text, 'mcp_server_subscriptions_active')).toEqual(['mcp_server_subscriptions_active{client_name="listener"} 1']);
    expect(samples(text, 'mcp_server_sessions_total')).toEqual([]);

    await subscription.close();
    expect(await subscription.closed).toBe('local');
    const [closed] = await closes.next(1);
    expect(closed).toMatchObject({ kind: 'subscription', clientName: 'listener', reason: 'client_delete' });
    text = await scrape(server);
    expect(samples(text, 'mcp_server_subscriptions_active')).toEqual(['mcp_server_subscriptions_active{client_name="listener"} 0']);
    expect(samples(text, 'mcp_server_subscriptions_total')).toEqual(['mcp_server_subscriptions_total{client_name="listener"} 1']);
    expect(samples(text, 'mcp_server_subscription_duration_seconds_count')).toEqual(['mcp_server_subscription_duration_seconds_count{reason="client_delete"} 1']);
    // The listen request is a connection, not an operation.
    expect(samples(text, 'mcp_server_operation_duration_seconds_count').filter((line) => line.includes('subscriptions/listen'))).toEqual([]);
    const history = (await getJson(adminUrl(server, '/api/mcp/connections/history'))).body as { connections: ClosedConnectionInfo[] };
    expect(history.connections.map((c) => [c.kind, c.clientName, c.reason])).toEqual([['subscription', 'listener', 'client_delete']]);

    // A stream still open when the server shuts down ends as server_shutdown, gracefully for the client.
    const second = await client.listen({ toolsListChanged: true });
    await server.close();
    expect(await second.closed).toBe('graceful');
    expect((await closes.next(2))[1]).toMatchObject({ kind: 'subscription', reason: 'server_shutdown' });
  });
});

describe('refusals of the 2026-07-28 era are answered as the SDK answers them, and counted', () => {
  it('counts an unsupported version, headers that disagree with the body, and a missing client capability', async () => {
    const confirmFactory = () => {
      const mcp = new McpServer({ name: 'asks', version: '1' });
      mcp.registerTool('confirm', { inputSchema: z.object({}) }, async (_args, ctx) => {
        const schema = z.object({ ok: z.boolean() });
        if (acceptedContent(ctx.mcpReq.inputResponses, 'confirm', schema)?.ok === true) return { content: [{ type: 'text', text: 'done' }] };
        return inputRequired({ inputRequests: { confirm: inputRequired.elicit({ message: 'Sure?', requestedSchema: schema }) } });
      });
      return mcp;
    };
    const server = await demo({ modernHandler: createMcpHandler(confirmFactory, { legacy: 'reject' }) });
    const unsupported = await postModern(server.url, 'tools/list', { _meta: envelope('raw', '2099-01-01') }, { 'mcp-protocol-version': '2099-01-01' });
    expect(unsupported).toMatchObject({ status: 400, body: { error: { code: -32022, message: 'Unsupported protocol version: 2099-01-01' } } });
    const mismatch = await postModern(server.url, 'tools/list', { _meta: envelope() }, { 'mcp-method': 'tools/call' });
    expect(mismatch).toMatchObject({ status: 400, body: { error: { code: -32020 } } });
    const noHeader = await postModern(server.url, 'tools/list', { _meta: envelope() }, { 'mcp-method': undefined });
    expect(noHeader).toMatchObject({ status: 400, body: { error: { code: -32020 } } });
    const incapable = await postModern(server.url, 'tools/call', { name: 'confirm', arguments: {}, _meta: envelope() }, { 'mcp-name': 'confirm' });
    expect(incapable).toMatchObject({ status: 400, body: { error: { code: -32021 } } });

    const rejected = samples(await scrape(server), 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'));
    expect(rejected).toEqual([
      'mcp_server_requests_rejected_total{reason="unsupported_protocol_version"} 1',
      'mcp_server_requests_rejected_total{reason="header_mismatch"} 2',
      'mcp_server_requests_rejected_total{reason="missing_capability"} 1',
    ]);

    // A client that declares the capability gets its answer over two exchanges (input_required, then the result).
    const capable = await v2Client(server.url, 'capable', { pin: MODERN }, { capabilities: { elicitation: { form: {} } } });
    capable.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { ok: true } }));
    expect((await capable.callTool({ name: 'confirm', arguments: {} })).content).toEqual([{ type: 'text', text: 'done' }]);
  });
});
