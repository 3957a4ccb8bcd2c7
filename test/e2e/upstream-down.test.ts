import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { useCliProcesses, type CliProcess, type LogLine } from '../cli-process.js';
import { seriesOf } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { sdkServer, v1, v2 } = useTestPeers();

/** A port nothing listens on (free a moment ago). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const upstreamServer = (): McpServer => {
  const server = new McpServer({ name: 'behind', version: '1' });
  server.registerTool('ping', { description: 'answers pong' }, () => ({ content: [{ type: 'text', text: 'pong' }] }));
  return server;
};

async function watched(proxy: CliProcess): Promise<{ up: string[]; failures: string[] }> {
  // Series by series, as both backends name them (the OpenTelemetry one adds its otel_scope_* labels).
  const series = [...seriesOf(await (await fetch(`${proxy.adminUrl}/metrics`)).text())].map(([key, value]) => `${key} ${value}`);
  return {
    up: series.filter((line) => line.startsWith('mcp_exporter_upstream_up{')),
    failures: series.filter((line) => line.startsWith('mcp_exporter_upstream_failures_total{') && !line.endsWith(' 0')),
  };
}

async function health(proxy: CliProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${proxy.adminUrl}/api/mcp/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function ready(proxy: CliProcess): Promise<[number, string]> {
  const res = await fetch(`${proxy.adminUrl}/-/ready`);
  return [res.status, await res.text()];
}

/** The n-th log line (1-based) with this event, written already or to come. */
const nth = (proxy: CliProcess, event: string, n: number): Promise<LogLine> =>
  proxy.line((line) => line.event === event && proxy.lines.filter((seen) => seen.event === event).indexOf(line) === n - 1);

const NOT_READY = 'mcp-exporter is not ready: the MCP server behind the proxy does not answer.\n';

describe('proxy --upstream with nothing answering behind it', () => {
  it.each(['prom-client', 'otel'])('is up 0, counted, unhealthy and not ready, and up again once a request is answered (%s)', async (backend) => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    const proxy = await start(['proxy', '--upstream', url, '--upstream-check-interval', '0', '--metrics-backend', backend]);
    const down = await nth(proxy, 'upstream_down', 1);
    expect([down.level, down.reason, down.msg]).toEqual([40, 'connection_refused', 'the MCP server behind the proxy does not answer (connection_refused)']);
    expect(await watched(proxy)).toEqual({ up: ['mcp_exporter_upstream_up{} 0'], failures: ['mcp_exporter_upstream_failures_total{reason="connection_refused"} 1'] });
    const sick = await health(proxy);
    expect(sick.status).toBe(503);
    expect(sick.body).toMatchObject({
      healthy: false,
      serverRunning: true,
      reason: 'the MCP server behind the proxy does not answer (connection_refused)',
      upstream: { up: false, reason: 'connection_refused' },
    });
    expect(await ready(proxy)).toEqual([503, NOT_READY]);

    // A client is told which server did not answer, and that is one more failure.
    await expect(v1(proxy.url, 'early-client')).rejects.toThrow(`Bad Gateway: the upstream MCP server at ${url} did not answer (ECONNREFUSED)`);
    expect((await watched(proxy)).failures).toEqual(['mcp_exporter_upstream_failures_total{reason="connection_refused"} 2']);

    // The server comes up: the next request answered makes it up, with no check (the interval is 0).
    await sdkServer(upstreamServer, () => {}, port);
    const { client } = await v1(proxy.url, 'late-client');
    expect(await client.callTool({ name: 'ping', arguments: {} })).toEqual({ content: [{ type: 'text', text: 'pong' }] });
    expect((await nth(proxy, 'upstream_up', 1)).msg).toBe('the MCP server behind the proxy answers');
    expect(await watched(proxy)).toEqual({ up: ['mcp_exporter_upstream_up{} 1'], failures: ['mcp_exporter_upstream_failures_total{reason="connection_refused"} 2'] });
    const well = await health(proxy);
    expect(well.status).toBe(200);
    expect(well.body).toMatchObject({ healthy: true, upstream: { up: true } });
    expect(well.body.reason).toBeUndefined();
    expect(await ready(proxy)).toEqual([200, 'mcp-exporter is Ready.\n']);
  });

  it('is checked while silent: up once the server answers and down once it stops, with no client and no session left on it', async () => {
    const port = await freePort();
    const methods: string[] = [];
    const proxy = await start(['proxy', '--upstream', `http://127.0.0.1:${port}/mcp`, '--upstream-check-interval', '1s']);
    await nth(proxy, 'upstream_down', 1);
    const upstream = await sdkServer(upstreamServer, (req) => void methods.push(`${req.method} ${String(req.headers['mcp-method'] ?? '')}`), port);
    await nth(proxy, 'upstream_up', 1);
    expect(await ready(proxy)).toEqual([200, 'mcp-exporter is Ready.\n']);
    // A check is one server/discover: the SDK v1 server refuses it (a 2025 server, no session), which is an answer.
    expect(methods.every((method) => method === 'POST server/discover')).toBe(true);
    expect([upstream.opened(), upstream.open()]).toEqual([0, 0]);

    await upstream.stop();
    const again = await nth(proxy, 'upstream_down', 2);
    expect(again.reason).toBe('connection_refused');
    expect((await watched(proxy)).up).toEqual(['mcp_exporter_upstream_up{} 0']);
    expect(await ready(proxy)).toEqual([503, NOT_READY]);
  });

  it('--ready-when-upstream-down true keeps /-/ready at 200; health still says why it is not healthy', async () => {
    const port = await freePort();
    const proxy = await start(['proxy', '--upstream', `http://127.0.0.1:${port}/mcp`, '--upstream-check-interval', '0', '--ready-when-upstream-down', 'true']);
    await nth(proxy, 'upstream_down', 1);
    expect(await ready(proxy)).toEqual([200, 'mcp-exporter is Ready.\n']);
    expect((await health(proxy)).status).toBe(503);
  });
});

describe('proxy --stdio with a command that cannot start', () => {
  it('is up 0 with start_failed, and each era of client is told the command and why, with an event on every log line', async () => {
    const proxy = await start(['proxy', '--stdio', 'does-not-exist-xyz --flag', '--upstream-check-interval', '0']);
    const down = await nth(proxy, 'upstream_down', 1);
    expect(down.reason).toBe('start_failed');
    expect(await watched(proxy)).toEqual({ up: ['mcp_exporter_upstream_up{} 0'], failures: ['mcp_exporter_upstream_failures_total{reason="start_failed"} 1'] });
    expect(await ready(proxy)).toEqual([503, NOT_READY]);

    const why = 'Bad Gateway: the stdio MCP server (does-not-exist-xyz) could not start: ENOENT';
    await expect(v1(proxy.url, 'v1-client')).rejects.toThrow(why);
    // The SDK v2 client says only "HTTP 502"; the answer's body says which command and why.
    await expect(v2(proxy.url, 'v2-client', { pin: '2026-07-28' })).rejects.toThrow('the server answered the probe with HTTP 502');
    const modern = await fetch(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/list',
        params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } } },
      }),
    });
    expect([modern.status, await modern.json()]).toEqual([502, { jsonrpc: '2.0', error: { code: -32000, message: why }, id: 7 }]);
    expect((await watched(proxy)).failures).toEqual(['mcp_exporter_upstream_failures_total{reason="start_failed"} 4']);
    const exits = proxy.lines.filter((line) => line.event === 'upstream_exit');
    expect(exits.length).toBeGreaterThanOrEqual(4);
    expect(exits.every((line) => line.started === false && line.reason === 'ENOENT' && line.command === 'does-not-exist-xyz')).toBe(true);
    expect(proxy.lines.filter((line) => typeof line.event !== 'string')).toEqual([]);
  });
});
