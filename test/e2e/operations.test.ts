import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { sessionRef } from '../../src/core/session-ref.js';
import { adminUrl, closeWatcher, getJson, postRaw, rawSession, samples, scrape, useDemoServers } from '../helpers.js';

const { demo, client, onCleanup } = useDemoServers();

const count = (text: string, labels: string): string | undefined =>
  samples(text, 'mcp_server_operation_duration_seconds_count').find((line) => line.includes(`{${labels}}`));

describe('operations', () => {
  it('times every request by method, tool and error type after a scripted mix', async () => {
    const server = await demo();
    const { client: c } = await client(server, 'mix');
    await c.listTools();
    await c.callTool({ name: 'echo', arguments: { text: 'a' } });
    await c.callTool({ name: 'echo', arguments: { text: 'b' } });
    expect((await c.callTool({ name: 'fail', arguments: {} })).isError).toBe(true);
    expect((await c.callTool({ name: 'throw', arguments: {} })).isError).toBe(true);
    expect((await c.callTool({ name: 'no_such_tool', arguments: {} })).isError).toBe(true);
    await c.ping();
    await expect(c.listResources()).rejects.toThrow(/Method not found/);

    const text = await scrape(server);
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/list",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 2',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="fail",error_type="tool_error",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="throw",error_type="tool_error",mcp_protocol_version="2025-11-25"} 1',
      // A tool the server does not offer takes no label value of its own.
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="tool_error",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="ping",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="resources/list",gen_ai_tool_name="",error_type="-32601",mcp_protocol_version="2025-11-25"} 1',
    ]);
  });

  it('puts a slow tool in the right bucket', async () => {
    const server = await demo();
    const { client: c } = await client(server, 'slow');
    await c.callTool({ name: 'sleep', arguments: { ms: 60 } });
    const buckets = samples(await scrape(server), 'mcp_server_operation_duration_seconds_bucket').filter((l) =>
      l.includes('gen_ai_tool_name="sleep"'),
    );
    const at = (le: string) => buckets.find((l) => l.includes(`le="${le}"`))?.split(' ')[1];
    expect([at('0.05'), at('0.1'), at('+Inf')]).toEqual(['0', '1', '1']);
  });

  it('caps tool names at 200 distinct values, the rest as other, for a server that offers 250', async () => {
    const server = await demo({
      serverFactory: () => {
        const mcp = new McpServer({ name: 'many-tools', version: '1.0.0' });
        for (let i = 0; i < 250; i++) mcp.registerTool(`t${i}`, { inputSchema: {} }, async () => ({ content: [] }));
        return mcp;
      },
    });
    const headers = await rawSession(server.url, 'tool-caller');
    for (let i = 0; i < 250; i++) {
      const res = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: `t${i}`, arguments: {} } }), headers);
      await res.text();
    }
    const lines = samples(await scrape(server), 'mcp_server_operation_duration_seconds_count').filter((l) => l.includes('tools/call'));
    expect(lines).toHaveLength(201);
    expect(lines[0]).toBe('mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="t0",error_type="",mcp_protocol_version="2025-06-18"} 1');
    expect(lines.at(-1)).toBe('mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="",mcp_protocol_version="2025-06-18"} 50');
  });

  it('counts methods outside the MCP specification as other', async () => {
    const server = await demo();
    const headers = await rawSession(server.url, 'method-spammer');
    for (let i = 0; i < 30; i++) {
      const res = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: `x/${i}` }), headers);
      await res.text();
    }
    const lines = samples(await scrape(server), 'mcp_server_operation_duration_seconds_count').filter((l) => l.includes('error_type="-32601"'));
    expect(lines).toEqual(['mcp_server_operation_duration_seconds_count{mcp_method_name="other",gen_ai_tool_name="",error_type="-32601",mcp_protocol_version="2025-06-18"} 30']);
  });

  it('keeps at most 21 client_name values over 10,000 distinct client names', async () => {
    const server = await demo({ sessionIdleTimeoutSeconds: 0, historyLimit: 10 });
    const body = (i: number) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: `client-${i}`, version: '1' } },
      });
    for (let batch = 0; batch < 10_000; batch += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, k) => {
          const res = await postRaw(server.url, body(batch + k));
          await res.text();
        }),
      );
    }
    expect(server.tracker.activeCount).toBe(10_000);
    const text = await scrape(server);
    const active = samples(text, 'mcp_server_sessions_active');
    expect(active).toHaveLength(21);
    expect(active.at(-1)).toBe('mcp_server_sessions_active{transport="streamable_http",client_name="other"} 9980');
    expect(samples(text, 'mcp_server_sessions_total')).toHaveLength(21);
  }, 120_000);
});

describe('sessions that end when clients vanish', () => {
  it('closes a silent session after the idle timeout, and keeps one with an open GET stream', async () => {
    const closes = closeWatcher();
    const released: string[] = [];
    const server = await demo({
      sessionIdleTimeoutSeconds: 1,
      monitor: closes.monitor,
      serverFactory: () => {
        const mcp = new McpServer({ name: 'idle-test', version: '1' });
        mcp.server.onclose = () => released.push('server');
        return mcp;
      },
    });
    const probes = released.length; // the tool listing at start built (and closed) one server
    const silent = await rawSession(server.url, 'silent');
    const streaming = await rawSession(server.url, 'streaming');
    const abort = new AbortController();
    const stream = await fetch(server.url, { headers: { ...streaming, accept: 'text/event-stream' }, signal: abort.signal });
    expect(stream.status).toBe(200);

    const first = await closes.nth(1);
    expect([first.clientName, first.reason]).toEqual(['silent', 'idle_timeout']);
    expect(first.durationMs).toBeGreaterThanOrEqual(1000);
    expect(server.tracker.getConnection(sessionRef(streaming['mcp-session-id'] ?? ''))?.clientName).toBe('streaming');
    // The transport and its server are gone: the id is unknown now.
    const late = await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }), silent);
    expect(late.status).toBe(404);
    await late.text();

    abort.abort();
    const second = await closes.nth(2);
    expect([second.clientName, second.reason]).toEqual(['streaming', 'idle_timeout']);
    expect(released.length - probes).toBe(2);
    expect(samples(await scrape(server), 'mcp_server_sessions_closed_total')).toContain(
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="idle_timeout"} 2',
    );
  });

  it('a client that drops its socket mid-call leaves nothing stuck', async () => {
    const closes = closeWatcher();
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let ended!: () => void;
    const handlerEnded = new Promise<void>((resolve) => (ended = resolve));
    const server = await demo({
      sessionIdleTimeoutSeconds: 1,
      monitor: closes.monitor,
      serverFactory: () => {
        const mcp = new McpServer({ name: 'drop-test', version: '1' });
        mcp.registerTool('block', { description: 'waits until the session ends' }, async (extra) => {
          entered();
          await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve()));
          ended();
          return { content: [] };
        });
        return mcp;
      },
    });
    const headers = await rawSession(server.url, 'dropper');
    const abort = new AbortController();
    const call = await fetch(server.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'block', arguments: {} } }),
      signal: abort.signal,
    });
    expect(call.status).toBe(200);
    await inside;
    // The client goes away with the call still running.
    abort.abort();

    const closed = await closes.nth(1);
    expect([closed.clientName, closed.reason]).toEqual(['dropper', 'idle_timeout']);
    // The session's end aborted the running handler.
    await handlerEnded;
    expect(server.tracker.activeCount).toBe(0);
    const text = await scrape(server);
    expect(count(text, 'mcp_method_name="tools/call",gen_ai_tool_name="block",error_type="_OTHER",mcp_protocol_version="2025-06-18"')).toBe(
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="block",error_type="_OTHER",mcp_protocol_version="2025-06-18"} 1',
    );
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="dropper"} 0']);
  });
});

describe('legacy SSE transport', () => {
  it('tracks a full session over GET /sse and POST /messages', async () => {
    const closes = closeWatcher();
    const server = await demo({ monitor: closes.monitor });
    const c = new Client({ name: 'sse-client', version: '2.0.0' });
    const transport = new SSEClientTransport(new URL(server.url.replace(/\/mcp$/, '/sse')));
    await c.connect(transport);
    onCleanup(() => c.close());
    expect(await c.callTool({ name: 'echo', arguments: { text: 'over sse' } })).toEqual({ content: [{ type: 'text', text: 'over sse' }] });

    const list = (await getJson(adminUrl(server, '/api/mcp/connections'))).body as { connections: Record<string, unknown>[] };
    expect(list.connections).toHaveLength(1);
    expect(list.connections[0]).toMatchObject({
      transport: 'sse',
      clientName: 'sse-client',
      clientVersion: '2.0.0',
      clientIP: '127.0.0.0',
      requestCount: 4, // the stream, initialize, notifications/initialized, tools/call
    });
    let text = await scrape(server);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="sse",client_name="sse-client"} 1']);

    await c.close();
    const closed = await closes.nth(1);
    expect([closed.transport, closed.clientName, closed.reason]).toEqual(['sse', 'sse-client', 'client_delete']);
    text = await scrape(server);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="sse",client_name="sse-client"} 0']);
    expect(samples(text, 'mcp_server_sessions_closed_total')).toContain('mcp_server_sessions_closed_total{transport="sse",reason="client_delete"} 1');
    expect(samples(text, 'mcp_server_session_duration_seconds_count')).toEqual([
      'mcp_server_session_duration_seconds_count{transport="sse",reason="client_delete"} 1',
    ]);
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1',
    ]);
  });

  it('answers bad SSE posts clearly and counts them', async () => {
    const server = await demo();
    const base = server.url.replace(/\/mcp$/, '');
    const missing = await postRaw(`${base}/messages`, '{}');
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe(
      'Bad Request: the sessionId query parameter is required; open GET /sse first',
    );
    const unknown = await postRaw(`${base}/messages?sessionId=nope`, '{}');
    expect(unknown.status).toBe(404);
    await unknown.text();
    const text = await scrape(server);
    expect(samples(text, 'mcp_server_requests_rejected_total').filter((l) => !l.endsWith(' 0'))).toEqual([
      'mcp_server_requests_rejected_total{reason="unknown_session"} 1',
      'mcp_server_requests_rejected_total{reason="missing_session"} 1',
    ]);
  });

  it('closes SSE sessions at shutdown as server_shutdown', async () => {
    const closes = closeWatcher();
    const server = await demo({ monitor: closes.monitor });
    const c = new Client({ name: 'sse-shutdown', version: '1' });
    await c.connect(new SSEClientTransport(new URL(server.url.replace(/\/mcp$/, '/sse'))));
    onCleanup(() => c.close());
    await server.close();
    const closed = await closes.nth(1);
    expect([closed.transport, closed.reason]).toEqual(['sse', 'server_shutdown']);
  });
});
