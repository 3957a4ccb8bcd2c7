import { createServer } from 'node:http';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createDemoServer } from '../../src/demo/demo-server.js';
import { McpMonitor } from '../../src/monitor.js';
import { startMonitoredServer } from '../../src/server.js';
import { capturingLogger, postRaw, samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { defer, listen } = useTestPeers();

/** A handler that fails before it answers. */
const failing = { fetch: async (): Promise<Response> => Promise.reject(new Error('the handler broke')) };
const MODERN_CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/list',
  params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'c', version: '1' } } },
});
const INTERNAL_ERROR = { jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null };
const LOGGED = 'error MCP request failed {"event":"mcp_request_failed","err":"the handler broke"}';

describe('one path from node:http to a fetch handler', () => {
  it('answers a failing handler the same from nodeHandler and from the hosted server: 500, -32603, one log line with its event', async () => {
    const mounted = capturingLogger();
    const monitor = new McpMonitor({ registry: new Registry(), logger: mounted.logger });
    defer(() => monitor.close());
    const base = await listen(createServer(monitor.nodeHandler(failing)));
    const viaNodeHandler = await postRaw(`${base}/mcp`, MODERN_CALL, { 'mcp-protocol-version': '2026-07-28' });

    const hosted = capturingLogger();
    const server = await startMonitoredServer({ serverFactory: createDemoServer, modernHandler: failing, port: 0, registry: new Registry(), logger: hosted.logger });
    defer(() => server.close());
    const viaHost = await postRaw(server.url, MODERN_CALL, { 'mcp-protocol-version': '2026-07-28' });

    expect([viaNodeHandler.status, await viaNodeHandler.json()]).toEqual([500, INTERNAL_ERROR]);
    expect([viaHost.status, await viaHost.json()]).toEqual([500, INTERNAL_ERROR]);
    expect(mounted.lines.filter((line) => line.startsWith('error'))).toEqual([LOGGED]);
    expect(hosted.lines.filter((line) => line.startsWith('error'))).toEqual([LOGGED]);
    // The operation is counted as the answer the client got.
    const failed = 'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/list",gen_ai_tool_name="",error_type="-32603",mcp_protocol_version="2026-07-28"} 1';
    expect(samples(await (monitor.registry as Registry).metrics(), 'mcp_server_operation_duration_seconds_count')).toEqual([failed]);
    expect(samples(await (server.registry as Registry).metrics(), 'mcp_server_operation_duration_seconds_count')).toEqual([failed]);
  });
});
