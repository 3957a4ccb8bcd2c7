import { once } from 'node:events';
import { createServer } from 'node:http';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Registry } from 'prom-client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { createApp as expressAuth } from '../../examples/express-auth.js';
import { createApp as expressSessions } from '../../examples/express-sessions.js';
import { createApp as expressStateless } from '../../examples/express-stateless.js';
import { McpMonitor } from '../../src/monitor.js';
import { getJson, samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { defer, listen, v1 } = useTestPeers();

function monitor(): McpMonitor {
  const m = new McpMonitor({ registry: new Registry() });
  defer(() => m.close());
  return m;
}

const exposition = async (m: McpMonitor): Promise<string> => (m.registry as Registry).metrics();

describe('monitor.middleware() in front of MCP routes the user wrote', () => {
  it("monitors the SDK README's express app (its own map of transports) without changing it", async () => {
    const m = monitor();
    const base = await listen(createServer(expressSessions(m)));
    const { client, transport } = await v1(`${base}/mcp`, 'readme-client');
    expect(await client.callTool({ name: 'echo', arguments: { text: 'hi' } })).toEqual({ content: [{ type: 'text', text: 'hi' }] });
    await client.listTools();
    await client.callTool({ name: 'echo', arguments: { text: 'again' } });
    expect(m.tracker.activeCount).toBe(1);
    const [open] = m.tracker.getStats().connections;
    expect([open?.clientName, open?.clientIP, open?.transport, open?.requestCount]).toEqual(["readme-client", "127.0.0.0", "streamable_http", 6]);

    await transport.terminateSession();
    expect(m.tracker.activeCount).toBe(0);
    const text = await exposition(m);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="readme-client"} 0']);
    expect(samples(text, 'mcp_server_sessions_closed_total')).toContain('mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1');
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 2',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/list",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
    ]);
    // The admin routes the example mounts answer beside the user's own.
    const history = (await getJson(`${base}/api/mcp/connections/history`)).body as { connections: { clientName: string; reason: string }[] };
    expect(history.connections.map((c) => [c.clientName, c.reason])).toEqual([['readme-client', 'client_delete']]);
  });
  it('monitors a stateless server: every request an operation, no session', async () => {
    const m = monitor();
    const base = await listen(createServer(expressStateless(m)));
    const { client } = await v1(`${base}/mcp`, 'stateless-client');
    await client.callTool({ name: 'echo', arguments: { text: 'a' } });
    await client.callTool({ name: 'echo', arguments: { text: 'b' } });
    expect([m.tracker.activeCount, m.tracker.getStats().totalConnections]).toEqual([0, 0]);
    expect(samples(await exposition(m), 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 2',
    ]);
  });

  it("behind the SDK's bearer auth: refusals counted, the verified client id shown, the token nowhere", async () => {
    const m = monitor();
    const token = 'tok-5f1d0c2a9e';
    const base = await listen(createServer(expressAuth(new Map([[token, 'team-a']]), m)));
    const refused = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(refused.status).toBe(401);
    const client = new Client({ name: 'authed-client', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    defer(() => client.close());
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });

    const text = await exposition(m);
    expect(samples(text, 'mcp_server_requests_rejected_total').filter((line) => !line.endsWith(' 0'))).toEqual(['mcp_server_requests_rejected_total{reason="unauthorized"} 1']);
    const listed = await getJson(`${base}/api/mcp/connections`);
    const [open] = (listed.body as { connections: { clientName: string; authClientId?: string }[] }).connections;
    expect([open?.clientName, open?.authClientId]).toEqual(['authed-client', 'team-a']);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect(text).not.toContain(token);
  });
});

describe('monitor.stdio() around a stdio server transport', () => {
  it('runs the stdio example as a child process: one session, its calls, metrics on a port of their own', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', fileURLToPath(new URL('../../examples/stdio-server.ts', import.meta.url))],
      env: { ...(process.env as Record<string, string>), METRICS_PORT: '0' },
      stderr: 'pipe',
    });
    const metricsUrl = new Promise<string>((resolve) => {
      let text = '';
      transport.stderr?.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const found = /"metrics":"([^"]+)"/.exec(text);
        if (found?.[1]) resolve(found[1]);
      });
    });
    const client = new Client({ name: 'stdio-client', version: '3' });
    await client.connect(transport);
    defer(() => client.close());
    await client.callTool({ name: 'echo', arguments: { text: 'a' } });
    await client.callTool({ name: 'nope', arguments: {} });
    const text = await (await fetch(await metricsUrl)).text();
    expect(samples(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="stdio",client_name="stdio-client"} 1']);
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="tool_error",mcp_protocol_version="2025-11-25"} 1',
    ]);
    // Closing the client ends the child's stdin: the example closes its admin listener and exits.
    const child = (transport as unknown as { _process?: import('node:child_process').ChildProcess })._process;
    const exited = child ? once(child, 'exit') : Promise.resolve([0]);
    await client.close();
    expect((await exited)[0]).toBe(0);
  });

  it('ends the session as client_delete when the input ends, server_shutdown when the server closes', async () => {
    for (const ending of ['input ends', 'server closes'] as const) {
      const m = monitor();
      const input = new PassThrough();
      const output = new PassThrough();
      const server = new McpServer({ name: 's', version: '1' });
      await server.connect(m.stdio(new StdioServerTransport(input, output), input));
      const answers: string[] = [];
      output.setEncoding('utf8').on('data', (chunk: string) => answers.push(chunk));
      input.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'piped', version: '1' } } })}\n`);
      await new Promise((resolve) => output.once('data', resolve));
      expect(m.tracker.getStats().connections.map((c) => [c.clientName, c.transport, c.protocolVersion])).toEqual([['piped', 'stdio', '2025-06-18']]);
      if (ending === 'input ends') {
        input.end();
        await once(input, 'end');
        await new Promise((resolve) => setImmediate(resolve));
      } else {
        await server.close();
      }
      expect(m.tracker.activeCount, ending).toBe(0);
      expect(m.history.newest().map((c) => c.reason), ending).toEqual([ending === 'input ends' ? 'client_delete' : 'server_shutdown']);
    }
  });
});
