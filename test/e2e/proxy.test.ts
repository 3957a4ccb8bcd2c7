import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import type { ClosedConnectionInfo } from '../../src/core/types.js';
import { httpUpstreamFactory, splitCommand, stdioServerFactory } from '../../src/proxy/relay-bridge.js';
import { connectClient, samples, scrape, useDemoServers } from '../helpers.js';

const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const everything = stdioServerFactory({ command: process.execPath, args: [EVERYTHING, 'stdio'] }, silentLogger);
const { demo, client } = useDemoServers();
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Process ids of this process's children running the everything server. */
function everythingChildren(): number[] {
  const out = spawnSync('pgrep', ['-P', String(process.pid), '-f', 'server-everything'], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);
}

describe('proxy --stdio: @modelcontextprotocol/server-everything behind the monitored host', () => {
  it('relays tools, prompts, resources and progress, with exact metrics', async () => {
    const server = await demo({ serverFactory: everything });
    expect(server.tools.map((t) => t.name)).toContain('trigger-long-running-operation');
    const earlier = new Set(everythingChildren());
    const { client: c, transport } = await client(server, 'proxied');

    expect(await c.callTool({ name: 'echo', arguments: { message: 'through the proxy' } })).toEqual({
      content: [{ type: 'text', text: 'Echo: through the proxy' }],
    });
    const progress: number[] = [];
    const long = await c.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(long.isError).not.toBe(true);
    expect(progress).toEqual([1, 2, 3]);
    const prompt = await c.getPrompt({ name: 'simple-prompt' });
    expect(prompt.messages.length).toBeGreaterThan(0);
    const resources = await c.listResources();
    const first = resources.resources[0];
    expect(first).toBeDefined();
    const read = await c.readResource({ uri: first?.uri ?? '' });
    expect(read.contents[0]?.uri).toBe(first?.uri);

    expect(everythingChildren().filter((pid) => !earlier.has(pid))).toHaveLength(1);
    await transport.terminateSession();
    const text = await scrape(server);
    expect(samples(text, 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="trigger-long-running-operation",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="prompts/get",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="resources/list",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="resources/read",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
    ]);
    expect(samples(text, 'mcp_server_sessions_closed_total')).toContain(
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1',
    );
  });

  it('relays a sampling request from the server to the client and its answer back', async () => {
    const server = await demo({ serverFactory: everything });
    const c = new Client({ name: 'sampler', version: '1' }, { capabilities: { sampling: {} } });
    const asked: string[] = [];
    c.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const content = request.params.messages[0]?.content;
      asked.push(content && 'text' in content ? String(content.text) : '');
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled answer' } };
    });
    const transport = new StreamableHTTPClientTransport(new URL(server.url));
    await c.connect(transport);
    const result = await c.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hello', maxTokens: 10 } });
    expect(asked).toEqual(['Resource trigger-sampling-request context: hello']);
    expect(JSON.stringify(result)).toContain('sampled answer');
    await transport.terminateSession();
    await c.close();
  });

  it('relays the server logging notifications on the standalone stream', async () => {
    const server = await demo({ serverFactory: everything });
    const { client: c } = await client(server, 'listener');
    const first = new Promise<{ level: string }>((resolve) => {
      c.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => resolve(notification.params));
    });
    await c.setLoggingLevel('debug');
    await c.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    // The everything server logs every few seconds; the first message arrives with no request open.
    expect(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']).toContain((await first).level);
    expect(samples(await scrape(server), 'mcp_server_operation_duration_seconds_count')).toContain(
      'mcp_server_operation_duration_seconds_count{mcp_method_name="logging/setLevel",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
    );
  });

  it('works behind the legacy SSE transport too', async () => {
    const server = await demo({ serverFactory: everything });
    const c = new Client({ name: 'sse-proxied', version: '1' });
    await c.connect(new SSEClientTransport(new URL(server.url.replace(/\/mcp$/, '/sse'))));
    expect(await c.callTool({ name: 'echo', arguments: { message: 'sse' } })).toEqual({ content: [{ type: 'text', text: 'Echo: sse' }] });
    expect(server.tracker.getConnections().map((x) => [x.transport, x.clientName])).toEqual([['sse', 'sse-proxied']]);
    await c.close();
  });

  it('one child per session; a child that dies closes its session as transport_error', async () => {
    const closed: ClosedConnectionInfo[] = [];
    let notify: () => void = () => {};
    const server = await demo({
      serverFactory: everything,
      monitor: {
        onConnectionClosed: (_id, _ms, info) => {
          closed.push(info);
          notify();
        },
      },
    });
    // Children of earlier tests and of the tool listing at start may still be exiting: count only new ones.
    const earlier = new Set(everythingChildren());
    await client(server, 'first');
    const first = everythingChildren().filter((pid) => !earlier.has(pid));
    await client(server, 'second');
    const second = everythingChildren().filter((pid) => !earlier.has(pid) && !first.includes(pid));
    expect([first.length, second.length]).toEqual([1, 1]);
    const secondChild = second[0] ?? 0;

    const gone = new Promise<void>((resolve) => (notify = resolve));
    process.kill(secondChild, 'SIGKILL');
    await gone;
    expect(closed.map((c) => [c.clientName, c.reason])).toEqual([['second', 'transport_error']]);
    expect(server.tracker.activeCount).toBe(1);
    expect(samples(await scrape(server), 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="first"} 1',
      'mcp_server_sessions_active{transport="streamable_http",client_name="second"} 0',
    ]);
  });
});

describe('proxy --upstream: an SDK Streamable HTTP server behind the monitored host', () => {
  it('gives the same results direct and through the proxy, one upstream session per client session', async () => {
    const upstream = await demo();
    const proxy = await demo({ serverFactory: httpUpstreamFactory(new URL(upstream.url), silentLogger) });
    expect(proxy.tools.map((t) => t.name)).toEqual(['echo', 'sleep', 'fail', 'throw']);

    // One client script, run direct and through the proxy.
    const script = async (url: string, name: string) => {
      const { client: c, transport } = await connectClient(url, name);
      const results = [
        (await c.listTools()).tools.map((t) => t.name),
        await c.callTool({ name: 'echo', arguments: { text: 'same' } }),
        await c.callTool({ name: 'fail', arguments: { message: 'no' } }),
        await c.callTool({ name: 'sleep', arguments: { ms: 5 } }),
        await c.listResources().catch((error: Error) => error.message),
      ];
      await transport.terminateSession();
      await c.close();
      return results;
    };
    const direct = await script(upstream.url, 'direct');
    const proxied = await script(proxy.url, 'via-proxy');
    expect(proxied).toEqual(direct);

    const proxyText = await scrape(proxy);
    expect(samples(proxyText, 'mcp_server_operation_duration_seconds_count')).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/list",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="fail",error_type="tool_error",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="sleep",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="resources/list",gen_ai_tool_name="",error_type="-32601",mcp_protocol_version="2025-11-25"} 1',
    ]);
    expect(samples(proxyText, 'mcp_server_sessions_closed_total')).toContain(
      'mcp_server_sessions_closed_total{transport="streamable_http",reason="client_delete"} 1',
    );
    // The upstream saw the direct session, the proxy's tool listing at start and the proxied session, each ended by DELETE.
    expect(upstream.tracker.totalCount).toBe(3);
    expect(upstream.tracker.activeCount).toBe(0);
    expect(upstream.history.newest().map((c) => c.reason)).toEqual(['client_delete', 'client_delete', 'client_delete']);
  });
});

describe('proxy --upstream when the upstream goes away', () => {
  it('closes the client session as transport_error at its next message', async () => {
    const upstream = await demo();
    let notify: (info: ClosedConnectionInfo) => void = () => {};
    const closed = new Promise<ClosedConnectionInfo>((resolve) => (notify = resolve));
    const proxy = await demo({
      serverFactory: httpUpstreamFactory(new URL(upstream.url), silentLogger),
      monitor: { onConnectionClosed: (_id, _ms, info) => notify(info) },
    });
    const { client: c } = await client(proxy, 'orphan');
    await upstream.close();
    void c.callTool({ name: 'echo', arguments: { text: 'anyone?' } }).catch(() => undefined);
    const info = await closed;
    expect([info.clientName, info.reason]).toEqual(['orphan', 'transport_error']);
    expect(proxy.tracker.activeCount).toBe(0);
  });
});

describe('mcp-exporter proxy', () => {
  it('serves a stdio server monitored, from the command line', async () => {
    const child = spawn(process.execPath, [CLI, 'proxy', '--port', '0', '--stdio', `"${process.execPath}" ${EVERYTHING} stdio`], {
      env: { ...process.env, MCP_PORT: '' },
    });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        const match = /"mcp":"([^"]+)"/.exec(buffer);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`proxy exited with ${code}`)));
    });
    const c = await connectClient(url, 'cli-proxied');
    expect(await c.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ type: 'text' }] });
    const metrics = await (await fetch(url.replace(/\/mcp$/, '/metrics'))).text();
    expect(metrics).toContain('\nmcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="get-sum",error_type="",mcp_protocol_version="2025-11-25"} 1\n');
    const status = (await (await fetch(url.replace(/\/mcp$/, '/api/mcp/status'))).json()) as { config: { mode: string }; toolsCount: number };
    expect(status.config.mode).toBe('proxy-stdio');
    expect(status.toolsCount).toBeGreaterThan(5);
    await c.client.close();
  });

  it.each([
    [['proxy'], 'mcp-exporter: proxy: --stdio "<command> [args]" or --upstream <url> is required, e.g. --stdio "npx -y @modelcontextprotocol/server-everything"'],
    [['proxy', '--stdio', 'node "unclosed'], 'mcp-exporter: --stdio: unclosed " quote'],
    [['serve', '--stdio', 'node x.js'], 'mcp-exporter: --stdio and --upstream go with the proxy command: mcp-exporter proxy --stdio "<command>"'],
  ])('refuses %j with one line and exit code 2', (args, message) => {
    const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 2, stdout: '', stderr: `${message}\n` });
  });

  it('splits command lines as a shell would for quotes', () => {
    expect(splitCommand(`node "a b.js" --flag='x y' plain`)).toEqual(['node', 'a b.js', '--flag=x y', 'plain']);
    expect(splitCommand('  ')).toEqual([]);
  });
});
