import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { postRaw, rawSession, samples, scrape, useDemoServers } from '../helpers.js';

const { demo, client } = useDemoServers();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Sends `count` requests made by `body(i)` on one session, `parallel` at a time; returns their statuses, counted. */
async function flood(url: string, headers: Record<string, string>, count: number, body: (i: number) => unknown, parallel = 32): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const res = await postRaw(url, JSON.stringify(body(i)), headers);
        await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    }),
  );
  return statuses;
}

const initialize = (name: string) => ({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name, version: '1' } },
});

const operations = async (url: string): Promise<string[]> =>
  samples(await scrape({ adminUrl: url } as never), 'mcp_server_operation_duration_seconds_count');

describe('label slots nobody can squat', () => {
  it('10,000 made-up tool names and 10,000 made-up methods take no slot: real tools and methods keep theirs', async () => {
    const server = await demo({ sessionIdleTimeoutSeconds: 0 });
    const headers = await rawSession(server.url, 'squatter');
    expect(await flood(server.url, headers, 10_000, (i) => ({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: `fake-${i}`, arguments: {} } }))).toEqual({
      200: 10_000,
    });
    expect(await flood(server.url, headers, 10_000, (i) => ({ jsonrpc: '2.0', id: i + 1, method: `bogus/${i}` }))).toEqual({ 200: 10_000 });

    const { client: real } = await client(server, 'real-client');
    await real.callTool({ name: 'echo', arguments: { text: 'mine' } });
    await real.callTool({ name: 'fail', arguments: {} });
    await real.ping();
    expect(await operations(server.adminUrl)).toEqual([
      // The squatter's raw session speaks 2025-06-18, the SDK client 2025-11-25.
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-06-18"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="tool_error",mcp_protocol_version="2025-06-18"} 10000',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="other",gen_ai_tool_name="",error_type="-32601",mcp_protocol_version="2025-06-18"} 10000',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="initialize",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="fail",error_type="tool_error",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="ping",gen_ai_tool_name="",error_type="",mcp_protocol_version="2025-11-25"} 1',
    ]);
  }, 120_000);

  it('with clientNames set, 10,000 other client names take no slot: the named clients keep theirs', async () => {
    const server = await demo({ sessionIdleTimeoutSeconds: 0, historyLimit: 10, clientNames: ['claude-code', 'cursor'] });
    expect(await flood(server.url, {}, 10_000, (i) => initialize(`junk-${i}`))).toEqual({ 200: 10_000 });
    await client(server, 'cursor');
    await client(server, 'claude-code');
    await client(server, 'claude-code');
    const text = await scrape(server);
    expect(samples(text, 'mcp_server_sessions_active')).toEqual([
      'mcp_server_sessions_active{transport="streamable_http",client_name="other"} 10000',
      'mcp_server_sessions_active{transport="streamable_http",client_name="cursor"} 1',
      'mcp_server_sessions_active{transport="streamable_http",client_name="claude-code"} 2',
    ]);
    expect(samples(text, 'mcp_server_sessions_total')).toHaveLength(3);
    // The API still shows each session's own (bounded) name.
    expect(server.tracker.getConnections(0, 1)[0]?.clientName).toMatch(/^junk-\d+$/);
  }, 120_000);

  it('learns a tool the server adds later from its first answer without an error, or from a tools/list answer', async () => {
    const server = await demo({
      serverFactory: () => {
        const mcp = new McpServer({ name: 'growing', version: '1.0.0' });
        mcp.registerTool('grow', { inputSchema: {} }, async () => {
          // Registering on a connected server sends notifications/tools/list_changed.
          mcp.registerTool('grown', { inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'grown' }] }));
          mcp.registerTool('shaky', { inputSchema: { ok: z.boolean() } }, async ({ ok }) => ({ isError: !ok, content: [] }));
          return { content: [{ type: 'text', text: 'added' }] };
        });
        return mcp;
      },
    });
    const { client: c } = await client(server, 'grower');
    await c.callTool({ name: 'grow', arguments: {} });
    // Answered without an error before any list named it: only a real tool is, so it is learnt.
    expect(await c.callTool({ name: 'grown', arguments: {} })).toEqual({ content: [{ type: 'text', text: 'grown' }] });
    // Answered with a tool error, as a made-up name would be: not learnt...
    expect((await c.callTool({ name: 'shaky', arguments: { ok: false } })).isError).toBe(true);
    // ...until a tools/list answer names it.
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['grow', 'grown', 'shaky']);
    await c.callTool({ name: 'shaky', arguments: { ok: false } });
    expect((await operations(server.adminUrl)).filter((line) => line.includes('tools/call'))).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="grow",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="grown",error_type="",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="tool_error",mcp_protocol_version="2025-11-25"} 1',
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="shaky",error_type="tool_error",mcp_protocol_version="2025-11-25"} 1',
    ]);
  });

  it('100 KB tool and client names leave /metrics and the heap where they were', async () => {
    const server = await demo({ sessionIdleTimeoutSeconds: 0 });
    const huge = (tag: string, i: number): string => `${tag}-${i}-${'x'.repeat(100 * 1024)}`;
    const attack = async (tag: string): Promise<void> => {
      const headers = await rawSession(server.url, tag);
      await flood(server.url, headers, 100, (i) => ({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: huge(tag, i), arguments: {} } }), 4);
      // Sessions that end, so the SDK lets go of their initialize request: only what monitoring keeps stays.
      for (let i = 0; i < 20; i++) {
        const init = await postRaw(server.url, JSON.stringify(initialize(huge(tag, i))));
        await init.text();
        const ended = await fetch(server.url, { method: 'DELETE', headers: { 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-06-18' } });
        expect(ended.status).toBe(200);
      }
    };
    // A first round with 100 KB names makes the series and code paths that any round makes.
    await attack('warm');
    const before = await scrape(server);
    gc();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    await attack('hot');
    gc();
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    const after = await scrape(server);

    // The first round's client names took the 20 client_name slots (cut to 128 characters); this
    // round's count as other. No line grows long.
    expect(Math.max(...after.split('\n').map((line) => line.length))).toBeLessThan(400);
    expect(after.length - before.length).toBeLessThan(1024);
    // 120 names of 100 KB went through; keeping them (or their requests) would hold 12 MB, and
    // keeping the 20 client names of the history alone 2 MB.
    expect(heapGrowth).toBeLessThan(1024 * 1024);
    expect(samples(after, 'mcp_server_operation_duration_seconds_count').filter((line) => line.includes('gen_ai_tool_name="other"'))).toEqual([
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="other",error_type="tool_error",mcp_protocol_version="2025-06-18"} 200',
    ]);
    const names = server.history.newest().map((c) => c.clientName);
    expect(names.filter((name) => name.startsWith('hot-')).map((name) => name.length)).toEqual(new Array(20).fill(128));
  }, 60_000);
});
