import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { useCliProcesses, type CliProcess } from '../cli-process.js';
import { samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { defer, v1 } = useTestPeers();
const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
const ENV_SERVER = fileURLToPath(new URL('../fixtures/env-stdio-server.mjs', import.meta.url));
const everything = (extra: string[] = []): Promise<CliProcess> => start(['proxy', '--stdio', `${process.execPath} ${EVERYTHING} stdio`, ...extra]);
const metrics = async (proxy: CliProcess): Promise<string> => (await fetch(`${proxy.adminUrl}/metrics`)).text();
const nonZero = (text: string, name: string): string[] => samples(text, name).filter((line) => !line.endsWith(' 0'));

describe('proxy --stdio: each 2025 session a child of its own, relayed line by line', () => {
  it('relays tools, progress on the call that asked for it, a sampling request and its answer, and logging on the standalone stream', async () => {
    const proxy = await everything();
    const client = new Client({ name: 'everything-client', version: '1' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled answer' } }));
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
    await client.connect(transport);
    defer(() => client.close());

    expect(await client.callTool({ name: 'echo', arguments: { message: 'relayed' } })).toEqual({ content: [{ type: 'text', text: 'Echo: relayed' }] });
    const progress: number[] = [];
    await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    const sampled = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hello', maxTokens: 10 } });
    expect(JSON.stringify(sampled)).toContain('sampled answer');
    const logged = new Promise<string>((resolve) => client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => resolve(n.params.level)));
    await client.setLoggingLevel('debug');
    await client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    // The first log message comes with no request open: on the GET stream.
    expect(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']).toContain(await logged);

    await transport.terminateSession();
    await proxy.line((line) => line.event === 'mcp_connection_closed' && line.clientName === 'everything-client');
    const text = await metrics(proxy);
    expect(nonZero(text, 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="trigger-long-running-operation",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="trigger-sampling-request",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="logging/setLevel",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="toggle-simulated-logging",error_type="",mcp_protocol_version="2025-11-25"} 1',
    ]);
    expect(nonZero(text, 'mcp_server_sessions_closed_total')).toEqual(['mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1']);
  });

  it('holds at most --max-sessions children: the next client gets 503 with Retry-After, counted as too_many_sessions', async () => {
    const proxy = await start(['proxy', '--stdio', `${process.execPath} ${ENV_SERVER}`, '--max-sessions', '1']);
    await v1(proxy.url, 'first');
    await expect(v1(proxy.url, 'second')).rejects.toThrow(/503|Too many sessions/);
    const text = await metrics(proxy);
    expect(nonZero(text, 'mcp_server_requests_rejected_total')).toEqual(['mcp_server_requests_rejected_total{reason="too_many_sessions"} 1']);
    expect(nonZero(text, 'mcp_server_sessions_active')).toEqual(['mcp_server_sessions_active{transport="streamable_http",client_name="first"} 1']);
  });

  it('tells the child a call is cancelled when its client leaves (no stream to resume: --event-store-size 0)', async () => {
    const proxy = await start(['proxy', '--stdio', `${process.execPath} ${ENV_SERVER}`, '--event-store-size', '0']);
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(proxy.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'leaver', version: '1' } } }),
    });
    const session = { 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' };
    expect([init.status, init.headers.get('content-type'), ((await init.json()) as { result: { protocolVersion: string } }).result.protocolVersion]).toEqual([200, 'application/json', '2025-11-25']);
    await (await fetch(proxy.url, { method: 'POST', headers: { ...headers, ...session }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
    const leaving = new AbortController();
    const call = fetch(proxy.url, {
      method: 'POST',
      headers: { ...headers, ...session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 10_000 } } }),
      signal: leaving.signal,
    }).catch(() => undefined);
    // The child has the call (it says so on stderr): now the client leaves.
    await proxy.line((line) => line.event === 'upstream_stderr' && line.line === 'sleep started');
    leaving.abort();
    await call;
    const cancelled = await proxy.line((line) => line.event === 'upstream_stderr' && line.line === 'sleep cancelled');
    expect(cancelled.session).toMatch(/^[0-9a-f]+$/);
    // The call is an operation its client left pending.
    const text = await metrics(proxy);
    expect(nonZero(text, 'mcp_server_operation_duration_seconds_count').filter((line) => line.includes('tools/call'))).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="sleep",error_type="_OTHER",mcp_protocol_version="2025-11-25"} 1',
    ]);
  });
});
