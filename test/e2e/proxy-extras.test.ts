import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, useCliProcesses } from '../cli-process.js';
import { samples } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { start } = useCliProcesses();
const { sdkServer, v1 } = useTestPeers();
const dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-extras-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ENV_SERVER = fileURLToPath(new URL('../fixtures/env-stdio-server.mjs', import.meta.url));
const CRASHING_SERVER = fileURLToPath(new URL('../fixtures/crashing-stdio-server.mjs', import.meta.url));

/** Everything a user could see of the proxy's settings: its log lines, stderr and /api/mcp/status. */
async function visible(proxy: { lines: unknown[]; stderr: () => string; adminUrl: string }): Promise<string> {
  const status = await (await fetch(`${proxy.adminUrl}/api/mcp/status`)).text();
  return `${JSON.stringify(proxy.lines)}\n${proxy.stderr()}\n${status}`;
}

describe('proxy --stdio --env', () => {
  it("gives the child the variables asked for, from the flag or from the proxy's environment, and shows only their names", async () => {
    const proxy = await start(['proxy', '--stdio', `${process.execPath} ${ENV_SERVER}`, '--env', 'GIVEN_HERE=alpha-7f3e', '--env', 'FROM_PARENT'], {
      FROM_PARENT: 'beta-91c2',
      NOT_PASSED: 'gamma-0d44',
    });
    const { client } = await v1(proxy.url, 'env-client');
    const value = async (name: string) => ((await client.callTool({ name: 'env', arguments: { name } })) as { content: { text: string }[] }).content[0]?.text;
    expect([await value('GIVEN_HERE'), await value('FROM_PARENT'), await value('NOT_PASSED')]).toEqual(['alpha-7f3e', 'beta-91c2', '(unset)']);
    const status = JSON.parse(await (await fetch(`${proxy.adminUrl}/api/mcp/status`)).text()) as { config: { childEnv?: string[] } };
    expect(status.config.childEnv).toEqual(['GIVEN_HERE', 'FROM_PARENT']);
    const seen = await visible(proxy);
    for (const secret of ['alpha-7f3e', 'beta-91c2']) expect(seen).not.toContain(secret);
  });
});

describe('a stdio child that exits or cannot start', () => {
  it('is one log line with its exit code and the last lines of its stderr, and its session ends as transport_error', async () => {
    const proxy = await start(['proxy', '--stdio', `${process.execPath} ${CRASHING_SERVER}`]);
    const { client } = await v1(proxy.url, 'crash-client');
    const call = client.callTool({ name: 'crash', arguments: {} }).then(
      () => 'answered',
      (error: { code?: number; message?: string }) => [error.code, error.message],
    );
    const exit = await proxy.line((line) => line.event === 'upstream_exit' && line.session !== 'starting');
    expect([exit.level, exit.command, exit.code, exit.signal, exit.stderr, exit.msg]).toEqual([
      40,
      process.execPath,
      3,
      null,
      ['about to fail', 'reason: database unreachable'],
      `the stdio server (${process.execPath}) exited with code 3`,
    ]);
    expect(await call).toEqual([-32000, `MCP error -32000: Bad Gateway: the stdio MCP server (${process.execPath}) exited with code 3`]);
    const closed = await proxy.line((line) => line.event === 'mcp_connection_closed' && line.clientName === 'crash-client');
    expect(closed.reason).toBe('transport_error');
    // Counted; not down: the next session starts a child of its own (a check finds out whether it answers).
    const text = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    expect(samples(text, 'mcp_exporter_upstream_up')).toEqual(['mcp_exporter_upstream_up 1']);
    expect(samples(text, 'mcp_exporter_upstream_failures_total').filter((line) => !line.endsWith(' 0'))).toEqual(['mcp_exporter_upstream_failures_total{reason="child_exited"} 1']);
  });

  it('that cannot start says why in one line, and the client gets an error', async () => {
    const proxy = await start(['proxy', '--stdio', '/nonexistent/mcp-server --flag']);
    await expect(v1(proxy.url, 'doomed-client')).rejects.toThrow();
    const line = await proxy.line((l) => l.event === 'upstream_exit' && l.started === false);
    expect([line.level, line.command, line.reason, line.msg]).toEqual([40, '/nonexistent/mcp-server', 'ENOENT', 'the stdio server (/nonexistent/mcp-server) could not start: ENOENT']);
  });
});

describe('proxy --upstream --upstream-header', () => {
  it('sends the headers on every upstream request, the secret one read from a file, and shows only their names', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const { url } = await sdkServer(() => new McpServer({ name: 'up', version: '1' }), (req) => void seen.push(req.headers));
    const file = join(dir, 'api-key');
    writeFileSync(file, 'key-5b8d1e\n');
    const proxy = await start(['proxy', '--upstream', url, '--upstream-header', 'Authorization: Bearer tok-a91f', '--upstream-header-file', `X-Api-Key: ${file}`]);
    const { client, transport } = await v1(proxy.url, 'header-client');
    await client.ping();
    await transport.terminateSession();
    // The start probe, initialize, initialized, the GET stream, ping and DELETE: every one carried both.
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(seen.filter((h) => h.authorization !== 'Bearer tok-a91f' || h['x-api-key'] !== 'key-5b8d1e')).toEqual([]);
    // Every request of the client's session after its initialize names the negotiated version, as it does directly.
    const session = seen.filter((h) => h['mcp-session-id'] !== undefined);
    expect(session.length).toBeGreaterThanOrEqual(4);
    expect(session.map((h) => h['mcp-protocol-version'])).toEqual(session.map(() => '2025-11-25'));
    const status = JSON.parse(await (await fetch(`${proxy.adminUrl}/api/mcp/status`)).text()) as { config: { upstreamHeaders?: string[] } };
    expect(status.config.upstreamHeaders).toEqual(['authorization', 'x-api-key']);
    const shown = await visible(proxy);
    for (const secret of ['tok-a91f', 'key-5b8d1e']) expect(shown).not.toContain(secret);
  });

  it.each([
    [['proxy', '--stdio', 'node x.js', '--env', '1BAD'], 'mcp-exporter: --env: "1BAD" is not a variable name; use --env NAME or --env NAME=value'],
    [['proxy', '--stdio', 'node x.js', '--env', 'SURELY_NOT_SET_4711'], "mcp-exporter: --env SURELY_NOT_SET_4711: not set in mcp-exporter's environment; set it, or give --env SURELY_NOT_SET_4711=value"],
    [['proxy', '--upstream', 'http://127.0.0.1:9/mcp', '--env', 'A=b'], "mcp-exporter: --env goes with proxy --stdio: it sets the stdio child's environment"],
    [['proxy', '--stdio', 'node x.js', '--upstream-header', 'A: b'], 'mcp-exporter: --upstream-header goes with proxy --upstream'],
    [['proxy', '--upstream', 'http://127.0.0.1:9/mcp', '--upstream-header', 'no colon here'], 'mcp-exporter: --upstream-header: expected "Name: value", got a header without a valid name'],
    [['proxy', '--upstream', 'http://127.0.0.1:9/mcp', '--upstream-header', 'Mcp-Session-Id: x'], 'mcp-exporter: --upstream-header Mcp-Session-Id: the proxy sets this header itself'],
    [['proxy', '--upstream', 'http://127.0.0.1:9/mcp', '--upstream-header-file', 'X-Key: /nonexistent/secret'], 'mcp-exporter: --upstream-header-file X-Key: cannot read /nonexistent/secret (ENOENT)'],
  ])('refuses %j with one line and exit code 2', (args, message) => {
    const result = runCli(args);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 2, stdout: '', stderr: `${message}\n` });
  });
});
